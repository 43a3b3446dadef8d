import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { SPEC_PROBLEM_CODE_LIST } from '@pipewright/core';
import { eq, executeRows, outbox, runs, sql, stageRuns } from '@pipewright/db';
import type { StageJob } from '@pipewright/queue';
import { createTestApi, expectApiError, readExampleYaml, type TestApi } from '../test-app.ts';

interface Submitted {
  id: string;
  status: string;
  pipeline: { id: string; name: string; version: number };
  stages: { id: string; uses: string; needs: string[] }[];
  links: Record<string, string>;
}

interface SpecProblemBody {
  path: string;
  code: string;
  message: string;
  line?: number;
  column?: number;
}

const STAGES = ['ingest', 'split', 'scale', 'train', 'evaluate'];

let api: TestApi;
let yamlText: string;
let specObject: Record<string, unknown>;

beforeAll(async () => {
  api = await createTestApi();
  yamlText = await readExampleYaml();
  specObject = parseYaml(yamlText) as Record<string, unknown>;
});
afterAll(() => api.close());

/** Rows of every table a submit writes, to prove a rejected one wrote nothing. */
async function tableCounts(): Promise<Record<string, number>> {
  const [row] = await executeRows<Record<string, number>>(
    api.db,
    sql`select (select count(*)::int from runs) as runs, (select count(*)::int from stage_runs) as stage_runs,
               (select count(*)::int from pipelines) as pipelines, (select count(*)::int from outbox) as outbox,
               (select count(*)::int from attempts) as attempts`,
  );
  if (!row) throw new Error('no counts');
  return row;
}

async function outboxJobsOf(runId: string): Promise<StageJob[]> {
  const rows = await api.db.select().from(outbox);
  return rows.map((r) => (r.payload as { job: StageJob }).job).filter((job) => job.runId === runId);
}

/** Checks the 201 answer and that the run, its five stages and the ingest job are stored. */
async function expectStored(response: Awaited<ReturnType<TestApi['inject']>>): Promise<Submitted> {
  expect(response.statusCode, response.body).toBe(201);
  const body = response.json<Submitted>();
  expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
  expect(body.status).toBe('QUEUED');
  expect(body.pipeline.name).toBe('breast-cancer-diagnosis');
  expect(body.pipeline.version).toBeGreaterThanOrEqual(1);
  expect(body.stages.map((s) => s.id)).toEqual(STAGES);
  expect(body.stages.find((s) => s.id === 'evaluate')).toEqual({ id: 'evaluate', uses: 'evaluate.classification@1', needs: ['train', 'scale'] });
  expect(body.links).toEqual({ self: `/v1/runs/${body.id}`, lineage: `/v1/runs/${body.id}/lineage`, metrics: `/v1/runs/${body.id}/metrics` });
  expect(response.headers.location).toBe(`/v1/runs/${body.id}`);

  const [run] = await api.db.select().from(runs).where(eq(runs.id, body.id));
  expect(run?.status).toBe('QUEUED');
  expect(run?.pipelineId).toBe(body.pipeline.id);
  const stages = await api.db.select().from(stageRuns).where(eq(stageRuns.runId, body.id));
  expect(stages.map((s) => s.stageKey).sort()).toEqual([...STAGES].sort());
  const jobs = await outboxJobsOf(body.id);
  expect(jobs.map((j) => j.stageKey)).toEqual(['ingest']);
  return body;
}

describe('POST /v1/runs', () => {
  it('accepts the example as YAML and stores the run, its 5 stages and one outbox row', async () => {
    const body = await expectStored(await api.inject({ method: 'POST', url: '/v1/runs', headers: { 'content-type': 'application/yaml' }, payload: yamlText }));
    const detail = (await api.inject(body.links.self ?? '')).json<{ params: Record<string, unknown>; stages: { stage: string; params: Record<string, unknown> }[] }>();
    expect(detail.params).toEqual({ testSize: 0.3 });
    expect(detail.stages.find((s) => s.stage === 'split')?.params.testSize).toBe(0.3);
  });

  it.each(['application/x-yaml', 'text/yaml'])('accepts YAML as %s', async (contentType) => {
    await expectStored(await api.inject({ method: 'POST', url: '/v1/runs', headers: { 'content-type': contentType }, payload: yamlText }));
  });

  it('accepts the same spec as JSON, as the same pipeline version', async () => {
    const fromYaml = await expectStored(await api.inject({ method: 'POST', url: '/v1/runs', headers: { 'content-type': 'application/yaml' }, payload: yamlText }));
    const fromJson = await expectStored(await api.inject({ method: 'POST', url: '/v1/runs', payload: specObject }));
    expect(fromJson.id).not.toBe(fromYaml.id);
    expect(fromJson.pipeline).toEqual(fromYaml.pipeline);
  });

  it('accepts { spec, params } and applies the run params to the stages', async () => {
    const body = await expectStored(await api.inject({ method: 'POST', url: '/v1/runs', payload: { spec: specObject, params: { testSize: 0.2 } } }));
    const detail = (await api.inject(`/v1/runs/${body.id}`)).json<{ params: Record<string, unknown>; stages: { stage: string; params: Record<string, unknown> }[] }>();
    expect(detail.params).toEqual({ testSize: 0.2 });
    expect(detail.stages.find((s) => s.stage === 'split')?.params).toMatchObject({ testSize: 0.2, stratify: true, seed: 42 });
    const [job] = await outboxJobsOf(body.id);
    expect(job?.stageKey).toBe('ingest');
  });

  it('accepts { spec: "<yaml text>", params }', async () => {
    const body = await expectStored(await api.inject({ method: 'POST', url: '/v1/runs', payload: { spec: yamlText, params: { testSize: 0.4 } } }));
    const detail = (await api.inject(`/v1/runs/${body.id}`)).json<{ stages: { stage: string; params: Record<string, unknown> }[] }>();
    expect(detail.stages.find((s) => s.stage === 'split')?.params.testSize).toBe(0.4);
  });

  it('answers the stored status of a run that ended at submit (nothing enqueued)', async () => {
    const spec = { apiVersion: 'pipewright/v1', name: 'ends-at-submit', stages: [{ id: 'skip', uses: 'util.noop@1', when: 'false' }] };
    const response = await api.inject({ method: 'POST', url: '/v1/runs', payload: spec });
    expect(response.statusCode, response.body).toBe(201);
    const body = response.json<Submitted>();
    const [run] = await api.db.select().from(runs).where(eq(runs.id, body.id));
    expect(run?.status).toBe('SUCCEEDED');
    expect(body.status).toBe('SUCCEEDED');
  });
});

describe('POST /v1/runs with a bad spec', () => {
  /** Submits, expects 400 PW_ERR_SPEC_INVALID with registered problem codes, and that nothing was stored. */
  async function rejected(options: Parameters<TestApi['inject']>[0]): Promise<SpecProblemBody[]> {
    const before = await tableCounts();
    const response = await api.inject(options);
    const body = expectApiError(response, 400, 'PW_ERR_SPEC_INVALID');
    const problems = (body.details as { problems: SpecProblemBody[] }).problems;
    expect(problems.length).toBeGreaterThan(0);
    for (const problem of problems) {
      expect(typeof problem.path).toBe('string');
      expect(problem.message.length).toBeGreaterThan(0);
      expect(SPEC_PROBLEM_CODE_LIST, `${problem.code} is not documented in docs/errors.md`).toContain(problem.code);
    }
    expect(await tableCounts()).toEqual(before);
    return problems;
  }

  const stage = (id: string, uses: string, extra: Record<string, unknown> = {}) => ({ id, uses, ...extra });

  it('lists every problem at once, each with its path', async () => {
    const spec = {
      apiVersion: 'pipewright/v1',
      name: 'broken',
      stages: [
        stage('ingest', 'ingest.csv@1', { with: { path: 'examples/data/breast_cancer.csv', target: 'target' } }),
        stage('split', 'split.train_test@1', { needs: ['ingest'] }),
        stage('scale', 'preprocess.standardize@1', { needs: ['split'] }),
        stage('train', 'train.logistic@1', { needs: ['scale'], with: { epochs: 'many' } }),
        stage('evaluate', 'evaluate.classification@1', { needs: ['train', 'scale'], inputs: { test: 'train.model' } }),
        stage('loop-a', 'preprocess.standardize@1', { needs: ['loop-b'], inputs: { train: 'loop-b.train', test: 'loop-b.test' } }),
        stage('loop-b', 'preprocess.standardize@1', { needs: ['loop-a'], inputs: { train: 'loop-a.train', test: 'loop-a.test' } }),
        stage('mystery', 'does.not_exist@1', { needs: ['ingest'] }),
        stage('orphan', 'split.train_test@1', { needs: ['ghost'] }),
      ],
    };
    const problems = await rejected({ method: 'POST', url: '/v1/runs', payload: spec });
    const find = (code: string) => problems.filter((p) => p.code === code);

    const [cycle] = find('PW_SPEC_CYCLE');
    expect(cycle?.message).toMatch(/loop-a -> loop-b -> loop-a|loop-b -> loop-a -> loop-b/);
    expect(cycle?.path).toMatch(/^stages\[[56]\]\.needs/);
    expect(find('PW_SPEC_UNKNOWN_STAGE_TYPE')).toEqual([expect.objectContaining({ path: 'stages[7].uses', message: expect.stringContaining('does.not_exist@1') })]);
    expect(find('PW_SPEC_UNKNOWN_NEED')).toEqual([expect.objectContaining({ path: 'stages[8].needs[0]', message: expect.stringContaining('ghost') })]);
    expect(find('PW_SPEC_INPUT_TYPE_MISMATCH')).toEqual([expect.objectContaining({ path: 'stages[4].inputs.test', message: expect.stringMatching(/expects table.*model/) })]);
    expect(find('PW_SPEC_PARAMS_INVALID')).toEqual([expect.objectContaining({ path: 'stages[3].with.epochs' })]);
  });

  it('summarises a single problem in the message', async () => {
    const spec = { ...specObject, stages: [stage('ingest', 'nope.csv@1')] };
    const response = await api.inject({ method: 'POST', url: '/v1/runs', payload: spec });
    const body = expectApiError(response, 400, 'PW_ERR_SPEC_INVALID');
    expect(body.message).toContain('stages[0].uses');
  });

  it('rejects a run param override of the wrong type or that the spec does not declare', async () => {
    const problems = await rejected({ method: 'POST', url: '/v1/runs', payload: { spec: specObject, params: { testSize: 'big', nope: 1 } } });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'PW_SPEC_PARAM_TYPE', path: expect.stringContaining('testSize') }),
        expect.objectContaining({ code: 'PW_SPEC_PARAM_UNKNOWN', path: expect.stringContaining('nope') }),
      ]),
    );
  });

  it('reports invalid YAML with its line', async () => {
    const text = ['apiVersion: pipewright/v1', 'name: broken', 'stages:', '  - id: ingest', '    uses: [ingest.csv@1', '  - id: other'].join('\n');
    const problems = await rejected({ method: 'POST', url: '/v1/runs', headers: { 'content-type': 'application/yaml' }, payload: text });
    expect(problems.every((p) => p.code === 'PW_SPEC_PARSE_ERROR')).toBe(true);
    expect(problems[0]?.line).toBeGreaterThanOrEqual(5);
    expect(problems[0]?.message).toMatch(/^line \d+, column \d+: /);
  });

  it('reports a YAML duplicate key with its line', async () => {
    const text = 'apiVersion: pipewright/v1\nname: a\nname: b\nstages: []\n';
    const [problem] = await rejected({ method: 'POST', url: '/v1/runs', headers: { 'content-type': 'application/yaml' }, payload: text });
    expect(problem).toMatchObject({ code: 'PW_SPEC_PARSE_ERROR', line: 3 });
  });

  it.each([
    ['a JSON array', JSON.stringify([{ name: 'x' }]), 'application/json'],
    ['a JSON number', '42', 'application/json'],
    ['JSON null', 'null', 'application/json'],
    ['a JSON string', '"just text"', 'application/json'],
    ['a YAML scalar', 'just text', 'application/yaml'],
    ['a YAML list', '- a\n- b\n', 'application/yaml'],
    ['an empty YAML document', '', 'application/yaml'],
  ])('rejects %s as not a spec object', async (_what, payload, contentType) => {
    const problems = await rejected({ method: 'POST', url: '/v1/runs', headers: { 'content-type': contentType }, payload });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path).toBe('');
  });

  it('rejects { spec, params } whose params is not an object', async () => {
    const [problem] = await rejected({ method: 'POST', url: '/v1/runs', payload: { spec: specObject, params: [0.2] } });
    expect(problem?.path).toBe('params');
  });

  it('rejects a JSON body that does not parse with PW_ERR_VALIDATION', async () => {
    const before = await tableCounts();
    const response = await api.inject({ method: 'POST', url: '/v1/runs', headers: { 'content-type': 'application/json' }, payload: '{"name": ' });
    expectApiError(response, 400, 'PW_ERR_VALIDATION');
    expect(await tableCounts()).toEqual(before);
  });

  it('stores each of many concurrent submits (grouped into shared transactions) with its own answer', async () => {
    const responses = await Promise.all(Array.from({ length: 12 }, () => api.inject({ method: 'POST', url: '/v1/runs', payload: specObject })));
    const bodies = [];
    for (const response of responses) bodies.push(await expectStored(response));
    expect(new Set(bodies.map((b) => b.id)).size).toBe(12);
    expect(new Set(bodies.map((b) => b.pipeline.version)).size).toBe(1);
  });

  it('rejects an Idempotency-Key over 200 characters, naming the header, and stores nothing', async () => {
    const before = await tableCounts();
    const response = await api.inject({ method: 'POST', url: '/v1/runs', headers: { 'idempotency-key': 'k'.repeat(201) }, payload: specObject });
    const body = expectApiError(response, 400, 'PW_ERR_VALIDATION');
    expect(body.message).toContain('headers.idempotency-key');
    expect(await tableCounts()).toEqual(before);
  });
});
