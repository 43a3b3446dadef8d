import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createLocalArtifactStore, type ArtifactStore } from '@pipewright/artifacts';
import { startApi, type RunningApi } from '@pipewright/api';
import { startOrchestrator, type RunningOrchestrator } from '@pipewright/orchestrator';
import { expandQueueSelection } from '@pipewright/queue';
import { createBuiltinStages, createStageRegistry, type StageDefinition } from '@pipewright/stages';
import { cleanupRedisPrefix, createTestDatabase, testQueuePrefix, testRedisUrl, type TestDatabase } from '@pipewright/testing';
import { startWorker, type RunningWorker } from '@pipewright/worker';
import { REPO_ROOT } from './service-process.ts';

export interface TestStack {
  /** Base URL of the API, e.g. http://127.0.0.1:41234 */
  url: string;
  database: TestDatabase;
  store: ArtifactStore;
  prefix: string;
  redisUrl: string;
  api: RunningApi;
  orchestrator: RunningOrchestrator;
  workers: RunningWorker[];
  /** Submits a spec (YAML text or object) and waits until the run ends; returns the run detail. */
  runToEnd(spec: string | object, timeoutMs?: number): Promise<RunDetail>;
  stop(): Promise<void>;
}

export interface RunDetail {
  id: string;
  status: string;
  stages: { stage: string; uses: string; status: string; metrics: Record<string, number> | null; attempts: { status: string; error: unknown; backend: string | null }[] }[];
}

/**
 * The whole system in this process over the real Postgres (a fresh database) and Redis (a fresh
 * key prefix): the API on a free port, an orchestrator and `workers` workers serving every queue.
 * The parts still talk only through Postgres and Redis. For tests that need many runs quickly;
 * test/e2e covers the separate-process layout.
 */
export async function startTestStack(options: { workers?: number; extraStages?: StageDefinition[] } = {}): Promise<TestStack> {
  const database = await createTestDatabase();
  const root = await mkdtemp(join(tmpdir(), 'pw-stack-'));
  const store = createLocalArtifactStore({ root });
  const prefix = testQueuePrefix();
  const redisUrl = testRedisUrl();
  const logger = pino({ level: process.env['PW_TEST_LOG_LEVEL'] ?? 'silent' });
  const registry = createStageRegistry([...createBuiltinStages({ dataDir: REPO_ROOT }), ...(options.extraStages ?? [])]);
  const families = [...new Set(registry.list().map((d) => d.family))];
  const orchestrator = await startOrchestrator({ db: database.handle.db, redisUrl, prefix, logger, relayIntervalMs: 100 });
  const workers: RunningWorker[] = [];
  for (let i = 0; i < (options.workers ?? 1); i += 1) {
    workers.push(
      await startWorker({
        redisUrl,
        prefix,
        queues: expandQueueSelection(['all'], families),
        store,
        findStage: (t) => registry.getDefinition(t),
        logger,
        workerId: `stack-worker-${i + 1}`,
      }),
    );
  }
  const api = await startApi({ database: database.handle, redisUrl, prefix, store, logger, host: '127.0.0.1', port: 0, catalog: registry });
  const url = api.url;

  return {
    url,
    database,
    store,
    prefix,
    redisUrl,
    api,
    orchestrator,
    workers,
    async runToEnd(spec, timeoutMs = 120_000) {
      const yaml = typeof spec === 'string';
      const response = await fetch(`${url}/v1/runs`, {
        method: 'POST',
        headers: { 'content-type': yaml ? 'application/yaml' : 'application/json' },
        body: yaml ? spec : JSON.stringify(spec),
      });
      const body = (await response.json()) as { id?: string };
      if (response.status !== 201 || !body.id) throw new Error(`submit failed (${response.status}): ${JSON.stringify(body)}`);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const run = (await (await fetch(`${url}/v1/runs/${body.id}`)).json()) as RunDetail;
        if (['SUCCEEDED', 'FAILED', 'CANCELED'].includes(run.status)) return run;
        if (Date.now() > deadline) throw new Error(`run ${body.id} did not end in ${timeoutMs} ms: ${JSON.stringify(run.stages.map((s) => [s.stage, s.status]))}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      await api.close();
      await Promise.all(workers.map((w) => w.close()));
      await orchestrator.close();
      await cleanupRedisPrefix(redisUrl, prefix);
      await database.drop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
