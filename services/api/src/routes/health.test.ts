import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRedis } from '@pipewright/queue';
import { testRedisUrl } from '@pipewright/testing';
import { createTestApi, type TestApi } from '../test-app.ts';

describe('health', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi();
  });
  afterAll(() => api.close());

  it('/healthz answers 200 ok', async () => {
    const response = await api.inject('/healthz');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('/readyz answers 200 when Postgres and Redis answer', async () => {
    const response = await api.inject('/readyz');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
  });

  it('/readyz answers 503 naming Postgres when the database ping fails', async () => {
    // A test double at the ApiDeps seam, standing for an unreachable database.
    const down = await createTestApi({ pingDatabase: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')) });
    try {
      const response = await down.app.inject('/readyz');
      expect(response.statusCode).toBe(503);
      const body = response.json<{ status: string; checks: { postgres: string; redis: string } }>();
      expect(body.status).toBe('not-ready');
      expect(body.checks.postgres).toMatch(/^error: .*ECONNREFUSED/);
      expect(body.checks.redis).toBe('ok');
      // Liveness does not depend on the database.
      expect((await down.inject('/healthz')).statusCode).toBe(200);
    } finally {
      await down.close();
    }
  });

  it('/readyz answers 503 naming Redis when its connection is closed', async () => {
    const redis = openRedis(testRedisUrl());
    await redis.quit();
    const down = await createTestApi({ redis });
    try {
      const response = await down.app.inject('/readyz');
      expect(response.statusCode).toBe(503);
      const body = response.json<{ status: string; checks: { postgres: string; redis: string } }>();
      expect(body).toEqual({ status: 'not-ready', checks: { postgres: 'ok', redis: expect.stringMatching(/^error: /) } });
    } finally {
      await down.close();
    }
  });
});
