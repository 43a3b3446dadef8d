import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArtifactRef } from '@pipewright/core';
import { outbox } from '@pipewright/db';
import { applyStageEvent } from '@pipewright/engine';
import type { StageEvent, StageJob } from '@pipewright/queue';
import { createTestApi, expectApiError, readExampleYaml, type TestApi } from '../test-app.ts';

/**
 * A run advanced by hand the way the orchestrator advances it: the API submits it, then worker
 * events are applied to the database. The ingest stage's output bytes are in the real store.
 */

interface Artifact {
  id: string;
  runId: string;
  type: string;
  digest: string;
  uri: string;
  mediaType: string;
  sizeBytes: number;
  metadata: Record<string, unknown> | null;
  outputName: string;
  producedBy: { stage: string; stageRunId: string; attemptId: string; attempt: number };
  links: Record<string, string>;
}
interface Lineage {
  runId: string;
  artifacts: (Artifact & { consumedBy: { stage: string; stageRunId: string; attemptId: string; attempt: number; inputName: string }[] })[];
}
interface Metrics {
  runId: string;
  series: { stage: string; attempt: number; attemptId: string; name: string; points: { step: number; value: number; recordedAt: string }[] }[];
  final: Record<string, Record<string, number>>;
}

const ARROW = 'application/vnd.apache.arrow.file';
const resourceUse = { cpuUserMs: 5, cpuSystemMs: 1, peakRssBytes: 1024, wallMs: 9 };
/** Every byte value, so a text decoding anywhere on the way would show. */
const bytes = new Uint8Array(Array.from({ length: 4096 + 17 }, (_, i) => (i * 7) % 256));

let api: TestApi;
let runId = '';
let ingest: StageJob;
let split: StageJob;
let ref: ArtifactRef;
let artifact: Artifact;

async function jobsOf(id: string): Promise<StageJob[]> {
  const rows = await api.db.select().from(outbox);
  return rows.map((r) => (r.payload as { job: StageJob }).job).filter((j) => j.runId === id);
}

async function apply(event: StageEvent): Promise<void> {
  expect((await applyStageEvent(api.db, event)).outcome).toBe('applied');
}

function base(job: StageJob) {
  return { runId: job.runId, stageRunId: job.stageRunId, attemptId: job.attemptId, at: new Date().toISOString() };
}

beforeAll(async () => {
  api = await createTestApi();
  const submitted = await api.inject({ method: 'POST', url: '/v1/runs', headers: { 'content-type': 'application/yaml' }, payload: await readExampleYaml() });
  expect(submitted.statusCode, submitted.body).toBe(201);
  runId = submitted.json<{ id: string }>().id;
  const [first] = await jobsOf(runId);
  if (!first) throw new Error('no ingest job');
  ingest = first;

  const blob = await api.store.put(bytes);
  ref = { ...blob, type: 'table', mediaType: ARROW, metadata: { target: 'target', rows: 569 } };
  await apply({ type: 'stage.started', ...base(ingest), workerId: 'worker-1', host: 'host-1', backend: 'cpu' });
  await apply({ type: 'stage.progress', ...base(ingest), seq: 0, metrics: [{ name: 'rows_read', step: 1, value: 100 }, { name: 'rows_read', step: 2, value: 250 }] });
  await apply({ type: 'stage.progress', ...base(ingest), seq: 1, metrics: [{ name: 'rows_read', step: 3, value: 569 }] });
  await apply({ type: 'stage.succeeded', ...base(ingest), outputs: { data: ref }, metrics: { rows: 569, columns: 31 }, resourceUse });

  const next = (await jobsOf(runId)).find((j) => j.stageKey === 'split');
  if (!next) throw new Error('split was not enqueued after ingest succeeded');
  split = next;
  await apply({ type: 'stage.started', ...base(split), workerId: 'worker-2', host: 'host-2' });
  await apply({ type: 'stage.progress', ...base(split), seq: 0, metrics: [{ name: 'progress', step: 1, value: 0.5 }] });

  const lineage = (await api.inject(`/v1/runs/${runId}/lineage`)).json<Lineage>();
  const [only] = lineage.artifacts;
  if (!only) throw new Error('no artifact in the lineage');
  artifact = only;
});
afterAll(() => api.close());

describe('GET /v1/artifacts/{id}', () => {
  it('answers the metadata and who produced it', async () => {
    const response = await api.inject(`/v1/artifacts/${artifact.id}`);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({
      id: artifact.id,
      runId,
      type: 'table',
      digest: ref.digest,
      uri: ref.uri,
      mediaType: ARROW,
      sizeBytes: bytes.byteLength,
      metadata: { target: 'target', rows: 569 },
      outputName: 'data',
      producedBy: { stage: 'ingest', stageRunId: ingest.stageRunId, attemptId: ingest.attemptId, attempt: 1 },
      createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      links: { self: `/v1/artifacts/${artifact.id}`, content: `/v1/artifacts/${artifact.id}/content` },
    });
  });

  it('/content streams the exact bytes with the media type, length, ETag and a file name', async () => {
    const response = await api.inject(`/v1/artifacts/${artifact.id}/content`);
    expect(response.statusCode, response.body).toBe(200);
    expect(Buffer.compare(response.rawPayload, Buffer.from(bytes))).toBe(0);
    expect(`sha256:${createHash('sha256').update(response.rawPayload).digest('hex')}`).toBe(ref.digest);
    expect(response.headers['content-type']).toBe(ARROW);
    expect(response.headers['content-length']).toBe(String(bytes.byteLength));
    expect(response.headers.etag).toBe(`"${ref.digest}"`);
    expect(response.headers['content-disposition']).toBe('attachment; filename="ingest-data.arrow"');
  });

  it('HEAD /content answers the same headers and no body', async () => {
    const response = await api.inject({ method: 'HEAD', url: `/v1/artifacts/${artifact.id}/content` });
    expect(response.statusCode).toBe(200);
    expect(response.headers.etag).toBe(`"${ref.digest}"`);
    expect(response.headers['content-type']).toBe(ARROW);
    expect(response.rawPayload.byteLength).toBe(0);
  });

  it('/content answers 404 when the bytes are missing from the store', async () => {
    // A second output whose digest the store never received.
    const missing = { ...ref, digest: `sha256:${'0'.repeat(64)}`, uri: api.store.uriFor(`sha256:${'0'.repeat(64)}`), type: 'json' as const, mediaType: 'application/json' };
    const other = await api.inject({ method: 'POST', url: '/v1/runs', headers: { 'content-type': 'application/yaml' }, payload: await readExampleYaml() });
    const otherRun = other.json<{ id: string }>().id;
    const [job] = await jobsOf(otherRun);
    if (!job) throw new Error('no ingest job');
    await apply({ type: 'stage.succeeded', ...base(job), outputs: { data: missing }, metrics: {}, resourceUse });
    const [lost] = (await api.inject(`/v1/runs/${otherRun}/lineage`)).json<Lineage>().artifacts;
    expect((await api.inject(`/v1/artifacts/${lost?.id}`)).statusCode).toBe(200);
    const body = expectApiError(await api.inject(`/v1/artifacts/${lost?.id}/content`), 404, 'PW_ERR_ARTIFACT_NOT_FOUND');
    expect(body.message).toContain('no longer in the store');
  });

  it('/content serves an artifact kept inline in its data: uri', async () => {
    const json = new TextEncoder().encode('{\n  "ok": true\n}\n');
    const blob = await api.store.put(json, { inline: true });
    expect(blob.uri.startsWith('data:')).toBe(true);
    const inline: ArtifactRef = { ...blob, type: 'json', mediaType: 'application/json' };
    const other = await api.inject({ method: 'POST', url: '/v1/runs', headers: { 'content-type': 'application/yaml' }, payload: await readExampleYaml() });
    const [job] = await jobsOf(other.json<{ id: string }>().id);
    if (!job) throw new Error('no ingest job');
    await apply({ type: 'stage.succeeded', ...base(job), outputs: { data: inline }, metrics: {}, resourceUse });
    const [stored] = (await api.inject(`/v1/runs/${job.runId}/lineage`)).json<Lineage>().artifacts;
    expect(stored?.uri).toBe(blob.uri);

    const response = await api.inject(`/v1/artifacts/${stored?.id}/content`);
    expect(response.statusCode, response.body).toBe(200);
    expect(Buffer.compare(response.rawPayload, Buffer.from(json))).toBe(0);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.headers['content-length']).toBe(String(json.byteLength));
    expect(response.headers.etag).toBe(`"${blob.digest}"`);
    expect(response.headers['content-disposition']).toBe('attachment; filename="ingest-data.json"');
  });

  it('answers 404 for an unknown artifact', async () => {
    expectApiError(await api.inject(`/v1/artifacts/${randomUUID()}`), 404, 'PW_ERR_ARTIFACT_NOT_FOUND');
  });
});

describe('GET /v1/runs/{id}/lineage', () => {
  it('lists the artifact with its producer and the attempt that consumes it', async () => {
    const response = await api.inject(`/v1/runs/${runId}/lineage`);
    expect(response.statusCode, response.body).toBe(200);
    const lineage = response.json<Lineage>();
    expect(lineage.runId).toBe(runId);
    expect(lineage.artifacts).toHaveLength(1);
    expect(lineage.artifacts[0]).toMatchObject({
      id: artifact.id,
      digest: ref.digest,
      producedBy: { stage: 'ingest', attemptId: ingest.attemptId, attempt: 1 },
      consumedBy: [{ stage: 'split', stageRunId: split.stageRunId, attemptId: split.attemptId, attempt: 1, inputName: 'data' }],
    });
  });
});

describe('GET /v1/runs/{id}/metrics', () => {
  it('has the progress points as series and the success metrics as final', async () => {
    const response = await api.inject(`/v1/runs/${runId}/metrics`);
    expect(response.statusCode, response.body).toBe(200);
    const metrics = response.json<Metrics>();
    expect(metrics.runId).toBe(runId);
    expect(metrics.series.map((s) => ({ ...s, points: s.points.map((p) => [p.step, p.value]) }))).toEqual([
      { stage: 'ingest', attempt: 1, attemptId: ingest.attemptId, name: 'rows_read', points: [[1, 100], [2, 250], [3, 569]] },
      { stage: 'split', attempt: 1, attemptId: split.attemptId, name: 'progress', points: [[1, 0.5]] },
    ]);
    expect(metrics.final).toEqual({ ingest: { rows: 569, columns: 31 } });
  });

  it('is empty for a run that has not started', async () => {
    const fresh = await api.inject({ method: 'POST', url: '/v1/runs', headers: { 'content-type': 'application/yaml' }, payload: await readExampleYaml() });
    const id = fresh.json<{ id: string }>().id;
    expect((await api.inject(`/v1/runs/${id}/metrics`)).json()).toEqual({ runId: id, series: [], final: {} });
    expect((await api.inject(`/v1/runs/${id}/lineage`)).json()).toEqual({ runId: id, artifacts: [] });
  });
});

describe('GET /v1/runs/{id} after events', () => {
  it('shows statuses, attempts, timings and outputs', async () => {
    const response = await api.inject(`/v1/runs/${runId}`);
    expect(response.statusCode, response.body).toBe(200);
    const run = response.json<{
      status: string;
      startedAt: string | null;
      stages: { stage: string; status: string; metrics: Record<string, number> | null; durationMs: number | null; attempts: { status: string; workerId: string | null; host: string | null; backend: string | null; resourceUse: unknown }[]; outputs: Record<string, Artifact> }[];
    }>();
    expect(run.status).toBe('RUNNING');
    expect(run.startedAt).not.toBeNull();
    expect(run.stages.map((s) => [s.stage, s.status])).toEqual([
      ['ingest', 'SUCCEEDED'],
      ['split', 'RUNNING'],
      ['scale', 'PENDING'],
      ['train', 'PENDING'],
      ['evaluate', 'PENDING'],
    ]);
    const [ingestStage] = run.stages;
    expect(ingestStage?.metrics).toEqual({ rows: 569, columns: 31 });
    expect(ingestStage?.durationMs).toBeGreaterThanOrEqual(0);
    expect(ingestStage?.attempts).toEqual([expect.objectContaining({ status: 'SUCCEEDED', workerId: 'worker-1', host: 'host-1', backend: 'cpu', resourceUse })]);
    expect(ingestStage?.outputs.data?.id).toBe(artifact.id);
    expect(ingestStage?.outputs.data?.producedBy.stage).toBe('ingest');
  });
});
