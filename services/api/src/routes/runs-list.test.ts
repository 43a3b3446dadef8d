import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { planPipeline } from '@pipewright/core';
import { outbox } from '@pipewright/db';
import { applyStageEvent, submitRun } from '@pipewright/engine';
import type { StageJob } from '@pipewright/queue';
import { builtinStages, createStageRegistry } from '@pipewright/stages';
import { createTestApi, expectApiError, readExampleYaml, type TestApi } from '../test-app.ts';

interface RunSummary {
  id: string;
  pipeline: { id: string; name: string };
  status: string;
  createdAt: string;
  links: Record<string, string>;
}
interface RunList {
  items: RunSummary[];
  nextCursor: string | null;
}

let api: TestApi;
let spec: Record<string, unknown>;
/** Ids in submission order (oldest first), per pipeline name. */
const submitted: Record<string, string[]> = { 'breast-cancer-diagnosis': [], 'other-pipeline': [], arriving: [] };

async function submit(name: string): Promise<string> {
  const response = await api.inject({ method: 'POST', url: '/v1/runs', payload: { ...spec, name } });
  expect(response.statusCode, response.body).toBe(201);
  const { id } = response.json<{ id: string }>();
  submitted[name]?.push(id);
  // Distinct creation times, so "newest first" is the reverse of submission order.
  await sleep(3);
  return id;
}

async function list(query: string): Promise<RunList> {
  const response = await api.inject(`/v1/runs${query}`);
  expect(response.statusCode, response.body).toBe(200);
  return response.json<RunList>();
}

/** Follows nextCursor to the end; returns the page sizes and every id in order. */
async function paginate(query: string, limit: number): Promise<{ sizes: number[]; ids: string[] }> {
  const sizes: number[] = [];
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 50; page += 1) {
    const sep = query ? '&' : '?';
    const body = await list(`${query}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    sizes.push(body.items.length);
    ids.push(...body.items.map((r) => r.id));
    cursor = body.nextCursor;
    if (cursor === null) return { sizes, ids };
  }
  throw new Error('pagination does not end');
}

async function ingestJobOf(runId: string): Promise<StageJob> {
  const rows = await api.db.select().from(outbox);
  const job = rows.map((r) => (r.payload as { job: StageJob }).job).find((j) => j.runId === runId && j.stageKey === 'ingest');
  if (!job) throw new Error(`no ingest job for ${runId}`);
  return job;
}

let running = '';
let failed = '';

beforeAll(async () => {
  api = await createTestApi();
  spec = parseYaml(await readExampleYaml()) as Record<string, unknown>;
  for (let i = 0; i < 7; i += 1) await submit('breast-cancer-diagnosis');
  for (let i = 0; i < 2; i += 1) await submit('other-pipeline');

  // Move two runs on, the way a worker's events do.
  running = submitted['breast-cancer-diagnosis']?.[1] ?? '';
  failed = submitted['other-pipeline']?.[0] ?? '';
  const at = new Date().toISOString();
  const runningJob = await ingestJobOf(running);
  expect((await applyStageEvent(api.db, { type: 'stage.started', runId: running, stageRunId: runningJob.stageRunId, attemptId: runningJob.attemptId, at, workerId: 'w', host: 'h' })).outcome).toBe('applied');
  const failedJob = await ingestJobOf(failed);
  const failure = { kind: 'application' as const, code: 'PW_ERR_BAD_DATA', message: 'no rows', retryable: false };
  const resourceUse = { cpuUserMs: 1, cpuSystemMs: 1, peakRssBytes: 1, wallMs: 1 };
  expect((await applyStageEvent(api.db, { type: 'stage.failed', runId: failed, stageRunId: failedJob.stageRunId, attemptId: failedJob.attemptId, at, error: failure, resourceUse })).outcome).toBe('applied');
});
afterAll(() => api.close());

describe('GET /v1/runs', () => {
  it('lists every run newest first, with links', async () => {
    const body = await list('');
    const newestFirst = [...(submitted['breast-cancer-diagnosis'] ?? []), ...(submitted['other-pipeline'] ?? [])].reverse();
    expect(body.items.map((r) => r.id)).toEqual(newestFirst);
    expect(body.nextCursor).toBeNull();
    const first = body.items[0];
    expect(first?.links).toEqual({ self: `/v1/runs/${first?.id}`, lineage: `/v1/runs/${first?.id}/lineage`, metrics: `/v1/runs/${first?.id}/metrics` });
    const times = body.items.map((r) => Date.parse(r.createdAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('filters by status', async () => {
    expect((await list('?status=RUNNING')).items.map((r) => [r.id, r.status])).toEqual([[running, 'RUNNING']]);
    expect((await list('?status=FAILED')).items.map((r) => [r.id, r.status])).toEqual([[failed, 'FAILED']]);
    const queued = await list('?status=QUEUED');
    expect(queued.items).toHaveLength(7);
    expect(queued.items.every((r) => r.status === 'QUEUED')).toBe(true);
    expect((await list('?status=CANCELED')).items).toEqual([]);
  });

  it('filters by pipeline name, and by both', async () => {
    const other = await list('?pipeline=other-pipeline');
    expect(other.items.map((r) => r.id)).toEqual([...(submitted['other-pipeline'] ?? [])].reverse());
    expect(other.items.every((r) => r.pipeline.name === 'other-pipeline')).toBe(true);
    expect((await list('?pipeline=breast-cancer-diagnosis&status=RUNNING')).items.map((r) => r.id)).toEqual([running]);
    expect((await list('?pipeline=other-pipeline&status=RUNNING')).items).toEqual([]);
    expect((await list('?pipeline=no-such-pipeline')).items).toEqual([]);
  });

  it('pages 7 runs by 3 as 3 + 3 + 1, newest first, without duplicates, ending with a null cursor', async () => {
    const { sizes, ids } = await paginate('?pipeline=breast-cancer-diagnosis', 3);
    expect(sizes).toEqual([3, 3, 1]);
    expect(ids).toEqual([...(submitted['breast-cancer-diagnosis'] ?? [])].reverse());
    expect(new Set(ids).size).toBe(7);
  });

  it('ends with a null cursor when the last page is exactly full', async () => {
    const { sizes, ids } = await paginate('', 3);
    expect(sizes).toEqual([3, 3, 3]);
    expect(new Set(ids).size).toBe(9);
  });

  it('keeps a page boundary stable when newer runs arrive between pages', async () => {
    const [older, old] = [await submit('arriving'), await submit('arriving')];
    const first = await list('?pipeline=arriving&limit=1');
    expect(first.items.map((r) => r.id)).toEqual([old]);
    await submit('arriving');
    const second = await list(`?pipeline=arriving&limit=1&cursor=${first.nextCursor}`);
    expect(second.items.map((r) => r.id)).toEqual([older]);
    expect(second.nextCursor).toBeNull();
  });

  it('pages through runs created in the same millisecond, each exactly once', async () => {
    const tiedSpec = { ...spec, name: 'tied' };
    const planned = planPipeline(tiedSpec, createStageRegistry(builtinStages));
    if (!planned.ok) throw new Error(JSON.stringify(planned.problems));
    const now = new Date();
    const tied: string[] = [];
    for (let i = 0; i < 5; i += 1) tied.push((await submitRun(api.db, { plan: planned.plan, spec: tiedSpec, now })).runId);
    const { sizes, ids } = await paginate('?pipeline=tied', 2);
    expect(sizes).toEqual([2, 2, 1]);
    // Ties break on id, descending.
    expect(ids).toEqual([...tied].sort().reverse());
  });

  it.each([
    ['not base64 at all', '!!!'],
    ['base64 of garbage', Buffer.from('garbage').toString('base64url')],
    ['a bad date', Buffer.from('yesterday|6f1c0c8e-4d6a-4c1e-9a7e-2b4b1c7d9e01').toString('base64url')],
    ['a bad id', Buffer.from('2026-01-01T00:00:00.000Z|not-a-uuid').toString('base64url')],
    ['36 dashes for an id', Buffer.from(`2026-01-01T00:00:00.000Z|${'-'.repeat(36)}`).toString('base64url')],
    ['36 hex digits for an id', Buffer.from(`2026-01-01T00:00:00.000Z|${'a'.repeat(36)}`).toString('base64url')],
    ['the year 0, which Postgres has not', Buffer.from('0000-01-01T00:00:00.000Z|6f1c0c8e-4d6a-4c1e-9a7e-2b4b1c7d9e01').toString('base64url')],
    ['a third field', Buffer.from('2026-01-01T00:00:00.000Z|6f1c0c8e-4d6a-4c1e-9a7e-2b4b1c7d9e01|x').toString('base64url')],
    ['a date Postgres cannot hold', Buffer.from('-100000-01-01T00:00:00.000Z|6f1c0c8e-4d6a-4c1e-9a7e-2b4b1c7d9e01').toString('base64url')],
  ])('answers a forged cursor (%s) with 400 PW_ERR_BAD_CURSOR', async (_what, cursor) => {
    const body = expectApiError(await api.inject(`/v1/runs?cursor=${encodeURIComponent(cursor)}`), 400, 'PW_ERR_BAD_CURSOR');
    expect(body.details).toEqual({ field: 'cursor' });
  });

  it.each([
    ['limit=0', 'querystring.limit'],
    ['limit=abc', 'querystring.limit'],
    ['limit=201', 'querystring.limit'],
    ['limit=1.5', 'querystring.limit'],
    ['status=BOGUS', 'querystring.status'],
    ['pipeline=', 'querystring.pipeline'],
  ])('answers %s with 400 PW_ERR_VALIDATION naming %s', async (query, field) => {
    const body = expectApiError(await api.inject(`/v1/runs?${query}`), 400, 'PW_ERR_VALIDATION');
    expect(body.message).toContain(field);
    expect((body.details as { problems: { field: string }[] }).problems.map((p) => p.field)).toEqual([field]);
  });
});
