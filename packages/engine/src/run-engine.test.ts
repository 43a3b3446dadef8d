import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planPipeline, type ArtifactRef } from '@pipewright/core';
import { and, artifacts, attempts, countRoundTrips, eq, lineageEdges, metrics, openDatabase, outbox, runs, stageRuns, type Database } from '@pipewright/db';
import { openRedis, QueueProducer, type StageEvent, type StageJob } from '@pipewright/queue';
import { cleanupRedisPrefix, createTestDatabase, testQueuePrefix, testRedisUrl, type TestDatabase } from '@pipewright/testing';
import { applyEventsOfRuns, applyStageEvent } from './apply-stage-event.ts';
import { relayOutbox } from './relay-outbox.ts';
import { submitRun, submitRuns } from './submit-run.ts';
import { testCatalog, testDescriptor } from './test-catalog.fixture.ts';

const catalog = testCatalog([
  testDescriptor('source.make@1', {}, { data: 'table' }),
  testDescriptor('step.map@1', { data: 'table' }, { data: 'table' }),
  testDescriptor('step.join@1', { left: 'table', right: 'table' }, { report: 'json' }),
]);

/** source -> (a, b) -> join: a fan-out and a fan-in. */
const diamond = {
  apiVersion: 'pipewright/v1',
  name: 'diamond',
  // These tests drive stages by hand; the cache (tested in run-lifecycle.test.ts) would serve them.
  cache: false,
  stages: [
    { id: 'source', uses: 'source.make@1' },
    { id: 'a', uses: 'step.map@1', needs: ['source'] },
    { id: 'b', uses: 'step.map@1', needs: ['source'], retry: { attempts: 2, delayMs: 10_000, jitter: false } },
    { id: 'join', uses: 'step.join@1', needs: ['a', 'b'], inputs: { left: 'a.data', right: 'b.data' } },
  ],
};

function plan(spec: unknown) {
  const result = planPipeline(spec, catalog);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.plan;
}

const ref = (n: number): ArtifactRef => ({ digest: `sha256:${String(n).padStart(64, '0')}`, uri: `file:///x/${n}`, type: 'table', mediaType: 'application/vnd.apache.arrow.file', sizeBytes: n });
const use = { cpuUserMs: 1, cpuSystemMs: 1, peakRssBytes: 1, wallMs: 1 };

async function queuedJobs(db: Database): Promise<StageJob[]> {
  const rows = await db.select().from(outbox);
  return rows.map((r) => (r.payload as { job: StageJob }).job);
}

function succeeded(job: StageJob, outputs: Record<string, ArtifactRef>): Extract<StageEvent, { type: 'stage.succeeded' }> {
  return { type: 'stage.succeeded', runId: job.runId, stageRunId: job.stageRunId, attemptId: job.attemptId, at: new Date().toISOString(), outputs, metrics: { score: 1 }, resourceUse: use };
}

describe('run engine on real Postgres', () => {
  let database: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    database = await createTestDatabase();
    db = database.handle.db;
  });
  afterAll(() => database.drop());

  it('submits run, stages and the outbox rows of ready stages in one transaction', async () => {
    const submitted = await submitRun(db, { plan: plan(diamond), spec: diamond });
    const stages = await db.select().from(stageRuns).where(eq(stageRuns.runId, submitted.runId));
    expect(stages.map((s) => [s.stageKey, s.status]).sort()).toEqual([
      ['a', 'PENDING'],
      ['b', 'PENDING'],
      ['join', 'PENDING'],
      ['source', 'QUEUED'],
    ]);
    const jobs = (await queuedJobs(db)).filter((j) => j.runId === submitted.runId);
    expect(jobs.map((j) => j.stageKey)).toEqual(['source']);
    expect(jobs[0]?.params).toEqual({ n: 1 });
    // Same spec again: same pipeline version, new run.
    const again = await submitRun(db, { plan: plan(diamond), spec: { ...diamond } });
    expect(again.pipelineId).toBe(submitted.pipelineId);
    expect(again.runId).not.toBe(submitted.runId);
    const changed = { ...diamond, stages: diamond.stages.slice(0, 1) };
    const v2 = await submitRun(db, { plan: plan(changed), spec: changed });
    expect(v2.pipelineVersion).toBe(submitted.pipelineVersion + 1);
  });

  it('advances through fan-out and fan-in; re-applied and concurrent events change nothing twice', async () => {
    await db.delete(outbox);
    const { runId } = await submitRun(db, { plan: plan(diamond), spec: diamond });
    const [source] = await queuedJobs(db);
    if (!source) throw new Error('no source job');
    await db.delete(outbox);

    const started: StageEvent = { type: 'stage.started', runId, stageRunId: source.stageRunId, attemptId: source.attemptId, at: new Date().toISOString(), workerId: 'w1', host: 'h' };
    expect((await applyStageEvent(db, started)).outcome).toBe('applied');
    expect((await applyStageEvent(db, started)).outcome).toBe('stale');
    const [run] = await db.select().from(runs).where(eq(runs.id, runId));
    expect(run?.status).toBe('RUNNING');

    const done = succeeded(source, { data: ref(1) });
    // The same success delivered twice at once: one applies, one is stale.
    const outcomes = await Promise.all([applyStageEvent(db, done), applyStageEvent(db, done)]);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['applied', 'stale']);
    expect(await db.select().from(artifacts).where(eq(artifacts.runId, runId))).toHaveLength(1);

    const fanOut = await queuedJobs(db);
    expect(fanOut.map((j) => j.stageKey).sort()).toEqual(['a', 'b']);
    expect(fanOut.every((j) => j.inputs.data?.digest === ref(1).digest)).toBe(true);
    await db.delete(outbox);

    // Both parents of the join finish at the same moment: the join is enqueued exactly once.
    const [a, b] = [fanOut.find((j) => j.stageKey === 'a'), fanOut.find((j) => j.stageKey === 'b')];
    if (!a || !b) throw new Error('missing fan-out jobs');
    await Promise.all([applyStageEvent(db, succeeded(a, { data: ref(2) })), applyStageEvent(db, succeeded(b, { data: ref(3) }))]);
    const joins = await queuedJobs(db);
    expect(joins.map((j) => j.stageKey)).toEqual(['join']);
    expect(joins[0]?.inputs.left?.digest).toBe(ref(2).digest);
    expect(joins[0]?.inputs.right?.digest).toBe(ref(3).digest);
    const joinEdges = await db.select().from(lineageEdges).where(eq(lineageEdges.consumerAttemptId, joins[0]?.attemptId ?? ''));
    expect(joinEdges.map((e) => e.inputName).sort()).toEqual(['left', 'right']);
    await db.delete(outbox);

    const join = joins[0];
    if (!join) throw new Error('no join');
    const report = { ...ref(4), type: 'json' as const, mediaType: 'application/json' };
    await applyStageEvent(db, succeeded(join, { report }));
    const [finished] = await db.select().from(runs).where(eq(runs.id, runId));
    expect(finished?.status).toBe('SUCCEEDED');
    expect(finished?.finishedAt).not.toBeNull();
    // An event for the finished run's attempt, replayed late, is stale.
    expect((await applyStageEvent(db, succeeded(join, { report }))).outcome).toBe('stale');
  });

  it("enqueues a join once when all its parents' results are applied in one batch (every need changed in memory)", async () => {
    await db.delete(outbox);
    const { runId } = await submitRun(db, { plan: plan(diamond), spec: diamond });
    const [source] = await queuedJobs(db);
    if (!source) throw new Error('no source job');
    await db.delete(outbox);
    await applyStageEvent(db, succeeded(source, { data: ref(1) }));
    const fanOut = await queuedJobs(db);
    const [a, b] = [fanOut.find((j) => j.stageKey === 'a'), fanOut.find((j) => j.stageKey === 'b')];
    if (!a || !b) throw new Error('missing fan-out jobs');
    await db.delete(outbox);
    // The dependents read leaves out both needs (their stored status is stale): the join still
    // comes back, with its counts taken from memory.
    const { results } = await applyEventsOfRuns(db, [{ runId, events: [succeeded(a, { data: ref(2) }), succeeded(b, { data: ref(3) })] }]);
    expect(results[0]?.map((r) => r.outcome)).toEqual(['applied', 'applied']);
    const joins = await queuedJobs(db);
    expect(joins.map((j) => [j.stageKey, j.inputs.left?.digest, j.inputs.right?.digest])).toEqual([['join', ref(2).digest, ref(3).digest]]);
  });

  it('takes who ran an attempt, and when it started, from a result whose start was never announced', async () => {
    await db.delete(outbox);
    const { runId } = await submitRun(db, { plan: plan(diamond), spec: diamond });
    const [source] = await queuedJobs(db);
    if (!source) throw new Error('no source job');
    const startedAt = new Date(Date.now() - 50).toISOString();
    const result = { ...succeeded(source, { data: ref(7) }), started: { at: startedAt, workerId: 'w-quick', host: 'h-1' } } as StageEvent;
    expect((await applyStageEvent(db, result)).outcome).toBe('applied');
    const [attempt] = await db.select().from(attempts).where(eq(attempts.id, source.attemptId));
    expect([attempt?.status, attempt?.workerId, attempt?.host, attempt?.startedAt?.toISOString()]).toEqual(['SUCCEEDED', 'w-quick', 'h-1', startedAt]);
    const [stage] = await db.select().from(stageRuns).where(eq(stageRuns.id, source.stageRunId));
    expect(stage?.startedAt?.toISOString()).toBe(startedAt);
    const [run] = await db.select().from(runs).where(eq(runs.id, runId));
    expect([run?.status, run?.startedAt?.toISOString()]).toEqual(['RUNNING', startedAt]);
  });

  it('submits several runs in one transaction: one version per spec, each run with its ready stages queued', async () => {
    await db.delete(outbox);
    const renamed = { ...diamond, name: `diamond-${Date.now()}` };
    const submitted = await submitRuns(db, [
      { plan: plan(diamond), spec: diamond },
      { plan: plan(renamed), spec: renamed },
      { plan: plan(renamed), spec: renamed },
    ]);
    expect(submitted.map((s) => [s.status, s.enqueued, s.replayed])).toEqual([
      ['QUEUED', 1, false],
      ['QUEUED', 1, false],
      ['QUEUED', 1, false],
    ]);
    // The new spec got one version, shared by both of its runs; the known one kept its own.
    expect(submitted[1]?.pipelineId).toBe(submitted[2]?.pipelineId);
    expect(submitted[1]?.pipelineVersion).toBe(1);
    expect(submitted[0]?.pipelineId).not.toBe(submitted[1]?.pipelineId);
    const jobs = await queuedJobs(db);
    expect(jobs.map((j) => j.stageKey)).toEqual(['source', 'source', 'source']);
    expect(new Set(jobs.map((j) => j.runId))).toEqual(new Set(submitted.map((s) => s.runId)));
    for (const s of submitted) expect(await db.select().from(stageRuns).where(eq(stageRuns.runId, s.runId))).toHaveLength(4);
    await expect(submitRuns(db, [{ plan: plan(diamond), spec: diamond, idempotency: { key: 'k', requestHash: 'h' } }])).rejects.toThrow(/Idempotency-Key/);
  });

  it('writes the runs of a batch with one statement whose text does not grow with the batch', async () => {
    const statements: string[] = [];
    const logged = await openDatabase({ url: database.url }, { poolSize: 1, logger: { logQuery: (query) => statements.push(query) } });
    try {
      const write = async (n: number) => {
        statements.length = 0;
        await submitRuns(logged.db, Array.from({ length: n }, () => ({ plan: plan(diamond), spec: diamond })));
        const writes = statements.filter((q) => q.startsWith('with '));
        expect(writes).toHaveLength(1);
        return writes[0];
      };
      await write(1); // the spec's version is read here, then known
      // Each kind of row of all the runs goes through one part of the statement (before, a run
      // added its own parts: 3 KB of text per run).
      expect(await write(5)).toBe(await write(1));
    } finally {
      await logged.close();
    }
  });

  it('applies the results of several runs in one transaction, each run advancing as alone', async () => {
    await db.delete(outbox);
    const first = await submitRun(db, { plan: plan(diamond), spec: diamond });
    const second = await submitRun(db, { plan: plan(diamond), spec: diamond });
    const sources = await queuedJobs(db);
    await db.delete(outbox);
    const sourceOf = (runId: string) => {
      const job = sources.find((j) => j.runId === runId);
      if (!job) throw new Error('no source job');
      return job;
    };
    const a = sourceOf(first.runId);
    const b = sourceOf(second.runId);
    const { results, jobs } = await applyEventsOfRuns(db, [
      // Listed out of id order: the locks are taken in id order whatever the order here.
      { runId: second.runId, events: [succeeded(b, { data: ref(21) })] },
      // An event naming another run's attempt changes nothing.
      { runId: first.runId, events: [succeeded(a, { data: ref(11) }), { ...succeeded(b, { data: ref(12) }), runId: first.runId }] },
      { runId: '00000000-0000-4000-8000-000000000000', events: [succeeded(a, { data: ref(13) })] },
    ]);
    expect(results.map((r) => r.map((x) => x.outcome))).toEqual([['applied'], ['applied', 'unknown-attempt'], ['unknown-attempt']]);
    expect(jobs.map((j) => `${j.job.runId === first.runId ? 'first' : 'second'}.${j.job.stageKey}`).sort()).toEqual(['first.a', 'first.b', 'second.a', 'second.b']);
    const fanOut = await queuedJobs(db);
    expect(fanOut.filter((j) => j.runId === first.runId).every((j) => j.inputs.data?.digest === ref(11).digest)).toBe(true);
    expect(fanOut.filter((j) => j.runId === second.runId).every((j) => j.inputs.data?.digest === ref(21).digest)).toBe(true);
  });

  it('retries a retryable failure with backoff, fails a non-retryable one and skips what depends on it', async () => {
    await db.delete(outbox);
    const { runId } = await submitRun(db, { plan: plan(diamond), spec: diamond });
    const [source] = await queuedJobs(db);
    if (!source) throw new Error('no source job');
    await db.delete(outbox);
    await applyStageEvent(db, succeeded(source, { data: ref(5) }));
    const fanOut = await queuedJobs(db);
    await db.delete(outbox);
    const b = fanOut.find((j) => j.stageKey === 'b');
    const a = fanOut.find((j) => j.stageKey === 'a');
    if (!a || !b) throw new Error('missing fan-out jobs');
    const fail = (job: StageJob, retryable: boolean): StageEvent => ({
      type: 'stage.failed',
      runId,
      stageRunId: job.stageRunId,
      attemptId: job.attemptId,
      at: new Date().toISOString(),
      error: { kind: 'application', code: 'PW_ERR_BAD_DATA', message: 'boom', retryable },
      resourceUse: use,
    });

    // b allows 2 attempts: a retryable failure schedules attempt 2 after the backoff.
    await applyStageEvent(db, fail(b, true));
    const [bRow] = await db.select().from(stageRuns).where(eq(stageRuns.id, b.stageRunId));
    expect(bRow?.status).toBe('RETRY_WAIT');
    const [retryRow] = await db.select().from(outbox);
    expect(retryRow && retryRow.availableAt.getTime() - Date.now()).toBeGreaterThan(5_000);
    expect((retryRow?.payload as { job: StageJob }).job.attempt).toBe(2);
    expect((retryRow?.payload as { job: StageJob }).job.inputs.data?.digest).toBe(ref(5).digest);

    // a allows 1 attempt: it fails for good; the join is skipped once b is done too.
    await applyStageEvent(db, fail(a, false));
    const retry = (retryRow?.payload as { job: StageJob }).job;
    await db.delete(outbox);
    await applyStageEvent(db, succeeded(retry, { data: ref(6) }));
    const stages = await db.select().from(stageRuns).where(eq(stageRuns.runId, runId));
    expect(Object.fromEntries(stages.map((s) => [s.stageKey, s.status]))).toEqual({ source: 'SUCCEEDED', a: 'FAILED', b: 'SUCCEEDED', join: 'SKIPPED' });
    const [run] = await db.select().from(runs).where(eq(runs.id, runId));
    expect(run?.status).toBe('FAILED');
    const bAttempts = await db.select().from(attempts).where(eq(attempts.stageRunId, b.stageRunId));
    expect(bAttempts.map((x) => [x.number, x.status]).sort()).toEqual([
      [1, 'FAILED'],
      [2, 'SUCCEEDED'],
    ]);
  });

  it('stores progress metric batches once however often they are delivered', async () => {
    await db.delete(outbox);
    const { runId } = await submitRun(db, { plan: plan(diamond), spec: diamond });
    const [source] = await queuedJobs(db);
    if (!source) throw new Error('no source job');
    const batch: StageEvent = {
      type: 'stage.progress',
      runId,
      stageRunId: source.stageRunId,
      attemptId: source.attemptId,
      at: new Date().toISOString(),
      seq: 0,
      metrics: [
        { name: 'loss', step: 1, value: 0.5 },
        { name: 'loss', step: 2, value: 0.25 },
      ],
    };
    await applyStageEvent(db, batch);
    await applyStageEvent(db, batch);
    const rows = await db.select().from(metrics).where(eq(metrics.attemptId, source.attemptId));
    expect(rows.map((r) => [r.step, r.value])).toEqual([
      [1, 0.5],
      [2, 0.25],
    ]);
  });

  it('completes a series from the result when a progress event was lost, and stores no point twice', async () => {
    await db.delete(outbox);
    const { runId } = await submitRun(db, { plan: plan(diamond), spec: diamond });
    const [source] = await queuedJobs(db);
    if (!source) throw new Error('no source job');
    const point = (step: number) => ({ name: 'loss', step, value: 1 / step });
    const base = { runId, stageRunId: source.stageRunId, attemptId: source.attemptId, at: new Date().toISOString() };
    // Batch 0 arrives, batch 1 (steps 3, 4) is lost; the result repeats all four points.
    await applyStageEvent(db, { type: 'stage.progress', ...base, seq: 0, metrics: [point(1), point(2)] });
    const done = { ...succeeded(source, { data: ref(7) }), series: [1, 2, 3, 4].map(point) };
    expect((await applyStageEvent(db, done)).outcome).toBe('applied');
    // A redelivered result is stale and adds nothing.
    expect((await applyStageEvent(db, done)).outcome).toBe('stale');
    const rows = await db.select().from(metrics).where(and(eq(metrics.attemptId, source.attemptId), eq(metrics.kind, 'series')));
    expect(rows.map((r) => [r.step, r.value]).sort((x, y) => (x[0] as number) - (y[0] as number))).toEqual([1, 2, 3, 4].map((s) => [s, 1 / s]));
  });

  it("submits a known spec in one round trip; reads a result's dependents in the lock's, whether the stage succeeds or fails", async () => {
    // A handle of its own that records every statement.
    const statements: string[] = [];
    const logged = await openDatabase({ url: database.url }, { poolSize: 1, logger: { logQuery: (query) => statements.push(query) } });
    const roundTrips = countRoundTrips(logged);
    try {
      const dependentsReads = () => statements.filter((q) => q.includes('jsonb_array_elements_text(cand.needs)')).length;
      await submitRun(logged.db, { plan: plan(diamond), spec: diamond });
      await db.delete(outbox);
      // The spec's version is known now: a submit is one statement, with its BEGIN and COMMIT.
      roundTrips.reset();
      const { runId } = await submitRun(logged.db, { plan: plan(diamond), spec: diamond });
      expect(roundTrips.count).toBe(1);
      const [source] = await queuedJobs(db);
      if (!source) throw new Error('no source job');
      await db.delete(outbox);

      statements.length = 0;
      roundTrips.reset();
      expect((await applyStageEvent(logged.db, succeeded(source, { data: ref(1) }))).outcome).toBe('applied');
      expect(dependentsReads()).toBe(1); // the guess, used
      // BEGIN, the locks and the dependents together; the writes and COMMIT together.
      expect(roundTrips.count).toBe(2);
      const fanOut = await queuedJobs(db);
      expect(fanOut.map((j) => j.stageKey).sort()).toEqual(['a', 'b']);
      await db.delete(outbox);

      // A success without its declared output fails the stage: the guess (which stages end)
      // still holds, and the counts read take the failure from memory.
      const a = fanOut.find((j) => j.stageKey === 'a');
      if (!a) throw new Error('no job for a');
      statements.length = 0;
      expect((await applyStageEvent(logged.db, succeeded(a, {}))).outcome).toBe('applied');
      // The guess, used, then the dependents of the join it skipped.
      expect(dependentsReads()).toBe(2);
      const stages = await db.select().from(stageRuns).where(eq(stageRuns.runId, runId));
      expect(Object.fromEntries(stages.map((st) => [st.stageKey, st.status]))).toMatchObject({ a: 'FAILED', join: 'SKIPPED' });

      // A result naming another stage than its attempt's: the guess is read, then set aside.
      const b = fanOut.find((j) => j.stageKey === 'b');
      if (!b) throw new Error('no job for b');
      statements.length = 0;
      expect((await applyStageEvent(logged.db, { ...succeeded(b, { data: ref(3) }), stageRunId: a.stageRunId })).outcome).toBe('applied');
      expect(dependentsReads()).toBe(2);
      const [bRow] = await db.select().from(stageRuns).where(eq(stageRuns.id, b.stageRunId));
      expect(bRow?.status).toBe('SUCCEEDED');
    } finally {
      await logged.close();
    }
  });

  it('relays the outbox to BullMQ with deterministic job ids, so a second publish adds nothing', async () => {
    const redisUrl = testRedisUrl();
    const prefix = testQueuePrefix();
    const connection = openRedis(redisUrl);
    const producer = new QueueProducer({ connection, prefix });
    try {
      await db.delete(outbox);
      const { runId } = await submitRun(db, { plan: plan(diamond), spec: diamond });
      const [row] = await db.select().from(outbox);
      expect(await relayOutbox(db, producer)).toBe(1);
      expect(await db.select().from(outbox)).toHaveLength(0);
      // Simulate a crash after publishing but before the delete committed: publish again.
      await db.insert(outbox).values({ kind: row?.kind ?? '', payload: row?.payload });
      expect(await relayOutbox(db, producer)).toBe(1);
      const queue = producer.queue('stage-source-cpu');
      const jobs = await queue.getJobs(['waiting', 'delayed', 'active']);
      expect(jobs).toHaveLength(1);
      const job = (row?.payload as { job: StageJob }).job;
      expect(jobs[0]?.id).toBe(`${job.stageRunId}.1`);
      expect(jobs[0]?.data.runId).toBe(runId);
    } finally {
      await producer.close();
      connection.disconnect();
      await cleanupRedisPrefix(redisUrl, prefix);
    }
  });
});
