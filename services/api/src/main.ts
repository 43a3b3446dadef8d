import { pino } from 'pino';
import { ConfigError } from '@pipewright/core';
import { createLocalArtifactStore } from '@pipewright/artifacts';
import { migrateDatabase, openDatabase } from '@pipewright/db';
import { loadApiEnv } from './env.ts';
import { startApi } from './start-api.ts';

/** `npm run start -w services/api` */
async function main(): Promise<void> {
  const env = loadApiEnv();
  const logger = pino({ level: env.LOG_LEVEL, base: { service: 'api' } });
  const database = await openDatabase({ url: env.DATABASE_URL }, { poolSize: env.DB_POOL_SIZE });
  await migrateDatabase(database);
  const api = await startApi({
    database,
    redisUrl: env.REDIS_URL,
    prefix: env.QUEUE_PREFIX,
    store: createLocalArtifactStore({ root: env.ARTIFACT_ROOT }),
    logger,
    host: env.HOST,
    port: env.PORT,
    bodyLimitBytes: env.BODY_LIMIT_BYTES,
  });
  logger.info({ url: api.url }, 'api listening');
  const stop = async (signal: string) => {
    logger.info({ signal }, 'stopping');
    await api.close();
    await database.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : String((error as Error)?.stack ?? error)}\n`);
  process.exit(error instanceof ConfigError ? 78 : 1);
});
