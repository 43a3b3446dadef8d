import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import type pg from 'pg';
import { SERVER_URL, sleep, type BenchContext, type ResultRow } from './support/context.ts';
import { createBenchDatabase } from './support/databases.ts';
import { tenStageSpec } from './support/pipelines.ts';
import { cpuMsOf, serverCpuMs } from './support/processes.ts';
import { startPipewright, submit } from './support/stack.ts';
import { num } from './support/stats.ts';

const exec = promisify(execFile);

/**
 * Sustained throughput: no-op stages applied per second over the window, with the API, the
 * orchestrator and 2 workers as separate processes, and many runs in flight (one driver lane per
 * run in flight submits a run of the 10-stage pipeline as soon as its previous one ended).
 * Baseline: pgbench simple-update (-N) with 4 clients on the same Postgres for the same duration.
 */
export async function throughput(ctx: BenchContext): Promise<ResultRow[]> {
  const seconds = ctx.options.quick ? 20 : 60;
  // Diagnostic knobs. In flight (2026-11-28, one 60 s run each): 32 -> 1,122 stages/s, 64 -> 1,201,
  // 128 -> 1,531, 256 -> 1,540 (a run then takes 1.35 s instead of 0.66): 128 is where the two
  // cores saturate. Worker concurrency 16 instead of 4 measured the same (1,535).
  const inFlight = Number(process.env.PW_BENCH_IN_FLIGHT ?? 128);
  const workerConcurrency = Number(process.env.PW_BENCH_WORKER_CONCURRENCY ?? 4);

  const pgb = await pgbench(ctx, seconds);
  ctx.log(`pgbench -N -c 4: ${num(pgb.tps)} tps`);

  const stack = await startPipewright(ctx, { label: 'tput', layout: 'procs', workers: 2, workerConcurrency });
  const spec = tenStageSpec('bench-throughput');
  let submitted = 0;
  let failedSubmits = 0;
  let stop = false;
  // Each lane keeps one run in flight: it submits, waits for the run to end, and submits the next,
  // so IN_FLIGHT runs are in the system all the time (a driver that topped up in sequence and
  // looked for ended runs every 100 ms kept only ~9 of 32 running). One query every 20 ms ends
  // the wait of every lane whose run ended.
  const waiting = new Map<string, () => void>();
  const lane = async () => {
    while (!stop) {
      let runId: string;
      try {
        runId = await submit(stack.url, spec);
        submitted += 1;
      } catch {
        failedSubmits += 1;
        await sleep(100);
        continue;
      }
      if (stop) break;
      await new Promise<void>((resolve) => waiting.set(runId, resolve));
    }
  };
  const lanes = Array.from({ length: inFlight }, lane);
  const watcher = (async () => {
    while (!stop) {
      await sleep(20);
      if (waiting.size === 0) continue;
      const { rows } = await stack.pool.query<{ id: string }>(`select id from runs where id = any($1::uuid[]) and status in ('SUCCEEDED','FAILED','CANCELED')`, [[...waiting.keys()]]);
      for (const r of rows) {
        waiting.get(r.id)?.();
        waiting.delete(r.id);
      }
    }
    for (const release of waiting.values()) release();
  })();
  const driver = Promise.all([watcher, ...lanes]);

  const count = async (p: pg.Pool) => Number((await p.query<{ n: string }>(`select count(*) as n from stage_runs where status = 'SUCCEEDED'`)).rows[0]!.n);
  const warmup = ctx.options.quick ? 3 : 5;
  await sleep(warmup * 1000);
  const pids = stack.processes.map((p) => ({ name: p.name, pid: p.pid }));
  const cpu0 = await Promise.all(pids.map((p) => cpuMsOf(p.pid)));
  const servers0 = await serverCpuMs();
  const driver0 = process.cpuUsage();
  const n0 = await count(stack.pool);
  const t0 = Date.now();
  const sampling = sampleActivity(stack.pool, stack.database.name, () => Date.now() - t0 >= seconds * 1000);
  await sleep(seconds * 1000);
  const n1 = await count(stack.pool);
  const activity = await sampling;
  const t1 = Date.now();
  const cpu1 = await Promise.all(pids.map((p) => cpuMsOf(p.pid)));
  const servers1 = await serverCpuMs();
  const driver1 = process.cpuUsage(driver0);
  stop = true;
  await driver;
  const { rows: failed } = await stack.pool.query<{ n: string }>(`select count(*) as n from runs where status = 'FAILED'`);
  const rate = ((n1 - n0) * 1000) / (t1 - t0);
  // Where a stage's time goes (attempt timestamps; queued_at is the orchestrator's clock at enqueue).
  const { rows: phases } = await stack.pool.query<{ wait: number; work: number; run: number }>(
    `select avg(extract(epoch from a.started_at - a.queued_at) * 1000)::float8 as wait,
            avg(extract(epoch from a.finished_at - a.started_at) * 1000)::float8 as work,
            (select avg(extract(epoch from finished_at - created_at) * 1000) from runs where finished_at is not null)::float8 as run
       from attempts a where a.finished_at is not null`,
  );
  const phase = phases[0]!;
  ctx.log(`pipewright: ${num(rate)} stages/s (${submitted} runs submitted, ${failedSubmits} submit errors, ${failed[0]!.n} runs failed)`);
  const share = (ms: number) => `${((ms / (t1 - t0)) * 100).toFixed(0)}%`;
  // Everything on the machine that works for the benchmark: the two cores' budget is 200 %.
  const cpuShare = [
    ...pids.map((p, i) => `${p.name} ${share(cpu1[i]! - cpu0[i]!)}`),
    `postgres ${share(servers1.postgres - servers0.postgres)}`,
    `redis ${share(servers1.redis - servers0.redis)}`,
    `the load driver (this process) ${share((driver1.user + driver1.system) / 1000)}`,
  ].join(', ');
  const ratio = rate / pgb.tps;
  return [
    {
      figure: `sustained throughput (${seconds} s)`,
      pipewright: `${num(rate)} stages/s`,
      baseline: `${num(pgb.tps)} tps (pgbench -N -c 4)`,
      ratio,
      goal: '>= 1.0',
      pass: ratio >= 1,
      notes: [
        `throughput: API, orchestrator and 2 workers (concurrency ${workerConcurrency}) as separate processes, ${inFlight} runs of the 10-stage pipeline (root -> 8 -> join) kept in flight; stages counted as SUCCEEDED rows applied during the window; CPU of one core used: ${cpuShare}`,
        `throughput: Postgres sessions of the services, on average over the window: ${activity}`,
        `throughput: a run took ${num(phase.run)} ms on average; a stage waited ${num(phase.wait)} ms from enqueue (orchestrator) to worker start and ran ${num(phase.work)} ms in the worker (worker-reported start -> finish)`,
      ],
    },
  ];
}

/**
 * Samples pg_stat_activity of the database every 100 ms: how many sessions are running a
 * statement, waiting on a lock, or idle in a transaction (waiting for the client's next statement).
 */
async function sampleActivity(pool: pg.Pool, database: string, done: () => boolean): Promise<string> {
  const totals = new Map<string, number>();
  let samples = 0;
  while (!done()) {
    const { rows } = await pool.query<{ what: string; n: number }>(
      `select case when state = 'active' and wait_event_type = 'Lock' then 'waiting on a lock (' || wait_event || ')'
                   when state = 'active' then 'running a statement'
                   when state = 'idle in transaction' then 'idle in transaction (client round trip)'
                   else state end as what, count(*)::int as n
         from pg_stat_activity where datname = $1 and pid <> pg_backend_pid() and state is not null and state <> 'idle'
        group by 1`,
      [database],
    );
    samples += 1;
    for (const r of rows) totals.set(r.what, (totals.get(r.what) ?? 0) + r.n);
    await sleep(100);
  }
  return [...totals].sort((a, b) => b[1] - a[1]).map(([what, n]) => `${(n / Math.max(1, samples)).toFixed(2)} ${what}`).join(', ') || 'none';
}

/** pgbench -N (simple update) with 4 clients on a fresh database of the same server. */
async function pgbench(ctx: BenchContext, seconds: number): Promise<{ tps: number }> {
  const binary = findPgbench();
  const db = await createBenchDatabase(ctx, 'pgbench', { migrate: false });
  const url = new URL(SERVER_URL);
  const conn = ['-h', url.hostname, '-p', url.port || '5432', '-U', decodeURIComponent(url.username || 'postgres')];
  await exec(binary, ['-i', '-q', '-s', '10', ...conn, db.name], { timeout: 120_000 });
  const { stdout } = await exec(binary, ['-n', '-N', '-c', '4', '-j', '2', '-T', String(seconds), ...conn, db.name], { timeout: (seconds + 60) * 1000 });
  const match = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout) ?? /tps = ([\d.]+)/.exec(stdout);
  if (!match) throw new Error(`could not read pgbench output:\n${stdout}`);
  return { tps: Number(match[1]) };
}

function findPgbench(): string {
  for (const candidate of ['/usr/bin/pgbench', ...['17', '16', '15', '14', '13'].map((v) => `/usr/lib/postgresql/${v}/bin/pgbench`)]) {
    if (existsSync(candidate)) return candidate;
  }
  return 'pgbench';
}
