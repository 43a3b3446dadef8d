import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { planPipeline } from '@pipewright/core';
import { eq, openDatabase, outbox, sql, type Database } from '@pipewright/db';
import { openRedis, QueueProducer, type StageJob } from '@pipewright/queue';
import { cleanupRedisPrefix, createTestDatabase, testQueuePrefix, testRedisUrl, type TestDatabase } from '@pipewright/testing';
import { applyRunEvents } from './apply-stage-event.ts';
import { AfterCommitPublisher } from './after-commit-publisher.ts';
import { publishOutboxJobs, relayOutbox } from './relay-outbox.ts';
import { submitRun, submitRuns } from './submit-run.ts';
import { testCatalog, testDescriptor } from './test-catalog.fixture.ts';

const catalog = testCatalog([testDescriptor('step.a@1', {}, { out: 'json' }, { params: z.object({}).strict() })]);
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

  it("a submit returns exactly its own due jobs, and concurrent submits' jobs are published together", async () => {
    const planned = planPipeline(spec, catalog);
    if (!planned.ok) throw new Error('plan failed');
    await db.delete(outbox);
    const submitted = await submitRuns(db, [0, 1, 2].map(() => ({ plan: planned.plan, spec })));
    for (const s of submitted) expect(s.jobs.map((j) => [j.job.runId, j.job.stageKey])).toEqual([[s.runId, 'first']]);

    const adds: number[] = [];
    const counting = Object.create(producer) as QueueProducer;
    counting.publishStageJobs = async (items) => {
      adds.push(items.length);
      return producer.publishStageJobs(items);
    };
    const errors: unknown[] = [];
    const publisher = new AfterCommitPublisher(db, counting, (e) => errors.push(e));
    for (const s of submitted) publisher.publish(s.jobs);
    await publisher.idle();
    expect(errors).toEqual([]);
    // The first call goes at once; the two made while it was in flight go together.
    expect(adds).toEqual([1, 2]);
    expect(await db.select().from(outbox)).toHaveLength(0);
    for (const s of submitted) {
      expect(await producer.queue('stage-step-cpu').getJobState(`${s.jobs[0]?.job.stageRunId}.1`)).toBe('waiting');
    }
  });

  it('skips, without waiting, a published row that another relay holds', async () => {
    const planned = planPipeline(spec, catalog);
    if (!planned.ok) throw new Error('plan failed');
    await db.delete(outbox);
    const [s] = await submitRuns(db, [{ plan: planned.plan, spec }]);
    const jobs = s?.jobs ?? [];
    // Another relay's transaction holds the row (it is publishing it too, and deletes it itself).
    const other = await openDatabase({ url: database.url }, { poolSize: 1 });
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    let locked = () => {};
    const lockTaken = new Promise<void>((r) => (locked = r));
    const otherRelay = other.db.transaction(async (t) => {
      await t.execute(sql`select id from outbox where id = ${jobs[0]?.outboxId} for update`);
      locked();
      await held;
      await t.execute(sql`delete from outbox where id = ${jobs[0]?.outboxId}`);
    });
    try {
      await lockTaken;
      const t0 = Date.now();
      await publishOutboxJobs(db, producer, jobs);
      expect(Date.now() - t0).toBeLessThan(2000);
    } finally {
      release();
      await otherRelay;
      await other.close();
    }
    expect(await db.select().from(outbox)).toHaveLength(0);
  });
});
