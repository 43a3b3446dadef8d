import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/start-test-stack.ts';

/**
 * Recovery with real workers: retry from the failure frontier, retries by policy, cancel of a
 * running handler, timeouts, and the cache across runs. Pipelines are util stages; each test
 * labels its first stage with a value of its own, so cache keys never collide between tests
 * (the cache spans the whole database).
 */

interface Attempt {
  id: string;
  number: number;
  status: string;
  workerId: string | null;
  error: { kind?: string; code?: string; retryable?: boolean } | null;
  startedAt: string | null;
  finishedAt: string | null;
}
interface Stage {
  id: string;
  stage: string;
  status: string;
  error: { code?: string } | null;
  metrics: Record<string, number> | null;
  attempts: Attempt[];
  outputs: Record<string, { id: string; runId: string; digest: string }>;
  cacheExplanation: { hit: boolean; key: string | null; reason?: string; source?: { runId: string; stage: string; stageRunId: string } } | null;
}
interface Run {
  id: string;
  status: string;
  stages: Stage[];
}
interface StageDetail extends Stage {
  inputs: Record<string, { from: { stage: string; output: string }; artifact: { id: string } | null }>;
  cacheKey: string | null;
}

const ENDED = ['SUCCEEDED', 'FAILED', 'CANCELED'];

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ workers: 2 });
});
afterAll(() => stack.stop());

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as T };
}

async function getRun(id: string): Promise<Run> {
  const { status, body } = await call<Run>('GET', `/v1/runs/${id}`);
  expect(status).toBe(200);
  return body;
}

function stageOf(run: Run, key: string): Stage {
  const stage = run.stages.find((s) => s.stage === key);
  if (!stage) throw new Error(`run ${run.id} has no stage ${key}`);
  return stage;
}

/** Polls the run until `done` holds; fails with the stage statuses after `timeoutMs`. */
async function waitFor(id: string, done: (run: Run) => boolean, timeoutMs = 60_000): Promise<Run> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await getRun(id);
    if (done(run)) return run;
    if (Date.now() > deadline) throw new Error(`run ${id} (${run.status}) did not get there in ${timeoutMs} ms: ${JSON.stringify(run.stages.map((s) => [s.stage, s.status]))}`);
    await sleep(50);
  }
}

const ended = (run: Run) => ENDED.includes(run.status);
const attemptsOf = (stage: Stage) => stage.attempts.map((a) => [a.number, a.status, a.error?.code ?? null]);

/** a -> b -> c of util stages; `b` and `a` add params to those stages. */
function chain(name: string, options: { a?: Record<string, unknown>; b?: Record<string, unknown> } = {}) {
  return {
    apiVersion: 'pipewright/v1',
    name,
    stages: [
      { id: 'a', uses: 'util.noop@1', with: { label: `${name}-${randomUUID()}`, ...options.a } },
      { id: 'b', uses: 'util.transform@1', needs: ['a'], inputs: { in: 'a.out' }, with: options.b ?? {} },
      { id: 'c', uses: 'util.transform@1', needs: ['b'], inputs: { in: 'b.out' } },
    ],
  };
}

describe('run recovery with real workers', () => {
  it('retries a FAILED run from its frontier: the stage that succeeded is not run again', async () => {
    const failed = await stack.runToEnd(chain('recovery-retry', { b: { failUntilAttempt: 1, failRetryable: false } }));
    expect(failed.status).toBe('FAILED');
    const before = await getRun(failed.id);
    expect(before.stages.map((s) => [s.stage, s.status])).toEqual([
      ['a', 'SUCCEEDED'],
      ['b', 'FAILED'],
      ['c', 'SKIPPED'],
    ]);
    expect(attemptsOf(stageOf(before, 'b'))).toEqual([[1, 'FAILED', 'PW_ERR_TEST_FAILURE']]);
    expect(stageOf(before, 'b').attempts[0]?.error?.retryable).toBe(false);

    const retried = await call<{ reset: string[]; replayed: boolean }>('POST', `/v1/runs/${failed.id}/retry`);
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    expect(retried.body).toMatchObject({ reset: ['b', 'c'], replayed: false });

    const run = await waitFor(failed.id, ended);
    expect(run.status).toBe('SUCCEEDED');
    const a = stageOf(run, 'a');
    // a did not run again: one attempt, the same output, which b's second attempt consumed.
    expect(attemptsOf(a)).toEqual([[1, 'SUCCEEDED', null]]);
    expect(a.attempts[0]?.id).toBe(stageOf(before, 'a').attempts[0]?.id);
    expect(a.outputs['out']?.id).toBe(stageOf(before, 'a').outputs['out']?.id);
    expect(attemptsOf(stageOf(run, 'b'))).toEqual([
      [1, 'FAILED', 'PW_ERR_TEST_FAILURE'],
      [2, 'SUCCEEDED', null],
    ]);
    expect(stageOf(run, 'b').metrics).toEqual({ attempt: 2 });
    expect(attemptsOf(stageOf(run, 'c'))).toEqual([[1, 'SUCCEEDED', null]]);
    const b = await call<StageDetail>('GET', `/v1/runs/${failed.id}/stages/b`);
    expect(b.body.inputs['in']?.artifact?.id).toBe(a.outputs['out']?.id);
  });

  it('retries a retryable failure by its policy and succeeds on attempt 3', async () => {
    const spec = {
      apiVersion: 'pipewright/v1',
      name: 'recovery-policy',
      stages: [
        {
          id: 'flaky',
          uses: 'util.noop@1',
          with: { label: randomUUID(), failUntilAttempt: 2 },
          retry: { attempts: 3, delayMs: 100 },
        },
      ],
    };
    const run = await stack.runToEnd(spec);
    expect(run.status).toBe('SUCCEEDED');
    // Every attempt ends up saying which worker ran it and when, whatever order its events were
    // applied in (a result can overtake its start; the start may land just after the run ended).
    const settled = await waitFor(run.id, (r) => r.stages.every((s) => s.attempts.every((a) => a.workerId !== null && a.startedAt !== null)), 5_000);
    const flaky = stageOf(settled, 'flaky');
    expect(flaky.status).toBe('SUCCEEDED');
    expect(attemptsOf(flaky)).toEqual([
      [1, 'FAILED', 'PW_ERR_TEST_FAILURE'],
      [2, 'FAILED', 'PW_ERR_TEST_FAILURE'],
      [3, 'SUCCEEDED', null],
    ]);
    expect(flaky.attempts.slice(0, 2).map((a) => a.error?.retryable)).toEqual([true, true]);
    expect(flaky.metrics).toEqual({ attempt: 3 });
    for (const attempt of flaky.attempts) expect(attempt.workerId).toMatch(/^stack-worker-/);
  });

  it('cancels a run while a stage sleeps: the handler is aborted and the run ends CANCELED', async () => {
    const spec = {
      apiVersion: 'pipewright/v1',
      name: 'recovery-cancel',
      stages: [
        { id: 'sleepy', uses: 'util.noop@1', with: { label: randomUUID(), sleepMs: 20_000 } },
        { id: 'after', uses: 'util.transform@1', needs: ['sleepy'], inputs: { in: 'sleepy.out' } },
        { id: 'last', uses: 'util.transform@1', needs: ['after'], inputs: { in: 'after.out' } },
      ],
    };
    const submitted = await call<{ id: string }>('POST', '/v1/runs', spec);
    expect(submitted.status).toBe(201);
    const id = submitted.body.id;
    await waitFor(id, (run) => stageOf(run, 'sleepy').attempts[0]?.status === 'RUNNING');

    const requestedAt = Date.now();
    const canceled = await call<{ runStatus: string; canceled: string[]; stopping: string[] }>('POST', `/v1/runs/${id}/cancel`);
    expect(canceled.status, JSON.stringify(canceled.body)).toBe(202);
    expect(canceled.body.runStatus).toBe('CANCELING');
    expect(canceled.body.stopping).toEqual(['sleepy']);
    expect([...canceled.body.canceled].sort()).toEqual(['after', 'last']);

    const run = await waitFor(id, ended, 15_000);
    expect(run.status).toBe('CANCELED');
    const sleepy = stageOf(run, 'sleepy');
    expect(sleepy.status).toBe('CANCELED');
    expect(sleepy.attempts.map((a) => [a.status, a.error?.kind, a.error?.code])).toEqual([['CANCELED', 'canceled', 'PW_ERR_STAGE_CANCELED']]);
    // The handler stopped on its AbortSignal: a worker gives a handler that ignores the signal
    // 5 s (abortGraceMs) before giving up on it, and the sleep had ~20 s left.
    const stoppedAfterMs = Date.parse(sleepy.attempts[0]?.finishedAt ?? '') - requestedAt;
    expect(stoppedAfterMs).toBeLessThan(4_000);
    for (const key of ['after', 'last']) {
      expect(['CANCELED', 'SKIPPED']).toContain(stageOf(run, key).status);
      expect(stageOf(run, key).attempts).toEqual([]);
    }

    // The worker is free again: another run goes through.
    const next = await stack.runToEnd(chain('recovery-after-cancel'), 30_000);
    expect(next.status).toBe('SUCCEEDED');
  });

  it('fails a stage that outlives its timeoutMs with PW_ERR_STAGE_TIMEOUT', async () => {
    const spec = {
      apiVersion: 'pipewright/v1',
      name: 'recovery-timeout',
      stages: [
        { id: 'slow', uses: 'util.noop@1', with: { label: randomUUID(), sleepMs: 5_000 }, timeoutMs: 500, retry: { attempts: 1 } },
        { id: 'after', uses: 'util.transform@1', needs: ['slow'], inputs: { in: 'slow.out' } },
      ],
    };
    const startedAt = Date.now();
    const ended = await stack.runToEnd(spec, 30_000);
    expect(ended.status).toBe('FAILED');
    const run = await getRun(ended.id);
    const slow = stageOf(run, 'slow');
    expect(slow.status).toBe('FAILED');
    expect(slow.error?.code).toBe('PW_ERR_STAGE_TIMEOUT');
    expect(slow.attempts.map((a) => [a.number, a.status, a.error?.kind, a.error?.code])).toEqual([[1, 'FAILED', 'timeout', 'PW_ERR_STAGE_TIMEOUT']]);
    expect(stageOf(run, 'after').status).toBe('SKIPPED');
    // Ended by the worker's timeout, well before the 5 s sleep would have.
    expect(Date.now() - startedAt).toBeLessThan(5_000);
  });

  it('serves a second identical run entirely from the cache, and explains each hit', async () => {
    const spec = chain('recovery-cache');
    const first = await stack.runToEnd(spec);
    expect(first.status).toBe('SUCCEEDED');
    const firstRun = await getRun(first.id);
    expect(firstRun.stages.map((s) => s.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);

    const second = await stack.runToEnd(spec);
    expect(second.status).toBe('SUCCEEDED');
    const secondRun = await getRun(second.id);
    expect(secondRun.stages.map((s) => s.status)).toEqual(['CACHED', 'CACHED', 'CACHED']);
    for (const key of ['a', 'b', 'c']) {
      const detail = await call<StageDetail>('GET', `/v1/runs/${second.id}/stages/${key}`);
      expect(detail.status).toBe(200);
      const source = stageOf(firstRun, key);
      expect(detail.body.status).toBe('CACHED');
      expect(detail.body.attempts).toEqual([]);
      expect(detail.body.cacheExplanation).toEqual({ hit: true, key: detail.body.cacheKey, source: { runId: first.id, stage: key, stageRunId: source.id } });
      expect(detail.body.outputs['out']?.id).toBe(source.outputs['out']?.id);
    }
  });
});
