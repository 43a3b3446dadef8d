import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, expectApiError, readExampleYaml, type TestApi } from './test-app.ts';

const BODY_LIMIT = 4096;

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi({ bodyLimitBytes: BODY_LIMIT });
});
afterAll(() => api.close());

const ID_ROUTES = ['/v1/runs/:id', '/v1/runs/:id/lineage', '/v1/runs/:id/metrics', '/v1/artifacts/:id', '/v1/artifacts/:id/content'];

describe('error answers', () => {
  it.each(ID_ROUTES)('GET %s with a malformed id answers 400 naming params.id', async (route) => {
    for (const bad of ['not-a-uuid', '123', `${randomUUID()}x`, "1' or '1'='1"]) {
      const body = expectApiError(await api.inject(route.replace(':id', encodeURIComponent(bad))), 400, 'PW_ERR_VALIDATION');
      expect(body.message).toContain('params.id');
      expect(body.details).toEqual({ problems: [{ field: 'params.id', message: expect.any(String) }] });
    }
  });

  it.each([
    ['/v1/runs/:id', 'PW_ERR_RUN_NOT_FOUND'],
    ['/v1/runs/:id/lineage', 'PW_ERR_RUN_NOT_FOUND'],
    ['/v1/runs/:id/metrics', 'PW_ERR_RUN_NOT_FOUND'],
    ['/v1/artifacts/:id', 'PW_ERR_ARTIFACT_NOT_FOUND'],
    ['/v1/artifacts/:id/content', 'PW_ERR_ARTIFACT_NOT_FOUND'],
  ] as const)('GET %s with an unknown id answers 404 %s', async (route, code) => {
    const id = randomUUID();
    const body = expectApiError(await api.inject(route.replace(':id', id)), 404, code);
    expect(body.message).toContain(id);
  });

  it.each([
    ['GET', '/v1/nope'],
    ['GET', '/v2/runs'],
    ['DELETE', '/v1/runs'],
    ['PUT', `/v1/runs/${randomUUID()}`],
    ['GET', `/v1/runs/${randomUUID()}/stages`],
  ] as const)('%s %s answers 404 PW_ERR_NOT_FOUND', async (method, url) => {
    const body = expectApiError(await api.inject({ method, url }), 404, 'PW_ERR_NOT_FOUND');
    expect(body.message).toBe(`no route ${method} ${url}`);
  });

  it('does not echo the query string of an unknown route', async () => {
    const body = expectApiError(await api.inject('/v1/nope?token=secret'), 404, 'PW_ERR_NOT_FOUND');
    expect(body.message).not.toContain('secret');
  });

  it.each(['application/xml', 'text/html', 'multipart/form-data; boundary=x'])('POST /v1/runs as %s answers 415', async (contentType) => {
    expectApiError(
      await api.inject({ method: 'POST', url: '/v1/runs', headers: { 'content-type': contentType }, payload: '<pipeline/>' }),
      415,
      'PW_ERR_UNSUPPORTED_MEDIA_TYPE',
    );
  });

  it('POST /v1/runs with an empty JSON body answers 400 PW_ERR_VALIDATION', async () => {
    expectApiError(await api.inject({ method: 'POST', url: '/v1/runs', headers: { 'content-type': 'application/json' }, payload: '' }), 400, 'PW_ERR_VALIDATION');
  });

  it.each(['application/json', 'application/yaml'])('POST /v1/runs over bodyLimitBytes as %s answers 413', async (contentType) => {
    const yaml = await readExampleYaml();
    // A valid spec padded past the limit: the size alone must reject it.
    const padding = `# ${'x'.repeat(BODY_LIMIT)}\n`;
    const payload = contentType === 'application/json' ? JSON.stringify({ spec: yaml, padding }) : `${yaml}${padding}`;
    expectApiError(await api.inject({ method: 'POST', url: '/v1/runs', headers: { 'content-type': contentType }, payload }), 413, 'PW_ERR_PAYLOAD_TOO_LARGE');
    // Just under the limit is accepted.
    const accepted = await api.inject({ method: 'POST', url: '/v1/runs', headers: { 'content-type': 'application/yaml' }, payload: yaml });
    expect(accepted.statusCode, accepted.body).toBe(201);
  });
});

describe('a 5xx', () => {
  it('answers PW_ERR_INTERNAL with a generic message and no internals when Postgres is gone', async () => {
    const broken = await createTestApi();
    try {
      await broken.database.drop();
      const response = await broken.app.inject('/v1/runs');
      expect(response.statusCode).toBe(500);
      expect(response.json()).toEqual({ code: 'PW_ERR_INTERNAL', message: 'internal error; the server log has the details' });
      expect(response.body).not.toMatch(/select|postgres|pool|ECONN|at .*\.ts/i);
    } finally {
      await broken.close();
    }
  });
});
