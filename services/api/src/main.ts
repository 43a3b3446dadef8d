import { pino } from 'pino';
import { createLocalArtifactStore } from '@pipewright/artifacts';
import { migrateDatabase, openDatabase } from '@pipewright/db';
import { runService } from '@pipewright/process';
import { loadApiEnv } from './env.ts';
import { startApi } from './start-api.ts';

/** `npm run start -w services/api` */
runService(async () => {
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
  return {
    async close() {
      await api.close();
      await database.close();
    },
  };
});
