import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { z } from 'zod';
import { planPipeline } from '@pipewright/core';
import { createLocalArtifactStore } from '@pipewright/artifacts';
import { attempts, eq, metrics, runs, stageRuns } from '@pipewright/db';
import { submitRun } from '@pipewright/engine';
import { createStageRegistry, defineStage, writeJson } from '@pipewright/stages';
import { cleanupRedisPrefix, createTestDatabase, testQueuePrefix, testRedisUrl, type TestDatabase } from '@pipewright/testing';
import { startWorker, type RunningWorker } from '@pipewright/worker';
import { startOrchestrator, type RunningOrchestrator } from './start-orchestrator.ts';

/** Trains for `epochs` steps of 100 ms each, reporting a loss per step. */
const slowTrain = defineStage({
  type: 'train.slow@1',
  description: 'a slow stand-in for training',
  inputs: {},
  outputs: { model: 'json' },
  params: z.object({ epochs: z.number().int().default(20) }).strict(),
  async run(ctx) {
    for (let epoch = 1; epoch <= ctx.params.epochs; epoch += 1) {
      ctx.signal.throwIfAborted();
      ctx.reportMetrics([{ name: 'loss', step: epoch, value: 1 / epoch }]);
      await new Promise((r) => setTimeout(r, 100));
    }
    return { outputs: { model: await writeJson(ctx.store, { trained: true }) }, metrics: { loss: 1 / ctx.params.epochs } };
  },
});
const readModel = defineStage({
  type: 'evaluate.read@1',
  description: 'consumes the model',
  inputs: { model: 'json' },
  outputs: { report: 'json' },
  params: z.object({}).strict(),
  async run(ctx) {
    return { outputs: { report: await writeJson(ctx.store, { model: ctx.inputs.model?.digest }) }, metrics: { ok: 1 } };
  },
});

describe('orchestrator and worker over real Postgres and Redis', () => {
  const redisUrl = testRedisUrl();
  const prefix = testQueuePrefix();
  const registry = createStageRegistry([slowTrain, readModel]);
  const logger = pino({ level: 'silent' });
  let database: TestDatabase;
  let root: string;
  let orchestrator: RunningOrchestrator;
  let worker: RunningWorker;

  beforeAll(async () => {
    database = await createTestDatabase();
    root = await mkdtemp(join(tmpdir(), 'pw-orch-'));
    orchestrator = await startOrchestrator({ db: database.handle.db, redisUrl, prefix, logger, relayIntervalMs: 50 });
    worker = await startWorker({
      redisUrl,
      prefix,
      queues: ['stage-train-cpu', 'stage-evaluate-cpu'],
      store: createLocalArtifactStore({ root }),
      findStage: (t) => registry.getDefinition(t),
      logger,
    });
  });

  afterAll(async () => {
    await worker?.close();
    await orchestrator?.close();
    await cleanupRedisPrefix(redisUrl, prefix);
    await database?.drop();
    await rm(root, { recursive: true, force: true });
  });

  it('stores the metric series while the stage is still running, then finishes the run', async () => {
    const spec = {
      apiVersion: 'pipewright/v1',
      name: 'live-metrics',
      stages: [
        { id: 'train', uses: 'train.slow@1', with: { epochs: 20 } },
        { id: 'evaluate', uses: 'evaluate.read@1', needs: ['train'] },
      ],
    };
    const planned = planPipeline(spec, registry);
    if (!planned.ok) throw new Error(JSON.stringify(planned.problems));
    const db = database.handle.db;
    const { runId } = await submitRun(db, { plan: planned.plan, spec });
    orchestrator.kickRelay();

    // Poll until some loss points are stored while the train stage is still RUNNING.
    let seenWhileRunning = 0;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && seenWhileRunning === 0) {
      const [train] = await db.select().from(stageRuns).where(eq(stageRuns.stageKey, 'train'));
      const points = await db.select().from(metrics).where(eq(metrics.runId, runId));
      if (train?.status === 'RUNNING' && points.length > 0) seenWhileRunning = points.length;
      if (train?.status === 'SUCCEEDED') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(seenWhileRunning).toBeGreaterThan(0);
    expect(seenWhileRunning).toBeLessThan(20);

    let status = '';
    while (Date.now() < deadline) {
      const [run] = await db.select().from(runs).where(eq(runs.id, runId));
      status = run?.status ?? '';
      if (status === 'SUCCEEDED' || status === 'FAILED') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe('SUCCEEDED');
    const series = await db.select().from(metrics).where(eq(metrics.runId, runId));
    expect(series.filter((m) => m.kind === 'series').map((m) => m.step).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const attemptRows = await db.select().from(attempts).where(eq(attempts.runId, runId));
    expect(attemptRows.every((a) => a.status === 'SUCCEEDED' && a.workerId === worker.id)).toBe(true);
  });
});
