import { performance } from 'node:perf_hooks';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { REDIS_URL, type BenchContext, type ResultRow } from './support/context.ts';
import { benchPool, createBenchDatabase } from './support/databases.ts';
import { chainSpec } from './support/pipelines.ts';
import { benchPrefix } from './support/redis.ts';
import { startPipewright, submit, waitRunEnded, type PipewrightStack } from './support/stack.ts';
import { ms, summarize } from './support/stats.ts';

const now = () => performance.timeOrigin + performance.now();

/**
 * Hop latency: a chain of util.noop@1 stages (needs only). One hop = stage N's worker reported
 * it finished (attempt.finished_at) -> stage N+1's worker started it (attempt.started_at): the
 * succeeded event through Redis, the orchestrator's apply transaction, the outbox relay, the
 * BullMQ add and the worker's pick-up. Baseline: raw BullMQ, where each job's handler commits one
 * Postgres UPDATE+INSERT transaction and then adds the next job; one hop = handler N started ->
 * handler N+1 started (the handler does no other work).
 */
export async function hopLatency(ctx: BenchContext): Promise<ResultRow[]> {
  const length = 100;
  const reps = ctx.options.quick ? 1 : 3;
  const stack = await startPipewright(ctx, { label: 'hop', layout: ctx.options.layout, workers: 2 });
  const baseline = await startBullChain(ctx);

  // A warm-up as long as a measured chain, for both: V8 optimizes the hot paths before they count.
  ctx.log(`warm-up (layout ${ctx.options.layout})`);
  await pipewrightChain(ctx, stack, length);
  await baseline.chain(length);

  const pw: Hop[] = [];
  const bull: number[] = [];
  const walls: number[] = [];
  for (let r = 0; r < reps; r += 1) {
    const result = await pipewrightChain(ctx, stack, length);
    pw.push(...result.hops);
    walls.push(result.wallPerStageMs);
    bull.push(...(await baseline.chain(length)));
    ctx.log(`rep ${r + 1}/${reps}: pipewright p50 ${ms(summarize(result.hops.map((h) => h.total)).p50)}, bullmq+pg p50 ${ms(summarize(bull.slice(-(length - 1))).p50)}`);
  }

  const total = summarize(pw.map((h) => h.total));
  const apply = summarize(pw.map((h) => h.toApplied));
  const dispatch = summarize(pw.map((h) => h.toStarted));
  const base = summarize(bull);
  const notes = [
    `hop latency: ${reps} x ${length}-stage chain, ${pw.length} hops; services ${ctx.options.layout === 'inproc' ? 'in one process (start* functions)' : 'as separate processes'}, 2 workers (concurrency 1); timestamps are the attempts' (ms resolution)`,
    `hop breakdown p50/p99: finished -> next attempt created (event through Redis + orchestrator apply) ${ms(apply.p50)} / ${ms(apply.p99)}; created -> worker started (commit, outbox relay, BullMQ add, pick-up) ${ms(dispatch.p50)} / ${ms(dispatch.p99)}`,
    `hop latency: wall time / stage (submit -> run SUCCEEDED) ${ms(summarize(walls).p50)}; baseline hops p50/p99/max ${ms(base.p50)} / ${ms(base.p99)} / ${ms(base.max)}`,
  ];
  return [
    { figure: 'hop latency p50 (100-stage chain)', pipewright: ms(total.p50), baseline: `${ms(base.p50)} (BullMQ + pg tx)`, ratio: total.p50 / base.p50, goal: '<= 1.5', pass: total.p50 / base.p50 <= 1.5, notes },
    { figure: 'hop latency p99', pipewright: ms(total.p99), baseline: ms(base.p99), ratio: total.p99 / base.p99, goal: '<= 2', pass: total.p99 / base.p99 <= 2 },
  ];
}

interface Hop {
  total: number;
  toApplied: number;
  toStarted: number;
}

export async function pipewrightChain(ctx: BenchContext, stack: PipewrightStack, length: number): Promise<{ hops: Hop[]; wallPerStageMs: number }> {
  const runId = await submit(stack.url, chainSpec(length));
  const ended = await waitRunEnded(ctx, stack.pool, runId, 120_000);
  if (ended.status !== 'SUCCEEDED') throw new Error(`chain run ${runId} ended ${ended.status}`);
  const { rows } = await stack.pool.query<{ queued_at: Date; started_at: Date; finished_at: Date }>(
    `select a.queued_at, a.started_at, a.finished_at
       from stage_runs s join attempts a on a.stage_run_id = s.id and a.number = s.attempt_count
      where s.run_id = $1 order by s.position`,
    [runId],
  );
  if (rows.length !== length) throw new Error(`chain run ${runId}: ${rows.length} attempts, expected ${length}`);
  const hops: Hop[] = [];
  for (let i = 0; i + 1 < rows.length; i += 1) {
    const done = rows[i]!.finished_at.getTime();
    const next = rows[i + 1]!;
    hops.push({ total: next.started_at.getTime() - done, toApplied: next.queued_at.getTime() - done, toStarted: next.started_at.getTime() - next.queued_at.getTime() });
  }
  return { hops, wallPerStageMs: (ended.finishedAt.getTime() - ended.createdAt.getTime()) / length };
}

/** The raw BullMQ + Postgres chain: 2 workers (concurrency 1), one UPDATE+INSERT transaction per hop. */
async function startBullChain(ctx: BenchContext) {
  const database = await createBenchDatabase(ctx, 'hopbase', { migrate: false });
  const pool: pg.Pool = benchPool(ctx, database, 4);
  await pool.query(`create table chain (id text primary key, position int not null, updated_at timestamptz not null default now())`);
  await pool.query(`create table hop (chain_id text not null, n int not null, at timestamptz not null default now(), primary key (chain_id, n))`);
  const prefix = benchPrefix(ctx, 'hopbull');
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  ctx.defer('close baseline redis', () => connection.disconnect());
  const queue = new Queue('hop', { connection, prefix });
  ctx.defer('close baseline queue', () => queue.close());

  const chains = new Map<string, { starts: number[]; length: number; done(): void }>();
  const handler = async (job: { data: { chain: string; n: number } }) => {
    const at = now();
    const { chain, n } = job.data;
    const state = chains.get(chain);
    if (!state) return;
    state.starts[n] = at;
    if (n + 1 >= state.length) {
      state.done();
      return;
    }
    const client = await pool.connect();
    try {
      await client.query('begin');
      await client.query('update chain set position = $2, updated_at = now() where id = $1', [chain, n + 1]);
      await client.query('insert into hop (chain_id, n) values ($1, $2)', [chain, n + 1]);
      await client.query('commit');
    } finally {
      client.release();
    }
    await queue.add('hop', { chain, n: n + 1 }, { jobId: `${chain}.${n + 1}`, removeOnComplete: { age: 3600 }, removeOnFail: { age: 3600 } });
  };
  for (let i = 0; i < 2; i += 1) {
    const workerConnection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const worker = new Worker('hop', handler, { connection: workerConnection, prefix, concurrency: 1 });
    worker.on('error', () => {});
    await worker.waitUntilReady();
    ctx.defer(`close baseline worker ${i + 1}`, async () => {
      await worker.close();
      workerConnection.disconnect();
    });
  }
  let seq = 0;
  return {
    async chain(length: number): Promise<number[]> {
      const id = `c${(seq += 1)}`;
      await pool.query('insert into chain (id, position) values ($1, 0)', [id]);
      const finished = new Promise<void>((resolve) => chains.set(id, { starts: [], length, done: resolve }));
      await queue.add('hop', { chain: id, n: 0 }, { jobId: `${id}.0`, removeOnComplete: { age: 3600 } });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([finished, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('baseline chain timed out')), 60_000)))]);
      clearTimeout(timer);
      const starts = chains.get(id)!.starts;
      chains.delete(id);
      return starts.slice(1).map((t, i) => t - starts[i]!);
    },
  };
}
