import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { planPipeline, type StageCatalog, type StageDescriptor } from '@pipewright/core';
import { eq, outbox, type Database } from '@pipewright/db';
import { openRedis, QueueProducer, type StageJob } from '@pipewright/queue';
import { cleanupRedisPrefix, createTestDatabase, testQueuePrefix, testRedisUrl, type TestDatabase } from '@pipewright/testing';
import { applyRunEvents } from './apply-stage-event.ts';
import { publishOutboxJobs, relayOutbox } from './relay-outbox.ts';
import { submitRun } from './submit-run.ts';

const d = (type: string): StageDescriptor => ({ type, family: 'step', description: type, inputs: {}, outputs: { out: 'json' }, params: z.object({}).strict() });
const types = [d('step.a@1')];
const catalog: StageCatalog = { get: (t) => types.find((x) => x.type === t), list: () => types };
const spec = {
  apiVersion: 'pipewright/v1',
  name: 'publish-after-commit',
  cache: false,
  stages: [
    { id: 'first', uses: 'step.a@1' },
    { id: 'second', uses: 'step.a@1', needs: ['first'] },
  ],
};

describe('publishing the jobs an apply made due, after its commit', () => {
  let database: TestDatabase;
  let db: Database;
  const redisUrl = testRedisUrl();
  const prefix = testQueuePrefix();
  const connection = openRedis(redisUrl);
  const producer = new QueueProducer({ connection, prefix });
  beforeAll(async () => {
    database = await createTestDatabase();
    db = database.handle.db;
  });
  afterAll(async () => {
    await producer.close();
    connection.disconnect();
    await cleanupRedisPrefix(redisUrl, prefix);
    await database.drop();
  });

  it('returns the due jobs, publishes them and deletes their rows; a timer relay leaves fresh rows alone', async () => {
    const planned = planPipeline(spec, catalog);
    if (!planned.ok) throw new Error('plan failed');
    const { runId } = await submitRun(db, { plan: planned.plan, spec });
    const [row] = await db.select().from(outbox);
    const first = (row?.payload as { job: StageJob }).job;
    await db.delete(outbox);

    const at = new Date().toISOString();
    const { results, jobs } = await applyRunEvents(db, runId, [
      {
        type: 'stage.succeeded',
        runId,
        stageRunId: first.stageRunId,
        attemptId: first.attemptId,
        at,
        outputs: { out: { digest: `sha256:${'a'.repeat(64)}`, uri: 'file:///a', type: 'json', mediaType: 'application/json', sizeBytes: 1 } },
        metrics: {},
        resourceUse: { cpuUserMs: 0, cpuSystemMs: 0, peakRssBytes: 0, wallMs: 0 },
      },
    ]);
    expect(results[0]?.outcome).toBe('applied');
    expect(jobs.map((j) => j.job.stageKey)).toEqual(['second']);

    // A relay that leaves fresh rows to their writer takes nothing yet.
    expect(await relayOutbox(db, producer, { minAgeMs: 60_000 })).toBe(0);
    await publishOutboxJobs(db, producer, jobs);
    expect(await db.select().from(outbox).where(eq(outbox.id, jobs[0]?.outboxId ?? 0))).toHaveLength(0);
    expect(await producer.queue('stage-step-cpu').getJobState(`${jobs[0]?.job.stageRunId}.1`)).toBe('waiting');
  });
});
