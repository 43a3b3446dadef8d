import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupRedisPrefix, createTestDatabase, testQueuePrefix, testRedisUrl, type TestDatabase } from '@pipewright/testing';
import { freePort, REPO_ROOT, startServiceProcess, waitFor, type ServiceProcess } from '../support/service-process.ts';

/**
 * The walking skeleton end to end: the API, the orchestrator and two workers as separate OS
 * processes over the real Postgres and Redis, running the breast-cancer demo from its YAML.
 */
describe('demo pipeline across separate processes', () => {
  let database: TestDatabase;
  let artifactRoot: string;
  const prefix = testQueuePrefix();
  const redisUrl = testRedisUrl();
  const processes: ServiceProcess[] = [];
  let api = '';

  beforeAll(async () => {
    database = await createTestDatabase();
    artifactRoot = await mkdtemp(join(tmpdir(), 'pw-e2e-artifacts-'));
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    const common = { REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, ARTIFACT_ROOT: artifactRoot };
    processes.push(
      startServiceProcess('api', 'services/api/src/main.ts', { ...common, DATABASE_URL: database.url, PORT: String(port), HOST: '127.0.0.1' }),
      startServiceProcess('orchestrator', 'services/orchestrator/src/main.ts', { ...common, DATABASE_URL: database.url }),
      // Workers get no DATABASE_URL at all: they must work with Redis and the artifact store only.
      startServiceProcess('worker-1', 'services/worker/src/main.ts', { ...common, DATA_ROOT: REPO_ROOT, WORKER_ID: 'e2e-worker-1' }, ['--queues', 'cpu']),
      startServiceProcess('worker-2', 'services/worker/src/main.ts', { ...common, DATA_ROOT: REPO_ROOT, WORKER_ID: 'e2e-worker-2' }, ['--queues', 'cpu']),
    );
    await waitFor('the API to be ready', async () => ((await fetch(`${api}/readyz`).catch(() => undefined))?.ok ? true : undefined), 60_000);
    await waitFor(
      'both workers to register',
      async () => {
        const body = (await (await fetch(`${api}/v1/workers`)).json()) as { items: { id: string }[] };
        return body.items.length >= 2 ? true : undefined;
      },
      60_000,
    );
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await cleanupRedisPrefix(redisUrl, prefix);
    await database?.drop();
    if (artifactRoot) await rm(artifactRoot, { recursive: true, force: true });
  });

  it('runs the breast-cancer pipeline to SUCCEEDED with full lineage, live metrics and accuracy >= 0.93', async () => {
    const yaml = await readFile(join(REPO_ROOT, 'examples/breast-cancer-diagnosis.yaml'), 'utf8');
    const submit = await fetch(`${api}/v1/runs`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: yaml });
    const submitted = (await submit.json()) as { id: string; links: Record<string, string> };
    expect(submit.status, JSON.stringify(submitted)).toBe(201);

    type Run = {
      status: string;
      stages: { id: string; stage: string; uses: string; status: string; metrics: Record<string, number> | null; attempts: { id: string; status: string; workerId: string | null; backend: string | null }[] }[];
    };
    let run: Run;
    try {
      run = await waitFor(
        'the run to finish',
        async () => {
          const r = (await (await fetch(`${api}/v1/runs/${submitted.id}`)).json()) as Run;
          return ['SUCCEEDED', 'FAILED', 'CANCELED'].includes(r.status) ? r : undefined;
        },
        150_000,
        300,
      );
    } catch (error) {
      throw new Error(`${String(error)}\n${processes.map((p) => `--- ${p.name}\n${p.output().slice(-4000)}`).join('\n')}`);
    }
    expect(run.status, JSON.stringify(run.stages.map((s) => [s.stage, s.status]))).toBe('SUCCEEDED');
    expect(run.stages.map((s) => s.stage)).toEqual(['ingest', 'split', 'scale', 'train', 'evaluate']);
    for (const stage of run.stages) {
      expect(stage.status).toBe('SUCCEEDED');
      expect(stage.attempts.filter((a) => a.status === 'SUCCEEDED')).toHaveLength(1);
    }
    const workersUsed = new Set(run.stages.flatMap((s) => s.attempts.map((a) => a.workerId)));
    expect([...workersUsed].every((w) => w === 'e2e-worker-1' || w === 'e2e-worker-2')).toBe(true);
    expect(run.stages.find((s) => s.stage === 'train')?.attempts[0]?.backend).toMatch(/^(wasm|cpu|tensorflow|tensorflow-gpu)$/);

    // Lineage: every declared input of every stage is traced to the successful attempt that produced it.
    const types = (await (await fetch(`${api}/v1/stage-types`)).json()) as { items: { type: string; inputs: Record<string, string> }[] };
    const lineage = (await (await fetch(`${api}/v1/runs/${submitted.id}/lineage`)).json()) as {
      artifacts: { id: string; producedBy: { stage: string; attemptId: string }; consumedBy: { stage: string; attemptId: string; inputName: string }[] }[];
    };
    const succeededAttempt = new Map(run.stages.map((s) => [s.stage, s.attempts.find((a) => a.status === 'SUCCEEDED')?.id]));
    for (const artifact of lineage.artifacts) {
      expect(artifact.producedBy.attemptId).toBe(succeededAttempt.get(artifact.producedBy.stage));
    }
    for (const stage of run.stages) {
      const declared = Object.keys(types.items.find((t) => t.type === stage.uses)?.inputs ?? {});
      const consumed = lineage.artifacts.flatMap((a) =>
        a.consumedBy.filter((c) => c.stage === stage.stage && c.attemptId === succeededAttempt.get(stage.stage)).map((c) => c.inputName),
      );
      expect(consumed.sort()).toEqual(declared.sort());
    }
    const artifactIds = lineage.artifacts.map((a) => a.id);
    expect(new Set(artifactIds).size).toBe(artifactIds.length);

    // The per-epoch series reached Postgres.
    const metrics = (await (await fetch(`${api}/v1/runs/${submitted.id}/metrics`)).json()) as {
      series: { stage: string; name: string; points: { step: number }[] }[];
      final: Record<string, Record<string, number>>;
    };
    const loss = metrics.series.find((s) => s.stage === 'train' && s.name === 'loss');
    expect(loss?.points.length).toBeGreaterThanOrEqual(10);
    const steps = loss?.points.map((p) => p.step) ?? [];
    expect(new Set(steps).size).toBe(steps.length);

    const evaluation = run.stages.find((s) => s.stage === 'evaluate')?.metrics;
    expect(evaluation?.accuracy).toBeGreaterThanOrEqual(0.93);
    expect(metrics.final.evaluate?.accuracy).toBe(evaluation?.accuracy);

    // An artifact downloads with the bytes its digest names.
    const report = lineage.artifacts.find((a) => a.producedBy.stage === 'evaluate');
    const content = await fetch(`${api}/v1/artifacts/${report?.id}/content`);
    expect(content.status).toBe(200);
    const bytes = Buffer.from(await content.arrayBuffer());
    const { createHash } = await import('node:crypto');
    const meta = (await (await fetch(`${api}/v1/artifacts/${report?.id}`)).json()) as { digest: string };
    expect(`sha256:${createHash('sha256').update(bytes).digest('hex')}`).toBe(meta.digest);
  });
});
