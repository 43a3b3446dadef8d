import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { executeRows, sql } from '@pipewright/db';
import { createTestApi, expectApiError, readExampleYaml, type TestApi } from '../test-app.ts';
import { parseSpecPath } from './spec-submission.ts';

interface Validation {
  ok: boolean;
  name: string | null;
  problems: { path: string; code: string; message: string; line?: number; column?: number }[];
  stages: { id: string; uses: string; needs: string[]; resourceClass: string }[];
}

let api: TestApi;
let yamlText = '';

async function validate(payload: string | object, contentType = typeof payload === 'string' ? 'application/yaml' : 'application/json'): Promise<Validation> {
  const response = await api.inject({ method: 'POST', url: '/v1/pipelines/validate', headers: { 'content-type': contentType }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<Validation>();
}

async function counts(): Promise<Record<string, number>> {
  const [row] = await executeRows<Record<string, number>>(api.db, sql`select (select count(*)::int from runs) as runs, (select count(*)::int from pipelines) as pipelines, (select count(*)::int from outbox) as outbox`);
  return row ?? {};
}

beforeAll(async () => {
  api = await createTestApi();
  yamlText = await readExampleYaml();
});
afterAll(() => api.close());

describe('POST /v1/pipelines/validate', () => {
  it('answers ok with the planned stages for a good spec, and stores nothing', async () => {
    const before = await counts();
    const result = await validate(yamlText);
    expect(result.ok).toBe(true);
    expect(result.name).toBe('breast-cancer-diagnosis');
    expect(result.problems).toEqual([]);
    expect(result.stages.map((s) => s.id)).toEqual(['ingest', 'split', 'scale', 'train', 'evaluate']);
    expect(result.stages.find((s) => s.id === 'evaluate')).toEqual({ id: 'evaluate', uses: 'evaluate.classification@1', needs: ['train', 'scale'], resourceClass: 'cpu' });
    expect((await validate(parseYaml(yamlText) as object)).ok).toBe(true);
    expect(await counts()).toEqual(before);
  });

  it('gives each problem of a YAML spec its line and column', async () => {
    const bad = yamlText.replace('uses: train.logistic@1', 'uses: train.nope@1').replace('needs: [train, scale]', 'needs: [train, missing]');
    const result = await validate(bad);
    expect(result.ok).toBe(false);
    const lines = bad.split('\n');
    const unknownType = result.problems.find((p) => p.message.includes('train.nope@1'));
    expect(unknownType?.line, JSON.stringify(result.problems)).toBeDefined();
    expect(lines[(unknownType?.line ?? 0) - 1]).toContain('train.nope@1');
    const missing = result.problems.find((p) => p.message.includes('missing'));
    expect(lines[(missing?.line ?? 0) - 1]).toContain('missing');
    expect(result.stages).toEqual([]);
  });

  it('reports a YAML syntax error with its position', async () => {
    const result = await validate('apiVersion: pipewright/v1\nname: x\nstages: [\n');
    expect(result.ok).toBe(false);
    expect(result.problems[0]).toMatchObject({ code: 'PW_SPEC_PARSE_ERROR', line: expect.any(Number) });
  });

  it('reads { spec, params } and checks the param overrides', async () => {
    expect((await validate({ spec: yamlText, params: { testSize: 0.2 } })).ok).toBe(true);
    const wrong = await validate({ spec: yamlText, params: { testSize: 'big' } });
    expect(wrong.ok).toBe(false);
    expect(wrong.problems.map((p) => p.path).join(' ')).toContain('testSize');
  });

  it('answers 415 for a body type it does not read', async () => {
    const response = await api.inject({ method: 'POST', url: '/v1/pipelines/validate', headers: { 'content-type': 'image/png' }, payload: 'x' });
    expectApiError(response, 415, 'PW_ERR_UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('GET /v1/pipelines and /versions', () => {
  it('lists pipelines with latest version, version count and last run; versions newest first', async () => {
    const spec = parseYaml(yamlText) as Record<string, unknown>;
    const first = await api.inject({ method: 'POST', url: '/v1/runs', payload: spec });
    await api.inject({ method: 'POST', url: '/v1/runs', payload: { ...spec, params: { testSize: { type: 'number', default: 0.25 } } } });
    const last = await api.inject({ method: 'POST', url: '/v1/runs', payload: { ...spec, name: 'another-pipeline' } });
    expect(first.statusCode, first.body).toBe(201);
    const response = await api.inject('/v1/pipelines');
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json<{ items: { name: string; latestVersion: number; versions: number; lastRun: { id: string } | null }[]; nextCursor: string | null }>();
    expect(body.items.map((p) => [p.name, p.latestVersion, p.versions])).toEqual([
      ['another-pipeline', 1, 1],
      ['breast-cancer-diagnosis', 2, 2],
    ]);
    expect(body.items[0]?.lastRun?.id).toBe(last.json<{ id: string }>().id);
    expect(body.nextCursor).toBeNull();

    const page = (await api.inject('/v1/pipelines?limit=1')).json<{ items: { name: string }[]; nextCursor: string | null }>();
    expect(page.items.map((p) => p.name)).toEqual(['another-pipeline']);
    const next = (await api.inject(`/v1/pipelines?limit=1&cursor=${page.nextCursor}`)).json<{ items: { name: string }[]; nextCursor: string | null }>();
    expect(next.items.map((p) => p.name)).toEqual(['breast-cancer-diagnosis']);

    const versions = (await api.inject('/v1/pipelines/breast-cancer-diagnosis/versions')).json<{ name: string; items: { version: number; spec: { name: string } }[] }>();
    expect(versions.items.map((v) => v.version)).toEqual([2, 1]);
    expect(versions.items[0]?.spec.name).toBe('breast-cancer-diagnosis');
    expectApiError(await api.inject('/v1/pipelines/nothing-here/versions'), 404, 'PW_ERR_PIPELINE_NOT_FOUND');
  });
});

describe('parseSpecPath', () => {
  it('reads back what formatSpecPath writes', () => {
    expect(parseSpecPath('stages[2].with.testSize')).toEqual(['stages', 2, 'with', 'testSize']);
    expect(parseSpecPath('params["a.b"].type')).toEqual(['params', 'a.b', 'type']);
    expect(parseSpecPath('')).toEqual([]);
  });
});
