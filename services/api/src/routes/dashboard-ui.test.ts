import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, expectApiError, type TestApi } from '../test-app.ts';

const INDEX = '<!doctype html><title>Pipewright</title><div id="root"></div>';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pw-dashboard-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function build(into: string): Promise<void> {
  await mkdir(join(into, 'assets'), { recursive: true });
  await writeFile(join(into, 'index.html'), INDEX);
  await writeFile(join(into, 'assets', 'index-abc123.js'), 'console.log("dashboard")');
}

describe('/ui with a build', () => {
  let api: TestApi;
  beforeAll(async () => {
    await build(join(dir, 'built'));
    api = await createTestApi({ dashboardDir: join(dir, 'built') });
  });
  afterAll(() => api.close());

  it('serves index.html at /ui/, never cached', async () => {
    const response = await api.inject('/ui/');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.body).toBe(INDEX);
    expect(response.headers['cache-control']).toBe('no-cache');
  });

  it('redirects /ui to /ui/', async () => {
    const response = await api.inject('/ui');
    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toBe('/ui/');
  });

  it('serves hashed assets cached for a year', async () => {
    const response = await api.inject('/ui/assets/index-abc123.js');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/javascript/);
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('answers index.html for client routes, and 404 for a missing file', async () => {
    for (const path of ['/ui/runs', '/ui/runs/6f1c0c8e-4d6a-4c1e-9a7e-2b4b1c7d9e01', '/ui/queues?x=1']) {
      const response = await api.inject(path);
      expect(response.statusCode, path).toBe(200);
      expect(response.body, path).toBe(INDEX);
    }
    expectApiError(await api.inject('/ui/assets/missing.js'), 404, 'PW_ERR_NOT_FOUND');
  });

  it('does not serve files outside the build', async () => {
    const response = await api.app.inject('/ui/../package.json');
    expect(response.body).not.toContain('"name"');
  });
});

describe('/ui without a build', () => {
  let api: TestApi;
  const missing = () => join(dir, 'later');
  beforeAll(async () => {
    api = await createTestApi({ dashboardDir: missing() });
  });
  afterAll(() => api.close());

  it('answers a 404 that says how to build it', async () => {
    for (const path of ['/ui/', '/ui/runs/x']) {
      const body = expectApiError(await api.inject(path), 404, 'PW_ERR_NOT_FOUND');
      expect(body.message).toContain('npm run build -w services/dashboard');
    }
  });

  it('serves a build made after the API started', async () => {
    await build(missing());
    expect((await api.inject('/ui/')).body).toBe(INDEX);
    expect((await api.inject('/ui/runs/abc')).body).toBe(INDEX);
    expect((await api.inject('/ui/assets/index-abc123.js')).statusCode).toBe(200);
  });
});
