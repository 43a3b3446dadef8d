import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { eq, runs } from '@pipewright/db';
import { createTestApi, expectApiError, readExampleYaml, type TestApi } from '../test-app.ts';

interface RunList {
  items: { id: string; teamId: string | null; createdAt: string }[];
  nextCursor: string | null;
}

let api: TestApi;
const ids: string[] = [];
const HOUR = 3_600_000;
const now = Date.now();

async function list(query: string): Promise<RunList> {
  const response = await api.inject(`/v1/runs${query}`);
  expect(response.statusCode, response.body).toBe(200);
  return response.json<RunList>();
}

beforeAll(async () => {
  api = await createTestApi();
  const spec = parseYaml(await readExampleYaml()) as Record<string, unknown>;
  // Six runs, created 5h, 4h, … 0h ago; teams alternate a, b, and none for the newest.
  for (let i = 0; i < 6; i += 1) {
    const response = await api.inject({ method: 'POST', url: '/v1/runs', payload: spec });
    const id = response.json<{ id: string }>().id;
    ids.push(id);
    await api.db
      .update(runs)
      .set({ createdAt: new Date(now - (5 - i) * HOUR), teamId: i === 5 ? null : i % 2 === 0 ? 'team-a' : 'team-b' })
      .where(eq(runs.id, id));
  }
});
afterAll(() => api.close());

describe('GET /v1/runs filters', () => {
  it('filters by team', async () => {
    expect((await list('?team=team-a')).items.map((r) => r.id)).toEqual([ids[4], ids[2], ids[0]]);
    expect((await list('?team=team-b')).items.map((r) => r.id)).toEqual([ids[3], ids[1]]);
    expect((await list('?team=nobody')).items).toEqual([]);
  });

  it('filters by a creation window: after is inclusive, before exclusive', async () => {
    const after = new Date(now - 3 * HOUR).toISOString();
    const before = new Date(now - 1 * HOUR).toISOString();
    expect((await list(`?createdAfter=${after}`)).items.map((r) => r.id)).toEqual([ids[5], ids[4], ids[3], ids[2]]);
    expect((await list(`?createdBefore=${before}`)).items.map((r) => r.id)).toEqual([ids[3], ids[2], ids[1], ids[0]]);
    expect((await list(`?createdAfter=${after}&createdBefore=${before}`)).items.map((r) => r.id)).toEqual([ids[3], ids[2]]);
    expect((await list(`?createdAfter=${after}&createdBefore=${before}&team=team-a`)).items.map((r) => r.id)).toEqual([ids[2]]);
  });

  it('pages a filtered window with the keyset cursor', async () => {
    const after = new Date(now - 4.5 * HOUR).toISOString();
    const first = await list(`?createdAfter=${after}&limit=2`);
    expect(first.items.map((r) => r.id)).toEqual([ids[5], ids[4]]);
    const second = await list(`?createdAfter=${after}&limit=2&cursor=${first.nextCursor}`);
    expect(second.items.map((r) => r.id)).toEqual([ids[3], ids[2]]);
    const third = await list(`?createdAfter=${after}&limit=2&cursor=${second.nextCursor}`);
    expect(third.items.map((r) => r.id)).toEqual([ids[1]]);
    expect(third.nextCursor).toBeNull();
  });

  it.each([
    ['createdAfter=yesterday', 'querystring.createdAfter'],
    ['createdBefore=2026-13-45T00:00:00Z', 'querystring.createdBefore'],
    ['team=', 'querystring.team'],
  ])('answers %s with 400 PW_ERR_VALIDATION naming %s', async (query, field) => {
    const body = expectApiError(await api.inject(`/v1/runs?${query}`), 400, 'PW_ERR_VALIDATION');
    expect(body.message).toContain(field);
  });
});
