import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planPipeline, type ArtifactRef, type CacheExplanation } from '@pipewright/core';
import { attempts, eq, outbox, runs, stageRuns, type Database } from '@pipewright/db';
import { createRedisJobProbe, openRedis, QueueProducer, workerKey, type StageEvent, type StageJob } from '@pipewright/queue';
import { cleanupRedisPrefix, createTestDatabase, testQueuePrefix, testRedisUrl, type TestDatabase } from '@pipewright/testing';
import { applyStageEvent } from './apply-stage-event.ts';
import { cancelRun } from './cancel-run.ts';
import { reconcileOnce } from './reconcile.ts';
import { drainOutbox } from './relay-outbox.ts';
import { retryRun } from './retry-run.ts';
import { submitRun } from './submit-run.ts';
import { testCatalog, testDescriptor } from './test-catalog.fixture.ts';

const catalog = testCatalog([
  testDescriptor('load.data@1', {}, { out: 'json' }),
  testDescriptor('load.live@1', {}, { out: 'json' }, { volatile: true }),
  testDescriptor('fit.model@1', { in: 'json' }, { out: 'json' }),
  testDescriptor('score.model@1', { in: 'json' }, { out: 'json' }),
]);

/** load -> fit -> score, each consuming the previous output. */
function chain(name: string, fitN = 1, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'pipewright/v1',
    name,
    params: { n: { type: 'number', default: fitN } },
    ...extra,
    stages: [
      { id: 'load', uses: 'load.data@1' },
      { id: 'fit', uses: 'fit.model@1', needs: ['load'], inputs: { in: 'load.out' }, with: { n: '${{ params.n }}' }, retry: { attempts: 2, delayMs: 1, jitter: false } },
      { id: 'score', uses: 'score.model@1', needs: ['fit'], inputs: { in: 'fit.out' } },
    ],
  };
}

const use = { cpuUserMs: 1, cpuSystemMs: 1, peakRssBytes: 1, wallMs: 1 };
const ref = (tag: string): ArtifactRef => ({ digest: `sha256:${tag.padEnd(64, '0')}`, uri: `file:///x/${tag}`, type: 'json', mediaType: 'application/json', sizeBytes: 1 });

describe('run lifecycle on real Postgres and Redis', () => {
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

  async function submit(spec: unknown, params?: Record<string, unknown>) {
    const planned = planPipeline(spec, catalog, params ? { params } : {});
    if (!planned.ok) throw new Error(JSON.stringify(planned.problems));
    return submitRun(db, { plan: planned.plan, spec });
  }

  /** Jobs waiting in the outbox for a run, taken (deleted) so each test drives its own. */
  async function takeJobs(runId: string): Promise<StageJob[]> {
    const rows = await db.select().from(outbox).where(eq(outbox.kind, 'stage.run'));
    const jobs = rows.map((r) => (r.payload as { job: StageJob }).job).filter((j) => j.runId === runId);
    for (const row of rows) if ((row.payload as { job: StageJob }).job.runId === runId) await db.delete(outbox).where(eq(outbox.id, row.id));
    return jobs;
  }

  /** Plays a worker: every queued job of the run succeeds (or fails), until none is left. */
  async function work(runId: string, outcome: (job: StageJob) => 'ok' | 'fail-retryable' | 'fail' = () => 'ok'): Promise<string[]> {
    const ran: string[] = [];
    for (let jobs = await takeJobs(runId); jobs.length; jobs = await takeJobs(runId)) {
      for (const job of jobs) {
        ran.push(`${job.stageKey}#${job.attempt}`);
        const at = new Date().toISOString();
        const b = { runId, stageRunId: job.stageRunId, attemptId: job.attemptId, at };
        await applyStageEvent(db, { type: 'stage.started', ...b, workerId: 'w', host: 'h' });
        const o = outcome(job);
        const event: StageEvent =
          o === 'ok'
            ? { type: 'stage.succeeded', ...b, outputs: { out: ref(createHash('sha256').update(`${job.stageKey}${JSON.stringify(job.params)}${Object.values(job.inputs)[0]?.digest ?? ''}`).digest('hex')) }, metrics: { n: 1 }, resourceUse: use }
            : { type: 'stage.failed', ...b, error: { kind: 'application', code: 'PW_ERR_BAD_DATA', message: 'no', retryable: o === 'fail-retryable' }, resourceUse: use };
        await applyStageEvent(db, event);
      }
      // Retries wait for their backoff in the outbox; make them due now.
      await db.update(outbox).set({ availableAt: new Date(0) });
    }
    return ran;
  }

  async function stageMap(runId: string) {
    const rows = await db.select().from(stageRuns).where(eq(stageRuns.runId, runId));
    return Object.fromEntries(rows.map((r) => [r.stageKey, r]));
  }

  async function runStatus(runId: string) {
    return (await db.select().from(runs).where(eq(runs.id, runId)))[0]?.status;
  }

  it('serves an unchanged stage from the cache and explains a miss by the component that changed', async () => {
    const first = await submit(chain('cache-demo', 1));
    expect(await work(first.runId)).toEqual(['load#1', 'fit#1', 'score#1']);

    const second = await submit(chain('cache-demo', 1));
    expect(await work(second.runId)).toEqual([]);
    const cached = await stageMap(second.runId);
    expect(Object.values(cached).map((s) => s.status)).toEqual(['CACHED', 'CACHED', 'CACHED']);
    expect(await runStatus(second.runId)).toBe('SUCCEEDED');
    const fitHit = cached['fit']?.cacheExplanation as CacheExplanation;
    expect(fitHit).toMatchObject({ hit: true, source: { runId: first.runId, stage: 'fit' } });
    const firstStages = await stageMap(first.runId);
    expect(cached['fit']?.outputArtifactIds).toEqual(firstStages['fit']?.outputArtifactIds);

    // Change one param: load hits, fit misses because params.n changed, score misses because its input changed.
    const third = await submit(chain('cache-demo', 2));
    expect(await work(third.runId)).toEqual(['fit#1', 'score#1']);
    const changed = await stageMap(third.runId);
    expect(changed['load']?.status).toBe('CACHED');
    expect(changed['fit']?.cacheExplanation).toMatchObject({ hit: false, reason: 'changed', changed: ['params.n'], comparedWith: { runId: first.runId } });
    expect(changed['score']?.cacheExplanation).toMatchObject({ hit: false, reason: 'changed', changed: ['inputs.in'] });

    // cache: false on the run turns it off, and says so.
    const off = await submit(chain('cache-demo', 1, { cache: false }));
    expect(await work(off.runId)).toEqual(['load#1', 'fit#1', 'score#1']);
    expect((await stageMap(off.runId))['load']?.cacheExplanation).toMatchObject({ hit: false, reason: 'disabled' });
  });

  it('never serves a volatile stage from the cache, but its consumers when its output is the same', async () => {
    const spec = (name: string) => ({
      apiVersion: 'pipewright/v1',
      name,
      stages: [
        { id: 'load', uses: 'load.live@1' },
        { id: 'fit', uses: 'fit.model@1', needs: ['load'], inputs: { in: 'load.out' } },
      ],
    });
    const a = await submit(spec('volatile-demo'));
    await work(a.runId);
    const b = await submit(spec('volatile-demo'));
    expect(await work(b.runId)).toEqual(['load#1']);
    expect((await stageMap(b.runId))['fit']?.status).toBe('CACHED');
  });

  it('retries from the failure frontier: succeeded stages keep their outputs and do not run again', async () => {
    const { runId } = await submit(chain('retry-demo', 1, { cache: false }));
    // fit fails non-retryably: score is skipped, the run fails.
    expect(await work(runId, (j) => (j.stageKey === 'fit' ? 'fail' : 'ok'))).toEqual(['load#1', 'fit#1']);
    expect(await runStatus(runId)).toBe('FAILED');
    expect((await stageMap(runId))['score']?.status).toBe('SKIPPED');
    const loadBefore = (await stageMap(runId))['load'];

    const retried = await retryRun(db, { runId });
    expect(retried.reset).toEqual(['fit', 'score']);
    expect(await work(runId)).toEqual(['fit#2', 'score#1']);
    expect(await runStatus(runId)).toBe('SUCCEEDED');
    const after = await stageMap(runId);
    expect(after['load']?.outputArtifactIds).toEqual(loadBefore?.outputArtifactIds);
    const loadAttempts = await db.select().from(attempts).where(eq(attempts.stageRunId, loadBefore?.id ?? ''));
    expect(loadAttempts).toHaveLength(1);
    const fitAttempts = await db.select().from(attempts).where(eq(attempts.stageRunId, after['fit']?.id ?? ''));
    expect(fitAttempts.map((a) => [a.number, a.status])).toEqual([
      [1, 'FAILED'],
      [2, 'SUCCEEDED'],
    ]);
  });

  it('retries a retryable failure by policy before failing the stage', async () => {
    const { runId } = await submit(chain('policy-demo', 1, { cache: false }));
    // fit allows 2 attempts: both fail retryably, then it is FAILED.
    expect(await work(runId, (j) => (j.stageKey === 'fit' ? 'fail-retryable' : 'ok'))).toEqual(['load#1', 'fit#1', 'fit#2']);
    expect((await stageMap(runId))['fit']?.status).toBe('FAILED');
  });

  it('retries from a named stage, and with param overrides re-runs only what they change', async () => {
    const spec = chain('from-demo', 1, { cache: false });
    const { runId } = await submit(spec);
    await work(runId);
    expect(await runStatus(runId)).toBe('SUCCEEDED');
    await expect(retryRun(db, { runId })).rejects.toMatchObject({ code: 'PW_ERR_NOTHING_TO_RETRY' });

    expect((await retryRun(db, { runId, fromStage: 'score' })).reset).toEqual(['score']);
    expect(await work(runId)).toEqual(['score#2']);

    const replanned = planPipeline(spec, catalog, { params: { n: 5 } });
    if (!replanned.ok) throw new Error('replan failed');
    const byParams = await retryRun(db, { runId, replanned: { params: replanned.plan.params, stages: replanned.plan.stages } });
    expect(byParams.reset).toEqual(['fit', 'score']);
    expect(await work(runId)).toEqual(['fit#2', 'score#3']);
    expect((await stageMap(runId))['fit']?.params).toEqual({ n: 5 });
    await expect(retryRun(db, { runId, fromStage: 'nope' })).rejects.toMatchObject({ code: 'PW_ERR_STAGE_NOT_FOUND' });
  });

  it('answers the same Idempotency-Key with the first run, and refuses it for another request', async () => {
    const idem = { key: 'k-1', requestHash: 'h-1' };
    const planned = planPipeline(chain('idem-demo'), catalog);
    if (!planned.ok) throw new Error('plan failed');
    const first = await submitRun(db, { plan: planned.plan, spec: chain('idem-demo'), idempotency: idem });
    const again = await submitRun(db, { plan: planned.plan, spec: chain('idem-demo'), idempotency: idem });
    expect(again).toMatchObject({ runId: first.runId, replayed: true });
    await expect(submitRun(db, { plan: planned.plan, spec: chain('idem-demo'), idempotency: { key: 'k-1', requestHash: 'h-2' } })).rejects.toMatchObject({
      code: 'PW_ERR_IDEMPOTENCY_CONFLICT',
    });
    // Concurrent first uses: one run.
    const both = await Promise.all([1, 2].map(() => submitRun(db, { plan: planned.plan, spec: chain('idem-demo'), idempotency: { key: 'k-2', requestHash: 'h' } })));
    expect(both[0]?.runId).toBe(both[1]?.runId);
  });

  it('cancels a run: queued stages at once, running ones when their worker stops', async () => {
    const { runId } = await submit(chain('cancel-demo', 1, { cache: false }));
    const [load] = await takeJobs(runId);
    if (!load) throw new Error('no job');
    const b = { runId, stageRunId: load.stageRunId, attemptId: load.attemptId, at: new Date().toISOString() };
    await applyStageEvent(db, { type: 'stage.started', ...b, workerId: 'w', host: 'h' });

    const result = await cancelRun(db, runId);
    expect(result).toMatchObject({ runStatus: 'CANCELING', stopping: ['load'] });
    expect(result.canceled.sort()).toEqual(['fit', 'score']);
    const cancelRows = (await db.select().from(outbox)).filter((r) => r.kind === 'stage.cancel');
    expect(cancelRows.map((r) => (r.payload as { attemptId: string }).attemptId)).toContain(load.attemptId);
    await expect(cancelRun(db, runId, 'fit')).rejects.toMatchObject({ code: 'PW_ERR_RUN_NOT_CANCELABLE' });

    // The worker aborts the handler and reports it.
    await applyStageEvent(db, { type: 'stage.failed', ...b, error: { kind: 'canceled', code: 'PW_ERR_STAGE_CANCELED', message: 'canceled', retryable: false }, resourceUse: use });
    expect(await runStatus(runId)).toBe('CANCELED');
    expect((await stageMap(runId))['load']?.status).toBe('CANCELED');

    // A canceled run can be retried: everything runs again.
    expect((await retryRun(db, { runId })).reset).toEqual(['fit', 'load', 'score']);
    await db.delete(outbox).where(eq(outbox.kind, 'stage.cancel'));
    expect(await work(runId)).toEqual(['load#2', 'fit#1', 'score#1']);
    expect(await runStatus(runId)).toBe('SUCCEEDED');
  });

  it('reconciles: republishes a queued job Redis lost, and retries an attempt whose worker vanished', async () => {
    const { runId } = await submit(chain('reconcile-demo', 1, { cache: false }));
    const probe = createRedisJobProbe(producer, connection, prefix);
    const suspects = new Map<string, number>();
    // Published, then lost (as by a FLUSHALL): the attempt is QUEUED and its job is missing.
    await drainOutbox(db, producer);
    const [queued] = await db.select().from(attempts).where(eq(attempts.runId, runId));
    if (!queued) throw new Error('no attempt');
    await producer.queue(queued.queue).remove(queued.jobId);
    const clock = { t: Date.now() + 60_000 };
    const opts = { graceMs: 1000, now: () => new Date(clock.t) };
    expect((await reconcileOnce(db, probe, suspects, opts)).republished).toBe(0); // first sighting: suspect only
    clock.t += 2000;
    expect((await reconcileOnce(db, probe, suspects, opts)).republished).toBe(1);
    await drainOutbox(db, producer);
    expect(await producer.queue(queued.queue).getJobState(queued.jobId)).toBe('waiting');

    // A worker takes it, then dies: no heartbeat key for it.
    const b = { runId, stageRunId: queued.stageRunId, attemptId: queued.id, at: new Date().toISOString() };
    await connection.set(workerKey(prefix, 'doomed'), '{}', 'PX', 60_000);
    await applyStageEvent(db, { type: 'stage.started', ...b, workerId: 'doomed', host: 'h' });
    clock.t += 2000;
    expect((await reconcileOnce(db, probe, suspects, opts)).lost).toBe(0); // alive
    await connection.del(workerKey(prefix, 'doomed'));
    clock.t += 2000;
    await reconcileOnce(db, probe, suspects, opts);
    clock.t += 2000;
    expect((await reconcileOnce(db, probe, suspects, opts)).lost).toBe(1);
    const rows = await db.select().from(attempts).where(eq(attempts.stageRunId, queued.stageRunId));
    expect(rows.map((a) => [a.number, a.status])).toEqual([
      [1, 'LOST'],
      [2, 'QUEUED'],
    ]);
    expect(rows[0]?.error).toMatchObject({ code: 'PW_ERR_WORKER_LOST', retryable: true });
    // A late success from the lost attempt changes nothing.
    expect((await applyStageEvent(db, { type: 'stage.succeeded', ...b, outputs: { out: ref('late') }, metrics: {}, resourceUse: use })).outcome).toBe('stale');
  });
});
