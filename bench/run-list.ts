import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { pino } from 'pino';
import { createLocalArtifactStore } from '@pipewright/artifacts';
import { startApi } from '@pipewright/api';
import { REDIS_URL, type BenchContext, type ResultRow } from './support/context.ts';
import { benchPool, createBenchDatabase, openBenchDatabase } from './support/databases.ts';
import { benchPrefix } from './support/redis.ts';
import { ms, num, summarize } from './support/stats.ts';

const STAGES_PER_RUN = 10;
/** The big tables: a sequential scan of any of them fails the figure. */
const BIG_TABLES = new Set(['runs', 'stage_runs', 'attempts', 'artifacts']);

/**
 * Run list and run detail over 1,000,000 stage rows: a dedicated database migrated with
 * migrateDatabase, filled with generate_series (100,000 runs of 10 stages, a realistic mix of
 * statuses, an attempt per started stage and an artifact per succeeded stage), then
 * `GET /v1/runs?status=FAILED` (first pages, following cursors) and `GET /v1/runs/{id}` through
 * the API over HTTP (in this process, one keep-alive connection: latency, not throughput), and
 * EXPLAIN ANALYZE of every query the API ran, captured from drizzle's logger.
 */
export async function runList(ctx: BenchContext): Promise<ResultRow[]> {
  const runsCount = ctx.options.quick ? 10_000 : 100_000;
  const requests = ctx.options.quick ? 100 : 300;
  const database = await createBenchDatabase(ctx, 'runlist');
  const pool = benchPool(ctx, database, 2);
  const t0 = performance.now();
  await generate(pool, runsCount);
  const counts = (await pool.query<{ runs: string; stages: string; attempts: string; artifacts: string; failed: string }>(
    `select (select count(*) from runs) as runs, (select count(*) from stage_runs) as stages, (select count(*) from attempts) as attempts,
            (select count(*) from artifacts) as artifacts, (select count(*) from runs where status = 'FAILED') as failed`,
  )).rows[0]!;
  const loadSeconds = (performance.now() - t0) / 1000;
  ctx.log(`generated ${num(Number(counts.runs))} runs, ${num(Number(counts.stages))} stage rows, ${num(Number(counts.attempts))} attempts, ${num(Number(counts.artifacts))} artifacts in ${loadSeconds.toFixed(0)} s`);

  // The API, with every statement it sends captured for EXPLAIN.
  const captured = new Map<string, { sql: string; params: unknown[]; route: string }>();
  let route = '';
  const handle = await openBenchDatabase(ctx, database, {
    poolSize: 10,
    logger: { logQuery: (sql, params) => void (route && !captured.has(`${route}\u0000${sql}`) && captured.set(`${route}\u0000${sql}`, { sql, params, route })) },
  });
  const root = await mkdtemp(join(tmpdir(), 'pw-bench-'));
  ctx.defer(`remove ${root}`, () => rm(root, { recursive: true, force: true }));
  const prefix = benchPrefix(ctx, 'runlist');
  const api = await startApi({ database: handle, redisUrl: REDIS_URL, prefix, store: createLocalArtifactStore({ root }), logger: pino({ level: 'silent' }), host: '127.0.0.1', port: 0, relayOnSubmit: false });
  ctx.defer('stop api', () => api.close());

  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  ctx.defer('destroy http agent', () => agent.destroy());
  const get = (path: string) =>
    new Promise<{ status: number; body: string; ms: number }>((resolve, reject) => {
      const start = performance.now();
      const url = new URL(path, api.url);
      const req = request({ host: url.hostname, port: url.port, path: url.pathname + url.search, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - start }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });

  // Run ids to open: a spread over time and statuses.
  const { rows: sample } = await pool.query<{ id: string }>(`select id from runs order by random() limit 500`);
  const ids = sample.map((r) => r.id);
  if (ids.length === 0) throw new Error('no runs sampled');

  const listMs: number[] = [];
  const detailMs: number[] = [];
  const warmup = 30;
  let cursor: string | null = null;
  let pages = 0;
  for (let i = 0; i < warmup + requests; i += 1) {
    ctx.check();
    // Mostly the first page (what the dashboard opens), every fourth request the next page.
    const useCursor = i % 4 === 3 && cursor !== null;
    route = useCursor ? 'list (next page)' : 'list';
    const list = await get(`/v1/runs?status=FAILED${useCursor ? `&cursor=${cursor}` : ''}`);
    if (list.status !== 200) throw new Error(`list answered ${list.status}: ${list.body.slice(0, 300)}`);
    const page = JSON.parse(list.body) as { items: { status: string }[]; nextCursor: string | null };
    if (page.items.some((r) => r.status !== 'FAILED')) throw new Error('list returned a run that is not FAILED');
    cursor = page.nextCursor;
    if (useCursor) pages += 1;
    route = 'detail';
    const detail = await get(`/v1/runs/${ids[i % ids.length]}`);
    if (detail.status !== 200) throw new Error(`detail answered ${detail.status}: ${detail.body.slice(0, 300)}`);
    const run = JSON.parse(detail.body) as { stages: unknown[] };
    if (run.stages.length !== STAGES_PER_RUN) throw new Error(`detail has ${run.stages.length} stages`);
    route = '';
    if (i >= warmup) {
      listMs.push(list.ms);
      detailMs.push(detail.ms);
    }
  }
  const list = summarize(listMs);
  const detail = summarize(detailMs);

  // EXPLAIN ANALYZE every distinct statement the two routes ran.
  const plans: { route: string; summary: string; seqScanOnBigTable: boolean; execMs: number }[] = [];
  for (const { sql, params, route: r } of captured.values()) {
    const { rows } = await pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode; 'Execution Time': number }] }>(`explain (analyze, buffers, format json) ${sql}`, params as unknown[]);
    const top = rows[0]!['QUERY PLAN'][0];
    const nodes: PlanNode[] = [];
    walk(top.Plan, nodes);
    const scans = nodes.filter((n) => n['Relation Name'] !== undefined);
    const seqScanOnBigTable = scans.some((n) => n['Node Type'] === 'Seq Scan' && BIG_TABLES.has(n['Relation Name']!));
    const table = /from "(\w+)"/.exec(sql)?.[1] ?? '?';
    plans.push({
      route: r,
      execMs: top['Execution Time'],
      seqScanOnBigTable,
      summary: `${r} ${table}: ${nodes.map((n) => n['Node Type'] + (n['Scan Direction'] === 'Backward' ? ' Backward' : '') + (n['Index Name'] ? ` using ${n['Index Name']}` : n['Relation Name'] ? ` on ${n['Relation Name']}` : '')).join(' > ')} (${ms(top['Execution Time'])})`,
    });
  }
  const listPlans = plans.filter((p) => p.route.startsWith('list'));
  const detailPlans = plans.filter((p) => p.route === 'detail');
  const indexOnly = (ps: typeof plans) => ps.length > 0 && ps.every((p) => !p.seqScanOnBigTable);
  const execSum = (ps: typeof plans) => ps.reduce((a, p) => a + p.execMs, 0);
  ctx.log(`list p50 ${ms(list.p50)} p99 ${ms(list.p99)}; detail p50 ${ms(detail.p50)} p99 ${ms(detail.p99)}`);
  for (const p of plans) ctx.log(`plan ${p.summary}`);

  const scale = `${num(Number(counts.stages))} stage rows`;
  return [
    {
      figure: `run list GET /v1/runs?status=FAILED p99 (${scale})`,
      pipewright: ms(list.p99),
      baseline: `${ms(Math.max(...listPlans.map((p) => p.execMs)))} in Postgres; ${indexOnly(listPlans) ? 'index scans' : 'SEQ SCAN'}`,
      goal: '<= 50 ms, index scan',
      pass: list.p99 <= 50 && indexOnly(listPlans),
      notes: [
        `run list: ${num(Number(counts.runs))} runs (${num(Number(counts.failed))} FAILED), ${scale}, ${num(Number(counts.attempts))} attempts, ${num(Number(counts.artifacts))} artifacts generated in ${loadSeconds.toFixed(0)} s; ${requests} sequential requests each after ${warmup} warm-up (${pages} of the list requests followed a cursor); list p50 ${ms(list.p50)}, detail p50 ${ms(detail.p50)}`,
        ...plans.map((p) => `plan (EXPLAIN ANALYZE): ${p.summary}`),
      ],
    },
    {
      figure: 'run detail GET /v1/runs/{id} p99',
      pipewright: ms(detail.p99),
      baseline: `${ms(execSum(detailPlans))} in Postgres; ${indexOnly(detailPlans) ? 'index scans' : 'SEQ SCAN'}`,
      goal: '<= 50 ms, index scan',
      pass: detail.p99 <= 50 && indexOnly(detailPlans),
    },
  ];
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Scan Direction'?: string;
  Plans?: PlanNode[];
}

function walk(node: PlanNode, out: PlanNode[]): void {
  out.push(node);
  for (const child of node.Plans ?? []) walk(child, out);
}

/**
 * Fills the migrated schema with `runsCount` runs of 10 chained stages. Statuses (by a hash of
 * the run number): 80% SUCCEEDED (a fifth of them with their first stage CACHED, linking an
 * earlier run's artifact), 10% FAILED (a stage failed, later ones SKIPPED), 5% CANCELED,
 * 3% RUNNING, 2% QUEUED; runs are 30 s apart, newest last. Foreign-key triggers are off during
 * the load (the rows are consistent by construction); then ANALYZE.
 */
export async function generate(pool: pg.Pool, runsCount: number): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query(`set session_replication_role = replica`);
    await client.query(`set synchronous_commit = off`);
    await client.query(`set maintenance_work_mem = '256MB'`);
    // Deterministic ids that are valid v4 UUIDs (the API validates the version and variant).
    await client.query(`create function pg_temp.uid(text) returns uuid language sql immutable as $$ select overlay(overlay(md5($1) placing '4' from 13) placing '8' from 17)::uuid $$`);
    await client.query(
      `insert into pipelines (id, name, version, spec_digest, spec, created_at)
       select pg_temp.uid('p' || p), 'bench-pipeline-' || p, 1, 'sha256:' || md5('p' || p), '{}'::jsonb, now() - interval '400 days'
         from generate_series(0, 9) p`,
    );
    await client.query(
      `create temp table shape as
       select i, pg_temp.uid('r' || i) as run_id, h % 100 as bucket, h % ${STAGES_PER_RUN} as f,
              now() - (${runsCount} - i) * interval '30 seconds' as created_at
         from generate_series(0, ${runsCount - 1}) i, lateral (select abs(hashint4(i)) as h) x`,
    );
    await client.query(
      `alter table shape add column status text;
       update shape set status = case when bucket < 80 then 'SUCCEEDED' when bucket < 90 then 'FAILED' when bucket < 95 then 'CANCELED' when bucket < 98 then 'RUNNING' else 'QUEUED' end`,
    );
    await client.query(
      `insert into runs (id, pipeline_id, pipeline_name, status, params, error, created_at, started_at, finished_at, updated_at)
       select run_id, pg_temp.uid('p' || (i % 10)), 'bench-pipeline-' || (i % 10), status, '{"testSize": 0.3}'::jsonb,
              case when status = 'FAILED' then '{"code": "PW_ERR_TEST_FAILURE"}'::jsonb end,
              created_at,
              case when status <> 'QUEUED' then created_at + interval '1 second' end,
              case when status in ('SUCCEEDED', 'FAILED', 'CANCELED') then created_at + interval '25 seconds' end,
              created_at + interval '25 seconds'
         from shape`,
    );
    // Per stage k of a run: its status given the run's status and failure point f.
    await client.query(
      `insert into stage_runs (id, run_id, stage_key, position, uses, family, needs, inputs, outputs, params, resource_class, gpu, retry, timeout_ms, cache_enabled,
                               status, attempt_count, metrics, error, output_artifact_ids, created_at, queued_at, started_at, finished_at)
       select sid.id, s.run_id, 's' || k, k, 'util.noop@1', 'util',
              case when k = 0 then '[]'::jsonb else jsonb_build_array('s' || (k - 1)) end,
              '{}'::jsonb, '{"out": "json"}'::jsonb, '{"sleepMs": 0}'::jsonb, 'cpu', 0,
              '{"attempts": 1, "backoff": "exponential", "delayMs": 1000, "maxDelayMs": 60000, "jitter": true}'::jsonb, 3600000, true,
              st.status, case when st.status in ('PENDING', 'SKIPPED', 'CACHED') or (st.status = 'CANCELED' and k > s.f) then 0 else 1 end,
              case when st.status in ('SUCCEEDED', 'CACHED') then '{"attempt": 1}'::jsonb end,
              case when st.status = 'FAILED' then '{"kind": "application", "code": "PW_ERR_TEST_FAILURE", "message": "failing on purpose", "retryable": false}'::jsonb end,
              -- A succeeded stage's output is its own artifact; a CACHED one links the artifact of stage s0 of an earlier run.
              case when st.status = 'SUCCEEDED' then jsonb_build_object('out', pg_temp.uid('o' || sid.id::text))
                   when st.status = 'CACHED' then jsonb_build_object('out', pg_temp.uid('o' || pg_temp.uid('s' || src.i || '-0')::text)) end,
              s.created_at,
              case when st.status not in ('PENDING', 'SKIPPED') then s.created_at + k * interval '2 seconds' end,
              case when st.status in ('SUCCEEDED', 'FAILED', 'RUNNING') then s.created_at + k * interval '2 seconds' + interval '100 ms' end,
              case when st.status in ('SUCCEEDED', 'CACHED', 'FAILED', 'SKIPPED', 'CANCELED') then s.created_at + k * interval '2 seconds' + interval '1 second' end
         from shape s cross join generate_series(0, ${STAGES_PER_RUN - 1}) k
              cross join (select min(i) as i from shape where bucket between 16 and 79) src,
              lateral (select pg_temp.uid('s' || s.i || '-' || k) as id) sid,
              lateral (select case
                when s.status = 'SUCCEEDED' then case when k = 0 and s.bucket < 16 and s.i > src.i then 'CACHED' else 'SUCCEEDED' end
                when s.status = 'QUEUED' then case when k = 0 then 'QUEUED' else 'PENDING' end
                when k < s.f then 'SUCCEEDED'
                when s.status = 'FAILED' then case when k = s.f then 'FAILED' else 'SKIPPED' end
                when s.status = 'CANCELED' then 'CANCELED'
                else case when k = s.f then 'RUNNING' else 'PENDING' end end as status) st`,
    );
    await client.query(
      `insert into attempts (id, stage_run_id, run_id, number, status, queue, job_id, worker_id, host, backend, error, resource_use, queued_at, started_at, finished_at)
       select pg_temp.uid('a' || id::text), id, run_id, 1, status, 'stage-util-cpu', id::text || '.1',
              case when started_at is not null then 'worker-bench-1' end, case when started_at is not null then 'bench-host' end, null, error,
              case when finished_at is not null then '{"cpuUserMs": 3, "cpuSystemMs": 1, "peakRssBytes": 120000000, "wallMs": 5}'::jsonb end,
              queued_at, started_at, case when status <> 'RUNNING' then finished_at end
         from stage_runs where attempt_count = 1`,
    );
    await client.query(
      `insert into artifacts (id, run_id, produced_by_stage_run_id, produced_by_attempt_id, output_name, type, digest, uri, media_type, size_bytes, created_at)
       select pg_temp.uid('o' || id::text), run_id, id, pg_temp.uid('a' || id::text), 'out', 'json', 'sha256:' || md5(id::text) || md5(run_id::text),
              'file://artifacts/' || md5(id::text), 'application/json', 120, finished_at
         from stage_runs where status = 'SUCCEEDED'`,
    );
    await client.query(`drop table shape`);
    await client.query(`set session_replication_role = origin`);
    await client.query(`analyze`);
  } finally {
    client.release();
  }
}
