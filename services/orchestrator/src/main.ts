import { pino } from 'pino';
import { ConfigError } from '@pipewright/core';
import { migrateDatabase, openDatabase } from '@pipewright/db';
import { loadOrchestratorEnv } from './env.ts';
import { startOrchestrator } from './start-orchestrator.ts';

/** `npm run start -w services/orchestrator` */
async function main(): Promise<void> {
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
  const stop = async (signal: string) => {
    logger.info({ signal }, 'stopping');
    await orchestrator.close();
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
