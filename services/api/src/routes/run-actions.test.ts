import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArtifactRef, CacheExplanation } from '@pipewright/core';
import { and, attempts, eq, inArray, outbox, runs } from '@pipewright/db';
import { applyStageEvent } from '@pipewright/engine';
import type { StageEvent, StageJob } from '@pipewright/queue';
import { createTestApi, expectApiError, type TestApi } from '../test-app.ts';

/**
 * The run actions (retry, cancel, stage detail and logs) over runs of util stages submitted
 * through the API and advanced by hand the way the orchestrator advances them: worker events
 * applied to the database with applyStageEvent. Outputs are real JSON blobs in the store, built
 * the way the util stages build theirs, so digests (and with them cache keys) behave as in
 * production.
 *
 * Every test submits its own runs. Specs turn the cache off unless a test is about the cache,
 * which then uses a label no other test uses: the cache is shared by the whole database.
 */

interface Attempt {
  id: string;
  number: number;
  status: string;
  error: { code?: string; kind?: string } | null;
}
interface Artifact {
  id: string;
  runId: string;
  digest: string;
  producedBy: { stage: string; stageRunId: string; attemptId: string; attempt: number };
}
interface Stage {
  id: string;
  stage: string;
  status: string;
  params: Record<string, unknown>;
  attemptCount: number;
  error: { code?: string; reason?: string } | null;
  attempts: Attempt[];
  outputs: Record<string, Artifact>;
  cacheExplanation: CacheExplanation | null;
}
interface StageDetail extends Stage {
  runId: string;
  inputs: Record<string, { from: { stage: string; output: string }; type: string; artifact: Artifact | null }>;
  cacheKey: string | null;
  cacheComponents: unknown;
  links: Record<string, string>;
}
interface RunDetail {
  id: string;
  status: string;
  stages: Stage[];
}
interface Retried {
  id: string;
  status: string;
  reset: string[];
  replayed: boolean;
  links: Record<string, string>;
}
interface CancelResult {
  runId: string;
  runStatus: string;
  canceled: string[];
  stopping: string[];
}
interface BulkResult {
  done: string[];
  skipped: { id: string; code: string; message: string }[];
}

const resourceUse = { cpuUserMs: 1, cpuSystemMs: 1, peakRssBytes: 1024, wallMs: 2 };

/**
 * a -> b -> c, a -> d, and m merging c and d. The run param `label` reaches only c, so changing
 * it re-plans c and m and nothing else.
 */
function diamond(name: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'pipewright/v1',
    name,
    cache: false,
    params: { label: { type: 'string', default: 'one' } },
    stages: [
      { id: 'a', uses: 'util.noop@1' },
      { id: 'b', uses: 'util.transform@1', needs: ['a'], inputs: { in: 'a.out' } },
      { id: 'c', uses: 'util.transform@1', needs: ['b'], inputs: { in: 'b.out' }, with: { label: '${{ params.label }}' } },
      { id: 'd', uses: 'util.transform@1', needs: ['a'], inputs: { in: 'a.out' } },
      { id: 'm', uses: 'util.merge@1', needs: ['c', 'd'], inputs: { a: 'c.out', b: 'd.out' } },
    ],
    ...extra,
  };
}
const DIAMOND = ['a', 'b', 'c', 'd', 'm'];

/** a -> b -> c with the cache on; the run param `label` goes to a. */
function chain(name: string, label: string) {
  return {
    apiVersion: 'pipewright/v1',
    name,
    params: { label: { type: 'string', default: label } },
    stages: [
      { id: 'a', uses: 'util.noop@1', with: { label: '${{ params.label }}' } },
      { id: 'b', uses: 'util.transform@1', needs: ['a'], inputs: { in: 'a.out' } },
      { id: 'c', uses: 'util.transform@1', needs: ['b'], inputs: { in: 'b.out' } },
    ],
  };
}

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi();
});
afterAll(() => api.close());

async function post(url: string, payload?: unknown, headers: Record<string, string> = {}) {
  return api.inject({ method: 'POST', url, headers, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
}

async function submit(spec: unknown, headers: Record<string, string> = {}): Promise<string> {
  const response = await post('/v1/runs', spec, headers);
  expect(response.statusCode, response.body).toBe(201);
  return response.json<{ id: string }>().id;
}

async function getRun(id: string): Promise<RunDetail> {
  const response = await api.inject(`/v1/runs/${id}`);
  expect(response.statusCode, response.body).toBe(200);
  return response.json<RunDetail>();
}

async function statuses(id: string): Promise<Record<string, string>> {
  return Object.fromEntries((await getRun(id)).stages.map((s) => [s.stage, s.status]));
}

async function getStage(id: string, stage: string): Promise<StageDetail> {
  const response = await api.inject(`/v1/runs/${id}/stages/${stage}`);
  expect(response.statusCode, response.body).toBe(200);
  return response.json<StageDetail>();
}

async function attemptCount(runId: string): Promise<number> {
  return (await api.db.select({ id: attempts.id }).from(attempts).where(eq(attempts.runId, runId))).length;
}

/** The jobs of the run's QUEUED attempts, as the relay would publish them. */
async function queuedJobs(runId: string): Promise<StageJob[]> {
  const queued = await api.db
    .select({ id: attempts.id })
    .from(attempts)
    .where(and(eq(attempts.runId, runId), eq(attempts.status, 'QUEUED')));
  const ids = new Set(queued.map((a) => a.id));
  const rows = await api.db.select().from(outbox).where(eq(outbox.kind, 'stage.run'));
  return rows.map((r) => (r.payload as { job: StageJob }).job).filter((j) => ids.has(j.attemptId));
}

async function jobOf(runId: string, stage: string): Promise<StageJob> {
  const job = (await queuedJobs(runId)).find((j) => j.stageKey === stage);
  if (!job) throw new Error(`run ${runId}: no queued job for stage ${stage}`);
  return job;
}

async function apply(event: StageEvent): Promise<void> {
  expect((await applyStageEvent(api.db, event)).outcome, `${event.type} of ${event.attemptId}`).toBe('applied');
}

function base(job: StageJob) {
  return { runId: job.runId, stageRunId: job.stageRunId, attemptId: job.attemptId, at: new Date().toISOString() };
}

async function start(job: StageJob): Promise<void> {
  await apply({ type: 'stage.started', ...base(job), workerId: 'worker-1', host: 'host-1' });
}

/** Succeeds the way a util stage does: a JSON blob naming the stage, its label and its inputs. */
async function succeed(job: StageJob): Promise<void> {
  const content = { stage: job.stageKey, label: job.params['label'] ?? null, consumed: Object.fromEntries(Object.entries(job.inputs).map(([k, v]) => [k, v.digest])) };
  const blob = await api.store.put(new TextEncoder().encode(`${JSON.stringify(content)}\n`));
  const out: ArtifactRef = { ...blob, type: 'json', mediaType: 'application/json' };
  await apply({ type: 'stage.succeeded', ...base(job), outputs: { out }, metrics: { attempt: job.attempt }, resourceUse });
}

async function fail(job: StageJob, code = 'PW_ERR_TEST_FAILURE', retryable = false): Promise<void> {
  await apply({ type: 'stage.failed', ...base(job), error: { kind: 'application', code, message: `failing on purpose (${code})`, retryable }, resourceUse });
}

async function cancelAck(job: StageJob): Promise<void> {
  await apply({ type: 'stage.failed', ...base(job), error: { kind: 'canceled', code: 'PW_ERR_STAGE_CANCELED', message: 'canceled', retryable: false }, resourceUse });
}

/**
 * Plays the workers until no queued job is left: each job starts, then succeeds, unless
 * `failing` names its stage (then it fails with that code). Returns `stage#attempt` in order.
 */
async function drive(runId: string, failing: Record<string, string> = {}): Promise<string[]> {
  const ran: string[] = [];
  for (let jobs = await queuedJobs(runId); jobs.length; jobs = await queuedJobs(runId)) {
    for (const job of jobs.sort((x, y) => x.stageKey.localeCompare(y.stageKey))) {
      ran.push(`${job.stageKey}#${job.attempt}`);
      await start(job);
      const code = failing[job.stageKey];
      if (code) await fail(job, code);
      else await succeed(job);
    }
  }
  return ran;
}

/** A diamond run that FAILED at b: a and d SUCCEEDED, c and m SKIPPED. */
async function failedRun(name: string, code = 'PW_ERR_TEST_FAILURE'): Promise<string> {
  const id = await submit(diamond(name));
  expect(await drive(id, { b: code })).toEqual(['a#1', 'b#1', 'd#1']);
  expect((await getRun(id)).status).toBe('FAILED');
  return id;
}

async function succeededRun(name: string): Promise<string> {
  const id = await submit(diamond(name));
  await drive(id);
  expect((await getRun(id)).status).toBe('SUCCEEDED');
  return id;
}

describe('POST /v1/runs/{id}/retry', () => {
  it('answers 409 PW_ERR_RUN_NOT_RETRYABLE for a run that has not ended', async () => {
    const id = await submit(diamond('retry-live'));
    const queued = expectApiError(await post(`/v1/runs/${id}/retry`), 409, 'PW_ERR_RUN_NOT_RETRYABLE');
    expect(queued.details).toEqual({ status: 'QUEUED' });
    await start(await jobOf(id, 'a'));
    const running = expectApiError(await post(`/v1/runs/${id}/retry`, {}), 409, 'PW_ERR_RUN_NOT_RETRYABLE');
    expect(running.details).toEqual({ status: 'RUNNING' });
    expect(await attemptCount(id)).toBe(1);
  });

  it('answers 404 for an unknown run and 400 for an id that is not a UUID', async () => {
    expectApiError(await post(`/v1/runs/${randomUUID()}/retry`), 404, 'PW_ERR_RUN_NOT_FOUND');
    expectApiError(await post(`/v1/runs/${randomUUID()}/retry`, { params: { label: 'x' } }), 404, 'PW_ERR_RUN_NOT_FOUND');
    const body = expectApiError(await post('/v1/runs/not-a-uuid/retry'), 400, 'PW_ERR_VALIDATION');
    expect(body.message).toContain('id');
  });

  it('answers 400 naming the field for a bad body, and changes nothing', async () => {
    const id = await failedRun('retry-bad-body');
    const unknownKey = expectApiError(await post(`/v1/runs/${id}/retry`, { frmStage: 'b' }), 400, 'PW_ERR_VALIDATION');
    expect(unknownKey.message).toContain('frmStage');
    const notString = expectApiError(await post(`/v1/runs/${id}/retry`, { fromStage: 5 }), 400, 'PW_ERR_VALIDATION');
    expect(notString.message).toMatch(/^body\.fromStage: /);
    expect(notString.details).toEqual({ problems: [expect.objectContaining({ field: 'body.fromStage' })] });
    const badParams = expectApiError(await post(`/v1/runs/${id}/retry`, { params: 'label=two' }), 400, 'PW_ERR_VALIDATION');
    expect(badParams.message).toContain('body.params');
    expect((await getRun(id)).status).toBe('FAILED');
    expect(await attemptCount(id)).toBe(3);
  });

  it('answers 404 PW_ERR_STAGE_NOT_FOUND when fromStage names no stage', async () => {
    const id = await failedRun('retry-no-stage');
    const body = expectApiError(await post(`/v1/runs/${id}/retry`, { fromStage: 'nope' }), 404, 'PW_ERR_STAGE_NOT_FOUND');
    expect(body.message).toContain('nope');
    expect(body.details).toEqual({ field: 'fromStage' });
    expect((await getRun(id)).status).toBe('FAILED');
  });

  it('answers 409 PW_ERR_NOTHING_TO_RETRY for a SUCCEEDED run without fromStage or params', async () => {
    const id = await succeededRun('retry-nothing');
    expectApiError(await post(`/v1/runs/${id}/retry`), 409, 'PW_ERR_NOTHING_TO_RETRY');
    expectApiError(await post(`/v1/runs/${id}/retry`, {}), 409, 'PW_ERR_NOTHING_TO_RETRY');
    // Params equal to the current ones change no stage either.
    expectApiError(await post(`/v1/runs/${id}/retry`, { params: { label: 'one' } }), 409, 'PW_ERR_NOTHING_TO_RETRY');
    expect((await getRun(id)).status).toBe('SUCCEEDED');
  });

  it('retries a FAILED run from its failure frontier: the failed and skipped stages and their descendants', async () => {
    const id = await failedRun('retry-failed');
    expect(await statuses(id)).toEqual({ a: 'SUCCEEDED', b: 'FAILED', c: 'SKIPPED', d: 'SUCCEEDED', m: 'SKIPPED' });
    const before = await getRun(id);

    const response = await post(`/v1/runs/${id}/retry`);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json<Retried>()).toEqual({
      id,
      status: 'RUNNING',
      reset: ['b', 'c', 'm'],
      replayed: false,
      links: { self: `/v1/runs/${id}`, lineage: `/v1/runs/${id}/lineage`, metrics: `/v1/runs/${id}/metrics` },
    });
    expect(await statuses(id)).toEqual({ a: 'SUCCEEDED', b: 'QUEUED', c: 'PENDING', d: 'SUCCEEDED', m: 'PENDING' });

    // Only the reset stages run; a and d keep their outputs and their single attempt.
    expect(await drive(id)).toEqual(['b#2', 'c#1', 'm#1']);
    const after = await getRun(id);
    expect(after.status).toBe('SUCCEEDED');
    for (const key of ['a', 'd']) {
      const was = before.stages.find((s) => s.stage === key);
      const is = after.stages.find((s) => s.stage === key);
      expect(is?.attempts.map((a) => a.id)).toEqual(was?.attempts.map((a) => a.id));
      expect(is?.outputs['out']?.id).toBe(was?.outputs['out']?.id);
    }
    const b = after.stages.find((s) => s.stage === 'b');
    expect(b?.attempts.map((a) => [a.number, a.status, a.error?.code ?? null])).toEqual([
      [1, 'FAILED', 'PW_ERR_TEST_FAILURE'],
      [2, 'SUCCEEDED', null],
    ]);
    expect(b?.error).toBeNull();
  });

  it('re-runs fromStage and its descendants of a SUCCEEDED run', async () => {
    const id = await succeededRun('retry-from');
    const response = await post(`/v1/runs/${id}/retry`, { fromStage: 'd' });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json<Retried>().reset).toEqual(['d', 'm']);
    expect(await drive(id)).toEqual(['d#2', 'm#2']);
    expect((await getRun(id)).status).toBe('SUCCEEDED');
  });

  it('fromStage on a FAILED run adds to the failure frontier rather than replacing it', async () => {
    const id = await failedRun('retry-from-failed');
    const response = await post(`/v1/runs/${id}/retry`, { fromStage: 'd' });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json<Retried>().reset).toEqual(['b', 'c', 'd', 'm']);
    expect(await drive(id)).toEqual(['b#2', 'd#2', 'c#1', 'm#1']);
    expect((await getRun(id)).status).toBe('SUCCEEDED');
  });

  it('with params re-runs only the stages whose params change, and answers 400 with problems when they do not type-check', async () => {
    const id = await succeededRun('retry-params');
    const wrongType = expectApiError(await post(`/v1/runs/${id}/retry`, { params: { label: 5 } }), 400, 'PW_ERR_SPEC_INVALID');
    expect(wrongType.details).toEqual({ problems: [expect.objectContaining({ path: 'params.label', code: 'PW_SPEC_PARAM_TYPE' })] });
    const undeclared = expectApiError(await post(`/v1/runs/${id}/retry`, { params: { lable: 'two' } }), 400, 'PW_ERR_SPEC_INVALID');
    expect(JSON.stringify(undeclared.details)).toContain('lable');
    expect((await getRun(id)).status).toBe('SUCCEEDED');

    const response = await post(`/v1/runs/${id}/retry`, { params: { label: 'two' } });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json<Retried>().reset).toEqual(['c', 'm']);
    expect(await drive(id)).toEqual(['c#2', 'm#2']);
    const run = await getRun(id);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.stages.find((s) => s.stage === 'c')?.params).toMatchObject({ label: 'two' });
    const [row] = await api.db.select({ params: runs.params }).from(runs).where(eq(runs.id, id));
    expect(row?.params).toEqual({ label: 'two' });
  });

  it('replays a repeated Idempotency-Key without new attempts, and refuses it for another body', async () => {
    const id = await failedRun('retry-idempotent');
    const key = { 'idempotency-key': `retry-${randomUUID()}` };
    const first = await post(`/v1/runs/${id}/retry`, {}, key);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json<Retried>()).toMatchObject({ reset: ['b', 'c', 'm'], replayed: false });
    const attemptsAfterFirst = await attemptCount(id);
    expect(attemptsAfterFirst).toBe(4);

    const second = await post(`/v1/runs/${id}/retry`, {}, key);
    expect(second.statusCode, second.body).toBe(200);
    expect(second.json<Retried>()).toMatchObject({ id, status: 'RUNNING', reset: [], replayed: true });
    expect(await attemptCount(id)).toBe(attemptsAfterFirst);

    const conflict = expectApiError(await post(`/v1/runs/${id}/retry`, { fromStage: 'a' }, key), 409, 'PW_ERR_IDEMPOTENCY_CONFLICT');
    expect(conflict.details).toEqual({ runId: id });

    // The same key is scoped to its run: on another run it is a first use.
    const other = await failedRun('retry-idempotent');
    const elsewhere = await post(`/v1/runs/${other}/retry`, {}, key);
    expect(elsewhere.statusCode, elsewhere.body).toBe(200);
    expect(elsewhere.json<Retried>().replayed).toBe(false);
    expect(await attemptCount(id)).toBe(attemptsAfterFirst);
  });
});

describe('POST /v1/runs with an Idempotency-Key', () => {
  it('answers the same key and body with the original run (200), and another body with 409', async () => {
    const name = `idem-submit-${randomUUID().slice(0, 8)}`;
    const spec = diamond(name);
    const key = { 'idempotency-key': `submit-${randomUUID()}` };
    const first = await post('/v1/runs', spec, key);
    expect(first.statusCode, first.body).toBe(201);
    const id = first.json<{ id: string }>().id;

    const again = await post('/v1/runs', spec, key);
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json()).toEqual(first.json());
    expect(again.headers.location).toBe(`/v1/runs/${id}`);
    expect(await api.db.select({ id: runs.id }).from(runs).where(eq(runs.pipelineName, name))).toEqual([{ id }]);
    expect(await attemptCount(id)).toBe(1);

    // A replay after the run moved on answers its current status.
    await drive(id);
    const later = await post('/v1/runs', spec, key);
    expect(later.statusCode, later.body).toBe(200);
    expect(later.json()).toMatchObject({ id, status: 'SUCCEEDED' });

    const conflict = expectApiError(await post('/v1/runs', { ...spec, description: 'another request' }, key), 409, 'PW_ERR_IDEMPOTENCY_CONFLICT');
    expect(conflict.details).toEqual({ runId: id });
    expect(await api.db.select({ id: runs.id }).from(runs).where(eq(runs.pipelineName, name))).toEqual([{ id }]);

    // Without a key, the same body is a new run.
    expect(await submit(spec)).not.toBe(id);
  });
});

describe('POST /v1/runs/{id}/cancel', () => {
  it('answers 202: stages not started are canceled at once, running ones are stopping', async () => {
    const id = await submit(diamond('cancel-running'));
    const a = await jobOf(id, 'a');
    await start(a);

    const response = await post(`/v1/runs/${id}/cancel`);
    expect(response.statusCode, response.body).toBe(202);
    const result = response.json<CancelResult>();
    expect({ ...result, canceled: [...result.canceled].sort() }).toEqual({ runId: id, runStatus: 'CANCELING', canceled: ['b', 'c', 'd', 'm'], stopping: ['a'] });
    // The worker running a is told to abort.
    const cancels = await api.db.select().from(outbox).where(eq(outbox.kind, 'stage.cancel'));
    expect(cancels.map((r) => (r.payload as { attemptId: string }).attemptId)).toContain(a.attemptId);
    expect((await getRun(id)).status).toBe('CANCELING');

    // Canceling again while it stops is allowed and changes nothing.
    const again = await post(`/v1/runs/${id}/cancel`);
    expect(again.statusCode, again.body).toBe(202);
    expect(again.json<CancelResult>()).toMatchObject({ runStatus: 'CANCELING', canceled: [], stopping: ['a'] });

    await cancelAck(a);
    const run = await getRun(id);
    expect(run.status).toBe('CANCELED');
    expect(Object.values(await statuses(id))).toEqual(['CANCELED', 'CANCELED', 'CANCELED', 'CANCELED', 'CANCELED']);
    expect(run.stages[0]?.attempts.map((x) => [x.status, x.error?.code])).toEqual([['CANCELED', 'PW_ERR_STAGE_CANCELED']]);
  });

  it('cancels a run whose first stage is only queued at once, removing its job', async () => {
    const id = await submit(diamond('cancel-queued'));
    const a = await jobOf(id, 'a');
    const response = await post(`/v1/runs/${id}/cancel`);
    expect(response.statusCode, response.body).toBe(202);
    const result = response.json<CancelResult>();
    expect(result.runStatus).toBe('CANCELED');
    expect(result.canceled.sort()).toEqual(DIAMOND);
    expect(result.stopping).toEqual([]);
    const jobs = (await api.db.select().from(outbox).where(eq(outbox.kind, 'stage.run'))).map((r) => (r.payload as { job: StageJob }).job);
    expect(jobs.map((j) => j.attemptId)).not.toContain(a.attemptId);
    expect((await getRun(id)).stages[0]?.attempts.map((x) => x.status)).toEqual(['CANCELED']);
  });

  it('answers 409 PW_ERR_RUN_NOT_CANCELABLE for an ended run and 404 for an unknown one', async () => {
    const succeeded = await succeededRun('cancel-ended');
    const body = expectApiError(await post(`/v1/runs/${succeeded}/cancel`), 409, 'PW_ERR_RUN_NOT_CANCELABLE');
    expect(body.details).toEqual({ status: 'SUCCEEDED' });
    const failed = await failedRun('cancel-ended');
    expectApiError(await post(`/v1/runs/${failed}/cancel`), 409, 'PW_ERR_RUN_NOT_CANCELABLE');
    expectApiError(await post(`/v1/runs/${randomUUID()}/cancel`), 404, 'PW_ERR_RUN_NOT_FOUND');
    expect((await getRun(succeeded)).status).toBe('SUCCEEDED');
  });

  it('a CANCELED run can be retried: every stage that did not succeed runs again', async () => {
    const id = await submit(diamond('cancel-retry'));
    const a = await jobOf(id, 'a');
    await start(a);
    await succeed(a);
    await post(`/v1/runs/${id}/cancel`);
    expect(await statuses(id)).toEqual({ a: 'SUCCEEDED', b: 'CANCELED', c: 'CANCELED', d: 'CANCELED', m: 'CANCELED' });
    const retried = await post(`/v1/runs/${id}/retry`);
    expect(retried.statusCode, retried.body).toBe(200);
    expect(retried.json<Retried>().reset).toEqual(['b', 'c', 'd', 'm']);
    expect(await drive(id)).toEqual(['b#2', 'd#2', 'c#1', 'm#1']);
    expect((await getRun(id)).status).toBe('SUCCEEDED');
  });
});

describe('POST /v1/runs/{id}/stages/{stage}/cancel', () => {
  it('cancels one stage, skips what needs it, and lets the rest of the run go on', async () => {
    const id = await submit(diamond('cancel-stage'));
    const a = await jobOf(id, 'a');
    await start(a);
    await succeed(a);
    const b = await jobOf(id, 'b');
    await start(b);

    // d is queued: canceled at once; m needs it and is skipped.
    const queued = await post(`/v1/runs/${id}/stages/d/cancel`);
    expect(queued.statusCode, queued.body).toBe(202);
    expect(queued.json<CancelResult>()).toEqual({ runId: id, runStatus: 'RUNNING', canceled: ['d'], stopping: [] });
    expect(await statuses(id)).toEqual({ a: 'SUCCEEDED', b: 'RUNNING', c: 'PENDING', d: 'CANCELED', m: 'SKIPPED' });
    expect((await getRun(id)).stages.find((s) => s.stage === 'm')?.error).toEqual({ reason: 'upstream-not-succeeded' });

    expectApiError(await post(`/v1/runs/${id}/stages/d/cancel`), 409, 'PW_ERR_RUN_NOT_CANCELABLE');
    expectApiError(await post(`/v1/runs/${id}/stages/a/cancel`), 409, 'PW_ERR_RUN_NOT_CANCELABLE');
    expectApiError(await post(`/v1/runs/${id}/stages/zz/cancel`), 404, 'PW_ERR_STAGE_NOT_FOUND');
    expectApiError(await post(`/v1/runs/${randomUUID()}/stages/b/cancel`), 404, 'PW_ERR_RUN_NOT_FOUND');

    // b keeps running and succeeds; c runs.
    await succeed(b);
    const c = await jobOf(id, 'c');
    await start(c);

    // c is running: it is stopping until its worker reports.
    const running = await post(`/v1/runs/${id}/stages/c/cancel`);
    expect(running.statusCode, running.body).toBe(202);
    expect(running.json<CancelResult>()).toEqual({ runId: id, runStatus: 'RUNNING', canceled: [], stopping: ['c'] });
    expect((await statuses(id))['c']).toBe('RUNNING');
    await cancelAck(c);
    expect(await statuses(id)).toEqual({ a: 'SUCCEEDED', b: 'SUCCEEDED', c: 'CANCELED', d: 'CANCELED', m: 'SKIPPED' });
    expect((await getRun(id)).status).toBe('CANCELED');
  });

  it('a running stage whose cancel was asked ends CANCELED even when its worker reports a failure', async () => {
    const id = await submit(diamond('cancel-stage-fail'));
    const a = await jobOf(id, 'a');
    await start(a);
    await post(`/v1/runs/${id}/stages/a/cancel`);
    await fail(a, 'PW_ERR_TEST_FAILURE', true);
    expect(await statuses(id)).toEqual({ a: 'CANCELED', b: 'SKIPPED', c: 'SKIPPED', d: 'SKIPPED', m: 'SKIPPED' });
    expect(await attemptCount(id)).toBe(1);
  });
});

describe('POST /v1/runs/cancel', () => {
  it('cancels the live runs and skips the ended and unknown ones, each with its reason', async () => {
    const queued = await submit(diamond('bulk-cancel'));
    const running = await submit(diamond('bulk-cancel'));
    await start(await jobOf(running, 'a'));
    const ended = await succeededRun('bulk-cancel');
    const unknown = randomUUID();

    const response = await post('/v1/runs/cancel', { runIds: [queued, ended, running, unknown] });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json<BulkResult>()).toEqual({
      done: [queued, running],
      skipped: [
        { id: ended, code: 'PW_ERR_RUN_NOT_CANCELABLE', message: expect.stringContaining('SUCCEEDED') },
        { id: unknown, code: 'PW_ERR_RUN_NOT_FOUND', message: expect.any(String) },
      ],
    });
    expect((await getRun(queued)).status).toBe('CANCELED');
    expect((await getRun(running)).status).toBe('CANCELING');
    expect((await getRun(ended)).status).toBe('SUCCEEDED');
  });

  it('answers 400 for a bad body', async () => {
    expectApiError(await post('/v1/runs/cancel', { runIds: [] }), 400, 'PW_ERR_VALIDATION');
    const body = expectApiError(await post('/v1/runs/cancel', { runIds: ['not-a-uuid'] }), 400, 'PW_ERR_VALIDATION');
    expect(body.message).toContain('body.runIds.0');
    expectApiError(await post('/v1/runs/cancel', { ids: [randomUUID()] }), 400, 'PW_ERR_VALIDATION');
  });
});

describe('POST /v1/runs/retry', () => {
  it('with filter.errorCode retries only the runs with a stage that failed with that code', async () => {
    const code = `PW_ERR_INCIDENT_${randomUUID().slice(0, 8).toUpperCase()}`;
    const hit1 = await failedRun('bulk-retry', code);
    const hit2 = await failedRun('bulk-retry-other-pipeline', code);
    const otherCode = await failedRun('bulk-retry', 'PW_ERR_TEST_FAILURE');
    const succeeded = await succeededRun('bulk-retry');

    const response = await post('/v1/runs/retry', { filter: { errorCode: code } });
    expect(response.statusCode, response.body).toBe(200);
    const result = response.json<BulkResult>();
    expect(result.skipped).toEqual([]);
    // Newest first.
    expect(result.done).toEqual([hit2, hit1]);
    expect(await statuses(hit1)).toMatchObject({ b: 'QUEUED', c: 'PENDING', m: 'PENDING' });
    expect((await getRun(hit2)).status).toBe('RUNNING');
    expect((await getRun(otherCode)).status).toBe('FAILED');
    expect((await getRun(succeeded)).status).toBe('SUCCEEDED');

    // Retried runs no longer carry the code: a second pass finds nothing.
    const again = await post('/v1/runs/retry', { filter: { errorCode: code } });
    expect(again.json<BulkResult>()).toEqual({ done: [], skipped: [] });

    // The retried runs finish, this time successfully.
    await drive(hit1);
    expect((await getRun(hit1)).status).toBe('SUCCEEDED');
  });

  it('combines the filter fields, and answers 400 for an unknown one', async () => {
    const code = `PW_ERR_INCIDENT_${randomUUID().slice(0, 8).toUpperCase()}`;
    const mine = await failedRun('bulk-retry-scoped', code);
    const notMine = await failedRun('bulk-retry-unscoped', code);
    const response = await post('/v1/runs/retry', { filter: { errorCode: code, pipeline: 'bulk-retry-scoped', status: 'FAILED', createdAfter: new Date(Date.now() - 60_000).toISOString() } });
    expect(response.json<BulkResult>()).toEqual({ done: [mine], skipped: [] });
    expect((await getRun(notMine)).status).toBe('FAILED');

    const body = expectApiError(await post('/v1/runs/retry', { filter: { code } }), 400, 'PW_ERR_VALIDATION');
    expect(body.message).toContain('code');
    expectApiError(await post('/v1/runs/retry', {}), 400, 'PW_ERR_VALIDATION');
  });
});

describe('GET /v1/runs/{id}/stages/{stage}', () => {
  it('shows where each input comes from and the artifact bound to it', async () => {
    const id = await submit(diamond('stage-detail'));
    const pending = await getStage(id, 'm');
    expect(pending).toMatchObject({
      runId: id,
      stage: 'm',
      status: 'PENDING',
      attempts: [],
      outputs: {},
      cacheKey: null,
      inputs: {
        a: { from: { stage: 'c', output: 'out' }, type: 'json', artifact: null },
        b: { from: { stage: 'd', output: 'out' }, type: 'json', artifact: null },
      },
      links: { self: `/v1/runs/${id}/stages/m`, logs: `/v1/runs/${id}/stages/m/logs`, run: `/v1/runs/${id}` },
    });

    await drive(id);
    const run = await getRun(id);
    const m = await getStage(id, 'm');
    const producer = (key: string) => run.stages.find((s) => s.stage === key)?.outputs['out'];
    expect(m.status).toBe('SUCCEEDED');
    expect(m.inputs['a']?.artifact?.id).toBe(producer('c')?.id);
    expect(m.inputs['a']?.artifact?.producedBy.stage).toBe('c');
    expect(m.inputs['b']?.artifact?.id).toBe(producer('d')?.id);
    expect(m.cacheComponents).toEqual({ type: 'util.merge@1', params: expect.any(Object), inputs: { a: producer('c')?.digest, b: producer('d')?.digest } });
    expect(m.cacheExplanation).toMatchObject({ hit: false, reason: 'disabled', key: m.cacheKey });
    expect((await getStage(id, 'a')).inputs).toEqual({});
  });

  it('explains a cache hit by its source run, and a miss by the component that changed', async () => {
    const name = `cache-explain-${randomUUID().slice(0, 8)}`;
    const label = `label-${randomUUID()}`;
    const first = await submit(chain(name, label));
    const firstA = await getStage(first, 'a');
    expect(firstA.cacheExplanation).toMatchObject({ hit: false, reason: 'never-run' });
    expect(await drive(first)).toEqual(['a#1', 'b#1', 'c#1']);
    const firstRun = await getRun(first);

    // The same spec again: every stage is served from the cache when the run is stored.
    const response = await post('/v1/runs', chain(name, label));
    expect(response.statusCode, response.body).toBe(201);
    const second = response.json<{ id: string; status: string }>();
    expect(second.status).toBe('SUCCEEDED');
    expect(await queuedJobs(second.id)).toEqual([]);
    for (const key of ['a', 'b', 'c']) {
      const stage = await getStage(second.id, key);
      const source = firstRun.stages.find((s) => s.stage === key);
      expect(stage.status, key).toBe('CACHED');
      expect(stage.attempts).toEqual([]);
      expect(stage.cacheExplanation).toEqual({ hit: true, key: stage.cacheKey, source: { runId: first, stage: key, stageRunId: source?.id } });
      // The outputs are the first run's artifacts.
      expect(stage.outputs['out']?.id).toBe(source?.outputs['out']?.id);
      expect(stage.outputs['out']?.runId).toBe(first);
    }
    // Inputs of a cached stage resolve to the (first run's) artifacts it was keyed on.
    expect((await getStage(second.id, 'b')).inputs['in']?.artifact?.id).toBe(firstRun.stages[0]?.outputs['out']?.id);

    // A changed param: a misses because of it, b because its input changed with it.
    const third = await submit({ spec: chain(name, label), params: { label: `${label}-changed` } });
    const a = await getStage(third, 'a');
    expect(a.status).toBe('QUEUED');
    expect(a.cacheExplanation).toEqual({
      hit: false,
      key: a.cacheKey,
      reason: 'changed',
      changed: ['params.label'],
      comparedWith: { runId: first, stage: 'a', stageRunId: firstA.id },
    });
    expect(await drive(third)).toEqual(['a#1', 'b#1', 'c#1']);
    expect((await getStage(third, 'b')).cacheExplanation).toMatchObject({ hit: false, reason: 'changed', changed: ['inputs.in'] });
  });

  it('answers 404 for an unknown stage or run, 400 for a bad id', async () => {
    const id = await submit(diamond('stage-detail-404'));
    expectApiError(await api.inject(`/v1/runs/${id}/stages/zz`), 404, 'PW_ERR_STAGE_NOT_FOUND');
    expectApiError(await api.inject(`/v1/runs/${randomUUID()}/stages/a`), 404, 'PW_ERR_RUN_NOT_FOUND');
    expectApiError(await api.inject('/v1/runs/nope/stages/a'), 400, 'PW_ERR_VALIDATION');
  });
});

describe('GET /v1/runs/{id}/stages/{stage}/logs', () => {
  it("returns the lines shipped in progress events' logs, across attempts, oldest first", async () => {
    const id = await submit(diamond('stage-logs'));
    const a = await jobOf(id, 'a');
    await start(a);
    const t0 = new Date(Date.now() - 1000).toISOString();
    const t1 = new Date().toISOString();
    await apply({
      type: 'stage.progress',
      ...base(a),
      seq: 0,
      metrics: [],
      logs: [
        { level: 'info', message: 'reading input', at: t0, fields: { rows: 3 } },
        { level: 'warn', message: 'column x is empty', at: t1 },
      ],
    });
    // A re-delivered batch adds nothing.
    await apply({ type: 'stage.progress', ...base(a), seq: 0, metrics: [], logs: [{ level: 'info', message: 'reading input', at: t0, fields: { rows: 3 } }] });
    await fail(a, 'PW_ERR_TEST_FAILURE', false);
    await post(`/v1/runs/${id}/retry`);
    const again = await jobOf(id, 'a');
    await start(again);
    await apply({ type: 'stage.progress', ...base(again), seq: 0, metrics: [{ name: 'progress', step: 1, value: 1 }], logs: [{ level: 'error', message: 'second try', at: t1 }] });

    const response = await api.inject(`/v1/runs/${id}/stages/a/logs`);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({
      items: [
        { at: t0, level: 'info', message: 'reading input', fields: { rows: 3 }, attempt: 1 },
        { at: t1, level: 'warn', message: 'column x is empty', fields: null, attempt: 1 },
        { at: t1, level: 'error', message: 'second try', fields: null, attempt: 2 },
      ],
    });
    const limited = await api.inject(`/v1/runs/${id}/stages/a/logs?limit=1`);
    expect(limited.json<{ items: unknown[] }>().items).toHaveLength(1);
    expect((await api.inject(`/v1/runs/${id}/stages/b/logs`)).json()).toEqual({ items: [] });

    expectApiError(await api.inject(`/v1/runs/${id}/stages/zz/logs`), 404, 'PW_ERR_STAGE_NOT_FOUND');
    expectApiError(await api.inject(`/v1/runs/${randomUUID()}/stages/a/logs`), 404, 'PW_ERR_RUN_NOT_FOUND');
    expectApiError(await api.inject(`/v1/runs/${id}/stages/a/logs?limit=0`), 400, 'PW_ERR_VALIDATION');
  });
});

describe('GET /v1/runs/{id} when a result overtakes its start', () => {
  // The orchestrator applies events concurrently: a worker's stage.failed can be applied before
  // its stage.started. The late start changes no state but still says who ran the attempt.
  it('keeps the worker, host and start time of an attempt whose start came late', async () => {
    const id = await submit(diamond('late-start'));
    const a = await jobOf(id, 'a');
    const startedAt = new Date(Date.now() - 500).toISOString();
    await fail(a, 'PW_ERR_TEST_FAILURE', true);
    const late = await applyStageEvent(api.db, { type: 'stage.started', ...base(a), at: startedAt, workerId: 'worker-7', host: 'host-7', backend: 'cpu' });
    expect(late.outcome).toBe('stale');
    const retry = await jobOf(id, 'a');
    expect(retry.attempt).toBe(2);
    await succeed(retry);
    await applyStageEvent(api.db, { type: 'stage.started', ...base(retry), at: startedAt, workerId: 'worker-8', host: 'host-8' });

    const stage = (await getRun(id)).stages.find((s) => s.stage === 'a');
    expect(stage?.status).toBe('SUCCEEDED');
    expect(stage?.attempts.map((x) => ({ number: x.number, status: x.status, ...pick(x) }))).toEqual([
      { number: 1, status: 'FAILED', workerId: 'worker-7', host: 'host-7', backend: 'cpu', startedAt },
      { number: 2, status: 'SUCCEEDED', workerId: 'worker-8', host: 'host-8', backend: null, startedAt },
    ]);
  });
});

function pick(attempt: Attempt) {
  const a = attempt as Attempt & { workerId: string | null; host: string | null; backend: string | null; startedAt: string | null };
  return { workerId: a.workerId, host: a.host, backend: a.backend, startedAt: a.startedAt };
}

// Keep the helpers honest: a driven run's attempts are exactly those of its stages.
describe('test driver', () => {
  it('plays every queued job once', async () => {
    const id = await submit(diamond('driver'));
    expect(await drive(id)).toEqual(['a#1', 'b#1', 'd#1', 'c#1', 'm#1']);
    const rows = await api.db.select({ status: attempts.status }).from(attempts).where(inArray(attempts.runId, [id]));
    expect(rows.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
  });
});
