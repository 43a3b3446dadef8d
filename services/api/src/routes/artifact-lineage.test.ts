import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArtifactRef } from '@pipewright/core';
import { outbox } from '@pipewright/db';
import { applyStageEvent } from '@pipewright/engine';
import type { StageJob } from '@pipewright/queue';
import { createTestApi, expectApiError, readExampleYaml, type TestApi } from '../test-app.ts';

interface Node {
  kind: 'artifact' | 'stage';
  id: string;
  stage?: string;
  outputName?: string;
  level: number;
}
interface Lineage {
  root: string;
  truncated: boolean;
  nodes: Node[];
  edges: { from: string; to: string; kind: string; name: string }[];
}

const resourceUse = { cpuUserMs: 1, cpuSystemMs: 1, peakRssBytes: 1, wallMs: 1 };
let api: TestApi;
let runId = '';
const jobs: Record<string, StageJob> = {};
const artifactIds: Record<string, string> = {};

async function jobOf(stage: string): Promise<StageJob> {
  const job = (await api.db.select().from(outbox)).map((r) => (r.payload as { job: StageJob }).job).find((j) => j.runId === runId && j.stageKey === stage);
  if (!job) throw new Error(`${stage} is not enqueued`);
  jobs[stage] = job;
  return job;
}

async function succeed(stage: string, outputs: string[]): Promise<void> {
  const job = await jobOf(stage);
  const refs: Record<string, ArtifactRef> = {};
  for (const name of outputs) {
    const blob = await api.store.put(new TextEncoder().encode(`${stage}/${name}/${randomUUID()}`));
    refs[name] = { ...blob, type: name === 'scaler' ? 'json' : 'table', mediaType: 'application/octet-stream' };
  }
  const base = { runId, stageRunId: job.stageRunId, attemptId: job.attemptId, at: new Date().toISOString() };
  await applyStageEvent(api.db, { type: 'stage.started', ...base, workerId: 'w', host: 'h' });
  await applyStageEvent(api.db, { type: 'stage.succeeded', ...base, outputs: refs, metrics: {}, resourceUse });
  const detail = (await api.inject(`/v1/runs/${runId}`)).json<{ stages: { stage: string; outputs: Record<string, { id: string }> }[] }>();
  for (const [name, artifact] of Object.entries(detail.stages.find((s) => s.stage === stage)?.outputs ?? {})) artifactIds[`${stage}.${name}`] = artifact.id;
}

beforeAll(async () => {
  api = await createTestApi();
  const submitted = await api.inject({ method: 'POST', url: '/v1/runs', headers: { 'content-type': 'application/yaml' }, payload: await readExampleYaml() });
  runId = submitted.json<{ id: string }>().id;
  await succeed('ingest', ['data']);
  await succeed('split', ['train', 'test']);
  await succeed('scale', ['train', 'test', 'scaler']);
  await jobOf('train');
});
afterAll(() => api.close());

describe('GET /v1/artifacts/{id}/lineage', () => {
  it('follows producers upstream and consumers downstream, as nodes and edges', async () => {
    const root = artifactIds['split.train'] ?? '';
    const response = await api.inject(`/v1/artifacts/${root}/lineage`);
    expect(response.statusCode, response.body).toBe(200);
    const lineage = response.json<Lineage>();
    expect(lineage.root).toBe(root);
    expect(lineage.truncated).toBe(false);
    const label = (id: string) => {
      const node = lineage.nodes.find((n) => n.id === id);
      return node?.kind === 'artifact' ? `artifact ${Object.entries(artifactIds).find(([, v]) => v === id)?.[0]}` : `stage ${node?.stage}`;
    };
    const edges = lineage.edges.map((e) => `${label(e.from)} -${e.kind}:${e.name}-> ${label(e.to)}`).sort();
    expect(edges).toEqual(
      [
        'stage ingest -produced:data-> artifact ingest.data',
        'artifact ingest.data -consumed:data-> stage split',
        'stage split -produced:train-> artifact split.train',
        'artifact split.train -consumed:train-> stage scale',
        'stage scale -produced:train-> artifact scale.train',
        'stage scale -produced:test-> artifact scale.test',
        'stage scale -produced:scaler-> artifact scale.scaler',
        'artifact scale.train -consumed:train-> stage train',
      ].sort(),
    );
    const levels = Object.fromEntries(lineage.nodes.map((n) => [label(n.id), n.level]));
    expect(levels).toMatchObject({ 'artifact split.train': 0, 'stage split': -1, 'artifact ingest.data': -1, 'stage ingest': -2, 'stage scale': 1, 'stage train': 2 });
  });

  it('stops at depth', async () => {
    const lineage = (await api.inject(`/v1/artifacts/${artifactIds['split.train']}/lineage?depth=1`)).json<Lineage>();
    const stages = lineage.nodes.filter((n) => n.kind === 'stage').map((n) => n.stage).sort();
    expect(stages).toEqual(['scale', 'split']);
    for (const e of lineage.edges) expect(lineage.nodes.some((n) => n.id === e.from) && lineage.nodes.some((n) => n.id === e.to)).toBe(true);
  });

  it('answers 404 for an unknown artifact and 400 for a bad depth', async () => {
    expectApiError(await api.inject(`/v1/artifacts/${randomUUID()}/lineage`), 404, 'PW_ERR_ARTIFACT_NOT_FOUND');
    expectApiError(await api.inject(`/v1/artifacts/${artifactIds['split.train']}/lineage?depth=99`), 400, 'PW_ERR_VALIDATION');
  });
});
