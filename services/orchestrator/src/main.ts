import { pino } from 'pino';
import { migrateDatabase, openDatabase } from '@pipewright/db';
import { runService } from '@pipewright/process';
import { loadOrchestratorEnv } from './env.ts';
import { startOrchestrator } from './start-orchestrator.ts';

/** `npm run start -w services/orchestrator` */
runService(async () => {
  const env = loadOrchestratorEnv();
  const logger = pino({ level: env.LOG_LEVEL, base: { service: 'orchestrator' } });
  const database = await openDatabase({ url: env.DATABASE_URL }, { poolSize: env.DB_POOL_SIZE });
  await migrateDatabase(database);
  const orchestrator = await startOrchestrator({
    db: database.db,
    redisUrl: env.REDIS_URL,
    prefix: env.QUEUE_PREFIX,
    logger,
    eventConcurrency: env.EVENT_CONCURRENCY,
    relayIntervalMs: env.RELAY_INTERVAL_MS,
    reconcileIntervalMs: env.RECONCILE_INTERVAL_MS,
    reconcileGraceMs: env.RECONCILE_GRACE_MS,
  });
  return {
    async close() {
      await orchestrator.close();
      await database.close();
    },
  };
});
