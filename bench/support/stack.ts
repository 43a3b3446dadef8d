import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { pino } from 'pino';
import { createLocalArtifactStore } from '@pipewright/artifacts';
import { startApi } from '@pipewright/api';
import { openDatabase } from '@pipewright/db';
import { startOrchestrator } from '@pipewright/orchestrator';
import { expandQueueSelection, workerKey } from '@pipewright/queue';
import { createBuiltinStages, createStageRegistry } from '@pipewright/stages';
import { startWorker } from '@pipewright/worker';
import { REDIS_URL, REPO_ROOT, waitFor, type BenchContext } from './context.ts';
import { benchPool, createBenchDatabase, type BenchDatabase } from './databases.ts';
import { freePort, spawnTs, type BenchProcess } from './processes.ts';
import { benchPrefix } from './redis.ts';

export interface StackOptions {
  label: string;
  /** inproc: API, orchestrator and workers in this process (the services' start* functions); procs: one OS process each (their main.ts). */
  layout: 'inproc' | 'procs';
  workers: number;
  /** Jobs at once per queue per worker. @defaultValue 1 (the service default) */
  workerConcurrency?: number;
  /** Start an orchestrator. @defaultValue true */
  orchestrator?: boolean;
  /** Serve every stage queue (cpu); `all` adds gpu. @defaultValue 'cpu' */
  queues?: string;
}

export interface PipewrightStack {
  url: string;
  database: BenchDatabase;
  /** For the benchmark's own reads (run status, attempt timestamps). */
  pool: pg.Pool;
  prefix: string;
  processes: BenchProcess[];
}

/**
 * Starts Pipewright over a fresh migrated database and a fresh Redis prefix. Everything is
 * stopped, dropped and deleted by the benchmark's cleanup.
 */
export async function startPipewright(ctx: BenchContext, options: StackOptions): Promise<PipewrightStack> {
  const prefix = benchPrefix(ctx, options.label);
  const database = await createBenchDatabase(ctx, options.label);
  const pool = benchPool(ctx, database, 4);
  const artifactRoot = await mkdtemp(join(tmpdir(), 'pw-bench-'));
  ctx.defer(`remove ${artifactRoot}`, () => rm(artifactRoot, { recursive: true, force: true }));
  const concurrency = options.workerConcurrency ?? 1;
  const queuesArg = options.queues ?? 'cpu';

  if (options.layout === 'inproc') {
    const logger = pino({ level: 'silent' });
    const registry = createStageRegistry(createBuiltinStages({ dataDir: REPO_ROOT }));
    const families = [...new Set(registry.list().map((d) => d.family))];
    const store = createLocalArtifactStore({ root: artifactRoot });
    if (options.orchestrator !== false) {
      const orchDb = await openDatabase({ url: database.url }, { poolSize: 10 });
      ctx.defer('close orchestrator pool', () => orchDb.close());
      const orchestrator = await startOrchestrator({ db: orchDb.db, redisUrl: REDIS_URL, prefix, logger });
      ctx.defer('stop orchestrator', () => orchestrator.close());
    }
    for (let i = 0; i < options.workers; i += 1) {
      const worker = await startWorker({
        redisUrl: REDIS_URL,
        prefix,
        queues: expandQueueSelection(queuesArg.split(','), families),
        store,
        findStage: (t) => registry.getDefinition(t),
        logger,
        concurrency,
        workerId: `bench-worker-${i + 1}`,
      });
      ctx.defer(`stop worker ${i + 1}`, () => worker.close());
    }
    const apiDb = await openDatabase({ url: database.url }, { poolSize: 10 });
    ctx.defer('close api pool', () => apiDb.close());
    const api = await startApi({ database: apiDb, redisUrl: REDIS_URL, prefix, store, logger, host: '127.0.0.1', port: 0 });
    ctx.defer('stop api', () => api.close());
    return { url: api.url, database, pool, prefix, processes: [] };
  }

  const env = {
    DATABASE_URL: database.url,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    ARTIFACT_ROOT: artifactRoot,
    DATA_ROOT: REPO_ROOT,
    LOG_LEVEL: 'warn',
  };
  const processes: BenchProcess[] = [];
  if (options.orchestrator !== false) {
    const orchestrator = spawnTs(ctx, 'orchestrator', 'services/orchestrator/src/main.ts', { env: { ...env, LOG_LEVEL: 'info' } });
    processes.push(orchestrator);
    await orchestrator.waitForOutput(/orchestrator started/, 60_000);
  }
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
  try {
    for (let i = 0; i < options.workers; i += 1) {
      const id = `bench-worker-${i + 1}`;
      processes.push(
        spawnTs(ctx, id, 'services/worker/src/main.ts', {
          env: { ...env, WORKER_ID: id, WORKER_QUEUES: queuesArg, WORKER_CONCURRENCY: String(concurrency) },
        }),
      );
    }
    for (let i = 0; i < options.workers; i += 1) {
      const key = workerKey(prefix, `bench-worker-${i + 1}`);
      await waitFor(`worker ${i + 1} heartbeat`, async () => ((await redis.exists(key)) ? true : undefined), 60_000, 100, ctx.signal);
    }
  } finally {
    redis.disconnect();
  }
  const port = await freePort();
  const api = spawnTs(ctx, 'api', 'services/api/src/main.ts', { env: { ...env, HOST: '127.0.0.1', PORT: String(port) } });
  processes.push(api);
  const url = `http://127.0.0.1:${port}`;
  await waitFor('api /healthz', async () => ((await fetch(`${url}/healthz`)).ok ? true : undefined), 60_000, 100, ctx.signal);
  return { url, database, pool, prefix, processes };
}

/** POST /v1/runs with a JSON spec; returns the run id. */
export async function submit(url: string, spec: object): Promise<string> {
  const response = await fetch(`${url}/v1/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(spec) });
  const body = (await response.json()) as { id?: string };
  if (response.status !== 201 || !body.id) throw new Error(`submit failed (${response.status}): ${JSON.stringify(body).slice(0, 500)}`);
  return body.id;
}

export interface EndedRun {
  status: string;
  createdAt: Date;
  finishedAt: Date;
}

/** Polls the database (not the API, which would add load) until the run ends. */
export async function waitRunEnded(ctx: BenchContext, pool: pg.Pool, runId: string, timeoutMs: number, intervalMs = 20): Promise<EndedRun> {
  return waitFor(
    `run ${runId} to end`,
    async () => {
      const { rows } = await pool.query<{ status: string; created_at: Date; finished_at: Date | null }>(
        'select status, created_at, finished_at from runs where id = $1',
        [runId],
      );
      const row = rows[0];
      if (!row || !['SUCCEEDED', 'FAILED', 'CANCELED'].includes(row.status) || !row.finished_at) return undefined;
      return { status: row.status, createdAt: row.created_at, finishedAt: row.finished_at };
    },
    timeoutMs,
    intervalMs,
    ctx.signal,
  );
}
