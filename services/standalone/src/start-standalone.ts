import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { createLocalArtifactStore } from '@pipewright/artifacts';
import { startApi } from '@pipewright/api';
import { migrateDatabase, openDatabase } from '@pipewright/db';
import { startOrchestrator } from '@pipewright/orchestrator';
import { expandQueueSelection } from '@pipewright/queue';
import { builtinStages, createStageRegistry, loadTensorflow } from '@pipewright/stages';
import { startWorker } from '@pipewright/worker';
import { ensureRedis } from './ensure-redis.ts';
import type { StandaloneEnv } from './env.ts';

export interface RunningStandalone {
  url: string;
  databaseKind: 'pg' | 'pglite';
  close(): Promise<void>;
}

/**
 * Everything in one process with embedded defaults: PGlite (or DATABASE_URL), the local
 * artifact store, Redis (started if absent), the API, an orchestrator and a worker serving
 * every queue. The pieces talk exactly as they do when split across machines: through
 * Postgres and Redis, never through shared memory.
 */
export async function startStandalone(env: StandaloneEnv, logger: Logger): Promise<RunningStandalone> {
  const home = resolve(env.PIPEWRIGHT_HOME);
  await mkdir(home, { recursive: true });
  const redis = await ensureRedis(env.REDIS_URL, join(home, 'redis'));
  if (redis.child) logger.info({ url: env.REDIS_URL }, 'started a local redis-server');
  const database = await openDatabase(env.DATABASE_URL ? { url: env.DATABASE_URL } : { pgliteDir: join(home, 'db') });
  await migrateDatabase(database);
  const store = createLocalArtifactStore({ root: join(home, 'artifacts') });
  const registry = createStageRegistry(builtinStages);
  const families = [...new Set(registry.list().map((d) => d.family))];
  const { backend } = await loadTensorflow(env.TF_BACKEND ? { prefer: env.TF_BACKEND } : {});

  const orchestrator = await startOrchestrator({ db: database.db, redisUrl: env.REDIS_URL, prefix: env.QUEUE_PREFIX, logger: logger.child({ service: 'orchestrator' }) });
  const worker = await startWorker({
    redisUrl: env.REDIS_URL,
    prefix: env.QUEUE_PREFIX,
    queues: expandQueueSelection(['all'], families),
    store,
    findStage: (type) => registry.getDefinition(type),
    logger: logger.child({ service: 'worker' }),
    concurrency: env.WORKER_CONCURRENCY,
    backend,
  });
  const api = await startApi({
    database,
    redisUrl: env.REDIS_URL,
    prefix: env.QUEUE_PREFIX,
    store,
    logger: logger.child({ service: 'api' }),
    host: env.HOST,
    port: env.PORT,
  });
  return {
    url: api.url,
    databaseKind: database.kind,
    async close() {
      await api.close();
      await worker.close();
      await orchestrator.close();
      await database.close();
      await redis.stop();
    },
  };
}
