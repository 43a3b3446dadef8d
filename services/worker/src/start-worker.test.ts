import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { z } from 'zod';
import { StageError } from '@pipewright/core';
import { createLocalArtifactStore, type ArtifactStore } from '@pipewright/artifacts';
import { openRedis, peekEvents, QueueProducer, stageJobId, workerKey, type StageEvent, type StageJob } from '@pipewright/queue';
import { createStageRegistry, defineStage, writeJson } from '@pipewright/stages';
import { cleanupRedisPrefix, testQueuePrefix, testRedisUrl } from '@pipewright/testing';
import { startWorker, type RunningWorker } from './start-worker.ts';

/** A stage that reports `epochs` metric points, `delayMs` apart, then writes a JSON output. */
const countStage = defineStage({
  type: 'test.count@1',
  description: 'counts, reporting a metric per step',
  inputs: {},
  outputs: { result: 'json' },
  params: z.object({ epochs: z.number().int().default(3), delayMs: z.number().default(0), fail: z.enum(['no', 'bad-data', 'crash']).default('no') }).strict(),
  async run(ctx) {
    ctx.setBackend('cpu');
    for (let epoch = 1; epoch <= ctx.params.epochs; epoch += 1) {
      ctx.signal.throwIfAborted();
      ctx.reportMetrics([{ name: 'loss', step: epoch, value: 1 / epoch }]);
      await new Promise((r) => setTimeout(r, ctx.params.delayMs));
    }
    if (ctx.params.fail === 'bad-data') throw StageError.nonRetryable('PW_ERR_BAD_DATA', 'column x is empty');
    if (ctx.params.fail === 'crash') throw new TypeError('cannot read properties of undefined');
    return { outputs: { result: await writeJson(ctx.store, { epochs: ctx.params.epochs }) }, metrics: { final: ctx.params.epochs } };
  },
});

/** Ignores its signal entirely: the worker must still give up on it at the timeout. */
const stubbornStage = defineStage({
  type: 'test.stubborn@1',
  description: 'never looks at its signal',
  inputs: {},
  outputs: { result: 'json' },
  params: z.object({}).strict(),
  run: () => new Promise(() => undefined),
});

describe('worker over real Redis', () => {
  const redisUrl = testRedisUrl();
  const prefix = testQueuePrefix();
  const connection = openRedis(redisUrl);
  const producer = new QueueProducer({ connection, prefix });
  const registry = createStageRegistry([countStage, stubbornStage]);
  let root: string;
  let store: ArtifactStore;
  let worker: RunningWorker;
  let n = 0;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'pw-worker-'));
    store = createLocalArtifactStore({ root });
    worker = await startWorker({
      redisUrl,
      prefix,
      queues: ['stage-test-cpu'],
      store,
      findStage: (t) => registry.getDefinition(t),
      logger: pino({ level: 'silent' }),
      concurrency: 2,
      workerId: 'test-worker',
      backend: 'cpu',
    });
  });

  afterAll(async () => {
    await worker.close();
    await producer.close();
    connection.disconnect();
    await cleanupRedisPrefix(redisUrl, prefix);
    await rm(root, { recursive: true, force: true });
  });

  function job(uses: string, params: Record<string, unknown>, timeoutMs = 30_000): StageJob {
    n += 1;
    return { runId: `run-${n}`, stageRunId: `stage-${n}`, attemptId: `attempt-${n}`, attempt: 1, stageKey: 's', uses, params, inputs: {}, timeoutMs };
  }

  /** The events reported for an attempt, once its terminal event arrived. */
  async function eventsOf(attemptId: string): Promise<StageEvent[]> {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const events = (await peekEvents(connection, prefix)).filter((e) => e.attemptId === attemptId);
      if (events.some((e) => e.type === 'stage.succeeded' || e.type === 'stage.failed')) return events;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no terminal event for ${attemptId}`);
  }

  it('registers a heartbeat with its queues and backend', async () => {
    const raw = await connection.get(workerKey(prefix, 'test-worker'));
    expect(JSON.parse(raw ?? '{}')).toMatchObject({ id: 'test-worker', queues: ['stage-test-cpu'], backend: 'cpu', gpuCount: 0 });
  });

  it('reports started, metric batches and succeeded with outputs, metrics and resource use', async () => {
    const j = job('test.count@1', { epochs: 5, delayMs: 150 });
    await producer.publishStageJobs([{ queue: 'stage-test-cpu', job: j }]);
    const events = await eventsOf(j.attemptId);
    expect(events.filter((e) => e.type === 'stage.started')).toHaveLength(1);
    const batches = events.flatMap((e) => (e.type === 'stage.progress' ? [e] : [])).sort((a, b) => a.seq - b.seq);
    expect(batches.map((b) => b.seq)).toEqual(batches.map((_, i) => i));
    expect(batches.flatMap((b) => b.metrics).map((p) => p.step)).toEqual([1, 2, 3, 4, 5]);
    // 5 epochs 150 ms apart with a 250 ms flush interval: more than one batch, fewer than one per point.
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.length).toBeLessThan(5);
    const done = events.find((e) => e.type === 'stage.succeeded');
    if (done?.type !== 'stage.succeeded') throw new Error('no success');
    expect(done.metrics).toEqual({ final: 5 });
    // The result repeats the whole series, in case a progress event is lost with Redis.
    expect(done.series?.map((p) => p.step)).toEqual([1, 2, 3, 4, 5]);
    expect(done.backend).toBe('cpu');
    expect(done.resourceUse.wallMs).toBeGreaterThanOrEqual(250);
    expect(done.resourceUse.peakRssBytes).toBeGreaterThan(10_000_000);
    expect(JSON.parse(Buffer.from(await store.get(done.outputs.result?.uri ?? '')).toString())).toEqual({ epochs: 5 });
    // Announced: the result does not say it again.
    expect(done.started).toBeUndefined();
  });

  it('reports a stage that ends within the start-event delay once: its result says who ran it and when', async () => {
    const before = Date.now();
    const j = job('test.count@1', { epochs: 1, delayMs: 0 });
    await producer.publishStageJobs([{ queue: 'stage-test-cpu', job: j }]);
    const events = await eventsOf(j.attemptId);
    expect(events.map((e) => e.type).filter((t) => t !== 'stage.progress')).toEqual(['stage.succeeded']);
    const done = events.find((e) => e.type === 'stage.succeeded');
    if (done?.type !== 'stage.succeeded') throw new Error('no success');
    expect(done.started).toMatchObject({ workerId: 'test-worker' });
    expect(Date.parse(done.started?.at ?? '')).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(done.started?.at ?? '')).toBeLessThanOrEqual(Date.parse(done.at));
  });

  it('sends a result ahead of its job completion, on the connection that completes it', async () => {
    // The worker does not wait for the result's reply before completing the job: that is safe
    // only because Redis runs one connection's commands in order. MONITOR shows each command
    // with the client that sent it.
    const monitor = await openRedis(redisUrl).monitor();
    const seen: { args: string[]; client: string }[] = [];
    monitor.on('monitor', (_time: string, args: string[], client: string) => seen.push({ args, client }));
    try {
      const j = job('test.count@1', { epochs: 1 });
      const jobId = stageJobId(j.stageRunId, j.attempt);
      await producer.publishStageJobs([{ queue: 'stage-test-cpu', job: j }]);
      const isResult = (c: { args: string[] }) => c.args[0]?.toLowerCase() === 'xadd' && c.args.some((a) => a.includes(j.attemptId) && a.includes('stage.succeeded'));
      // BullMQ's moveToFinished script, called with the job id and its target state.
      const isCompletion = (c: { args: string[] }) => /^eval/i.test(c.args[0] ?? '') && c.args.includes(jobId) && c.args.includes('completed');
      const deadline = Date.now() + 20_000;
      while (!seen.some(isCompletion) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const result = seen.findIndex(isResult);
      const completion = seen.findIndex(isCompletion);
      expect(result).toBeGreaterThanOrEqual(0);
      expect(completion).toBeGreaterThan(result);
      expect(seen[completion]?.client).toBe(seen[result]?.client);
    } finally {
      monitor.disconnect();
    }
  });

  it('reports a StageError as a non-retryable application failure with its code', async () => {
    const j = job('test.count@1', { epochs: 1, fail: 'bad-data' });
    await producer.publishStageJobs([{ queue: 'stage-test-cpu', job: j }]);
    const failed = (await eventsOf(j.attemptId)).find((e) => e.type === 'stage.failed');
    expect(failed?.type === 'stage.failed' && failed.error).toMatchObject({ kind: 'application', code: 'PW_ERR_BAD_DATA', retryable: false, message: 'column x is empty' });
  });

  it('normalises any other throw into a retryable internal failure', async () => {
    const j = job('test.count@1', { epochs: 1, fail: 'crash' });
    await producer.publishStageJobs([{ queue: 'stage-test-cpu', job: j }]);
    const failed = (await eventsOf(j.attemptId)).find((e) => e.type === 'stage.failed');
    expect(failed?.type === 'stage.failed' && failed.error).toMatchObject({ kind: 'internal', code: 'PW_ERR_STAGE_CRASHED', retryable: true });
  });

  it('gives up on a stage that ignores its signal once the timeout passes', async () => {
    const j = job('test.stubborn@1', {}, 300);
    const t0 = Date.now();
    await producer.publishStageJobs([{ queue: 'stage-test-cpu', job: j }]);
    const failed = (await eventsOf(j.attemptId)).find((e) => e.type === 'stage.failed');
    expect(failed?.type === 'stage.failed' && failed.error).toMatchObject({ kind: 'timeout', code: 'PW_ERR_STAGE_TIMEOUT', retryable: true });
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('fails bad params and unknown stage types without retry', async () => {
    const bad = job('test.count@1', { epochs: 'many' });
    const unknown = job('test.nothing@1', {});
    await producer.publishStageJobs([
      { queue: 'stage-test-cpu', job: bad },
      { queue: 'stage-test-cpu', job: unknown },
    ]);
    const badFailure = (await eventsOf(bad.attemptId)).find((e) => e.type === 'stage.failed');
    expect(badFailure?.type === 'stage.failed' && badFailure.error).toMatchObject({ code: 'PW_ERR_BAD_PARAMS', retryable: false });
    const unknownFailure = (await eventsOf(unknown.attemptId)).find((e) => e.type === 'stage.failed');
    expect(unknownFailure?.type === 'stage.failed' && unknownFailure.error).toMatchObject({ code: 'PW_ERR_STAGE_TYPE_UNKNOWN', retryable: false });
  });
});

describe('worker whose stages are imported on first use', () => {
  const redisUrl = testRedisUrl();
  const prefix = testQueuePrefix();
  const connection = openRedis(redisUrl);
  const producer = new QueueProducer({ connection, prefix });
  const registry = createStageRegistry([countStage]);
  let root: string;
  let worker: RunningWorker;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'pw-worker-lazy-'));
    worker = await startWorker({
      redisUrl,
      prefix,
      queues: ['stage-test-cpu'],
      store: createLocalArtifactStore({ root }),
      // As lazyBuiltinStages hands them out: a promise, settled once the module is imported.
      findStage: async (t) => {
        await new Promise((r) => setTimeout(r, 20));
        return registry.getDefinition(t);
      },
      logger: pino({ level: 'silent' }),
      workerId: 'lazy-worker',
      heartbeatMs: 100,
    });
  });

  afterAll(async () => {
    await worker.close();
    await producer.close();
    connection.disconnect();
    await cleanupRedisPrefix(redisUrl, prefix);
    await rm(root, { recursive: true, force: true });
  });

  it('runs the stage, and its heartbeat shows the backend once a stage reported one', async () => {
    const beat = async () => JSON.parse((await connection.get(workerKey(prefix, 'lazy-worker'))) ?? '{}') as { backend: string | null };
    expect((await beat()).backend).toBeNull();
    const j: StageJob = { runId: 'run-lazy', stageRunId: 'stage-lazy', attemptId: 'attempt-lazy', attempt: 1, stageKey: 's', uses: 'test.count@1', params: { epochs: 1 }, inputs: {}, timeoutMs: 30_000 };
    await producer.publishStageJobs([{ queue: 'stage-test-cpu', job: j }]);
    const deadline = Date.now() + 20_000;
    let done: StageEvent | undefined;
    while (!done && Date.now() < deadline) {
      done = (await peekEvents(connection, prefix)).find((e) => e.attemptId === j.attemptId && (e.type === 'stage.succeeded' || e.type === 'stage.failed'));
      if (!done) await new Promise((r) => setTimeout(r, 50));
    }
    expect(done).toMatchObject({ type: 'stage.succeeded', backend: 'cpu' });
    await new Promise((r) => setTimeout(r, 300));
    expect((await beat()).backend).toBe('cpu');
  });
});
