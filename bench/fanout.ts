import { performance } from 'node:perf_hooks';
import { FlowProducer, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { REDIS_URL, type BenchContext, type ResultRow } from './support/context.ts';
import { fanSpec } from './support/pipelines.ts';
import { benchPrefix } from './support/redis.ts';
import { startPipewright, submit, waitRunEnded, type PipewrightStack } from './support/stack.ts';
import { ms, percentile } from './support/stats.ts';

/**
 * Fan-out / fan-in: root -> N util.noop@1 stages -> join, POST /v1/runs to the run SUCCEEDED
 * (runs.finished_at, set by the orchestrator). Baseline: a BullMQ FlowProducer flow of one parent
 * with N children, add -> parent completed. Both with 2 workers of concurrency 1.
 * Both warm up at the measured width, then run alternately; the figures are the medians. A
 * narrow warm-up left V8 compiling the wide paths during the measured run: its compiler and
 * garbage-collector threads took a third of the process' CPU (`perf`, session 8).
 */
export async function fanOut(ctx: BenchContext): Promise<ResultRow[]> {
  const width = ctx.options.quick ? 200 : 1000;
  const stack = await startPipewright(ctx, { label: 'fan', layout: ctx.options.layout, workers: 2 });
  const flow = await startBullFlow(ctx);

  const rounds = ctx.options.quick ? 1 : 5;

  ctx.log(`warm-up (layout ${ctx.options.layout})`);
  await pipewrightFan(ctx, stack, width);
  await flow.run(width);

  const ours: Awaited<ReturnType<typeof pipewrightFan>>[] = [];
  const bases: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const run = await pipewrightFan(ctx, stack, width);
    ctx.log(`pipewright 1 -> ${width} -> 1: ${ms(run.wallMs)} (${ms(run.wallMs / (width + 2))} per stage)`);
    ours.push(run);
    bases.push(await flow.run(width));
    ctx.log(`bullmq flow 1 parent + ${width} children: ${ms(bases.at(-1)!)}`);
  }
  const pw = [...ours].sort((a, b) => a.wallMs - b.wallMs)[Math.floor(rounds / 2)]!;
  const base = percentile(bases, 50);
  const ratio = pw.wallMs / base;
  return [
    {
      figure: `fan-out/fan-in 1 -> ${width.toLocaleString('en-US')} -> 1`,
      pipewright: `${ms(pw.wallMs)}`,
      baseline: `${ms(base)} (BullMQ flow)`,
      ratio,
      goal: '<= 2',
      pass: ratio <= 2,
      notes: [
        `fan-out: median of ${rounds} alternating runs after a warm-up at full width each (Pipewright ${ours.map((r) => ms(r.wallMs)).join(', ')}; flow ${bases.map(ms).join(', ')}); the median run: submit -> SUCCEEDED ${ms(pw.wallMs)} = ${ms(pw.wallMs / (width + 2))} per stage; after the submit (which took ${ms(pw.submitMs)}): the root finished at ${ms(pw.rootEndMs)}, the middle stages were queued by ${ms(pw.lastQueuedMs)}, started from ${ms(pw.firstMiddleMs)} and finished by ${ms(pw.lastMiddleMs)}, the join started at ${ms(pw.joinStartMs)}; baseline ${ms(base / (width + 1))} per job`,
      ],
    },
  ];
}

async function pipewrightFan(ctx: BenchContext, stack: PipewrightStack, width: number) {
  const t0 = Date.now();
  const p0 = performance.now();
  const runId = await submit(stack.url, fanSpec(width));
  const submitMs = performance.now() - p0;
  const ended = await waitRunEnded(ctx, stack.pool, runId, 600_000, 10);
  if (ended.status !== 'SUCCEEDED') throw new Error(`fan run ${runId} ended ${ended.status}`);
  const { rows } = await stack.pool.query<{ root_end: Date; first_middle: Date; last_queued: Date; last_middle: Date; join_start: Date }>(
    `select max(finished_at) filter (where stage_key = 'root') as root_end,
            min(started_at) filter (where stage_key like 'f%') as first_middle,
            max(queued_at) filter (where stage_key like 'f%') as last_queued,
            max(finished_at) filter (where stage_key like 'f%') as last_middle,
            max(started_at) filter (where stage_key = 'join') as join_start
       from stage_runs where run_id = $1`,
    [runId],
  );
  const after = (d: Date) => d.getTime() - t0;
  const row = rows[0]!;
  return {
    wallMs: ended.finishedAt.getTime() - t0,
    submitMs,
    rootEndMs: after(row.root_end),
    firstMiddleMs: after(row.first_middle),
    lastQueuedMs: after(row.last_queued),
    lastMiddleMs: after(row.last_middle),
    joinStartMs: after(row.join_start),
  };
}

async function startBullFlow(ctx: BenchContext) {
  const prefix = benchPrefix(ctx, 'fanbull');
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  ctx.defer('close flow redis', () => connection.disconnect());
  const producer = new FlowProducer({ connection, prefix });
  ctx.defer('close flow producer', () => producer.close());
  const parents = new Map<string, () => void>();
  for (let i = 0; i < 2; i += 1) {
    for (const [queue, handler] of [
      ['fan-child', async () => 'ok'],
      ['fan-parent', async (job: { id?: string }) => {
        parents.get(job.id ?? '')?.();
        return 'ok';
      }],
    ] as const) {
      const workerConnection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
      const worker = new Worker(queue, handler, { connection: workerConnection, prefix, concurrency: 1 });
      worker.on('error', () => {});
      await worker.waitUntilReady();
      ctx.defer(`close flow worker ${queue} ${i + 1}`, async () => {
        await worker.close();
        workerConnection.disconnect();
      });
    }
  }
  let seq = 0;
  return {
    async run(width: number): Promise<number> {
      const id = `flow-${(seq += 1)}`;
      const done = new Promise<void>((resolve) => parents.set(id, resolve));
      const t0 = performance.now();
      await producer.add({
        name: 'parent',
        queueName: 'fan-parent',
        opts: { jobId: id, removeOnComplete: { age: 3600 } },
        children: Array.from({ length: width }, (_, k) => ({ name: 'child', queueName: 'fan-child', opts: { jobId: `${id}.${k}`, removeOnComplete: { age: 3600 } } })),
      });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('flow timed out')), 120_000)))]);
      clearTimeout(timer);
      parents.delete(id);
      return performance.now() - t0;
    },
  };
}
