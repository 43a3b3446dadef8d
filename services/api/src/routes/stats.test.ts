import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outbox, runs, sql, eq } from '@pipewright/db';
import { applyStageEvent } from '@pipewright/engine';
import type { StageJob } from '@pipewright/queue';
import { createTestApi, expectApiError, readExampleYaml, type TestApi } from '../test-app.ts';

interface RunStats {
  from: string;
  to: string;
  bucketMinutes: number;
  buckets: { start: string; counts: Record<string, number>; total: number }[];
  totals: Record<string, number>;
}

let api: TestApi;

async function submit(): Promise<{ runId: string; job: StageJob }> {
  const response = await api.inject({ method: 'POST', url: '/v1/runs', headers: { 'content-type': 'application/yaml' }, payload: await readExampleYaml() });
  const runId = response.json<{ id: string }>().id;
  const job = (await api.db.select().from(outbox)).map((r) => (r.payload as { job: StageJob }).job).find((j) => j.runId === runId);
  if (!job) throw new Error('no ingest job');
  return { runId, job };
}

async function fail(runId: string, job: StageJob, code: string, message: string): Promise<void> {
  const base = { runId, stageRunId: job.stageRunId, attemptId: job.attemptId, at: new Date().toISOString() };
  await applyStageEvent(api.db, { type: 'stage.started', ...base, workerId: 'w1', host: 'h1' });
  await applyStageEvent(api.db, {
    type: 'stage.failed',
    ...base,
    error: { kind: 'application', code, message, retryable: false },
    resourceUse: { cpuUserMs: 1, cpuSystemMs: 1, peakRssBytes: 1, wallMs: 1 },
  });
}

let failedRun = '';

beforeAll(async () => {
  api = await createTestApi();
  await submit();
  await submit();
  const { runId, job } = await submit();
  failedRun = runId;
  await fail(runId, job, 'PW_ERR_BAD_DATA', 'no rows in the table');
  // A run created three hours ago, and one outside a 24-hour window.
  const old = await submit();
  await api.db.update(runs).set({ createdAt: sql`now() - interval '3 hours'` }).where(eq(runs.id, old.runId));
  const ancient = await submit();
  await api.db.update(runs).set({ createdAt: sql`now() - interval '30 hours'` }).where(eq(runs.id, ancient.runId));
});
afterAll(() => api.close());

describe('GET /v1/stats/runs', () => {
  it('has 24 hourly buckets by default, every status in each, zeros included', async () => {
    const response = await api.inject('/v1/stats/runs');
    expect(response.statusCode, response.body).toBe(200);
    const stats = response.json<RunStats>();
    expect(stats.bucketMinutes).toBe(60);
    expect(stats.buckets).toHaveLength(24);
    const starts = stats.buckets.map((b) => Date.parse(b.start));
    expect(starts.every((t, i) => i === 0 || t - (starts[i - 1] ?? 0) === 3_600_000)).toBe(true);
    expect(Date.parse(stats.to) - Date.parse(stats.from)).toBe(24 * 3_600_000);
    for (const b of stats.buckets) expect(Object.keys(b.counts).sort()).toEqual(['CANCELED', 'CANCELING', 'FAILED', 'QUEUED', 'RUNNING', 'SUCCEEDED']);
    const last = stats.buckets.at(-1);
    expect(last?.counts).toMatchObject({ QUEUED: 2, FAILED: 1 });
    expect(stats.buckets.at(-4)?.counts.QUEUED).toBe(1);
    expect(stats.totals).toMatchObject({ QUEUED: 3, FAILED: 1, RUNNING: 0 });
  });

  it('takes hours, and rejects what is out of range', async () => {
    const stats = (await api.inject('/v1/stats/runs?hours=48')).json<RunStats>();
    expect(stats.buckets).toHaveLength(48);
    expect(stats.totals.QUEUED).toBe(4);
    expectApiError(await api.inject('/v1/stats/runs?hours=0'), 400, 'PW_ERR_VALIDATION');
    expectApiError(await api.inject('/v1/stats/runs?hours=abc'), 400, 'PW_ERR_VALIDATION');
  });
});

describe('GET /v1/stats/failures', () => {
  it('lists the failed attempts of the last hour with run, stage, code and message', async () => {
    const response = await api.inject('/v1/stats/failures');
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json<{ minutes: number; total: number; byCode: Record<string, number>; items: Record<string, unknown>[] }>();
    expect(body.minutes).toBe(60);
    expect(body.total).toBe(1);
    expect(body.byCode).toEqual({ PW_ERR_BAD_DATA: 1 });
    expect(body.items).toEqual([
      expect.objectContaining({ runId: failedRun, pipeline: 'breast-cancer-diagnosis', stage: 'ingest', attempt: 1, status: 'FAILED', code: 'PW_ERR_BAD_DATA', message: 'no rows in the table', retryable: false, host: 'h1' }),
    ]);
    expect(Date.now() - Date.parse(String(body.items[0]?.at))).toBeLessThan(60_000);
  });

  it('leaves out failures older than the window', async () => {
    await api.db.execute(sql`update attempts set finished_at = now() - interval '2 hours' where run_id = ${failedRun}`);
    const body = (await api.inject('/v1/stats/failures?minutes=60')).json<{ total: number; items: unknown[] }>();
    expect(body).toMatchObject({ total: 0, items: [] });
    expect((await api.inject('/v1/stats/failures?minutes=180')).json<{ total: number }>().total).toBe(1);
    expectApiError(await api.inject('/v1/stats/failures?minutes=0'), 400, 'PW_ERR_VALIDATION');
  });
});
