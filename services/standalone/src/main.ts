import { pino } from 'pino';
import { ConfigError } from '@pipewright/core';
import { loadStandaloneEnv } from './env.ts';
import { startStandalone } from './start-standalone.ts';

/** `npm start`: the whole system in one process, until SIGINT/SIGTERM. */
async function main(): Promise<void> {
  const env = loadStandaloneEnv();
  const logger = pino({ level: env.LOG_LEVEL });
  const system = await startStandalone(env, logger);
  logger.info({ url: system.url, docs: `${system.url}/docs`, database: system.databaseKind }, 'pipewright is up');
  const stop = async (signal: string) => {
    logger.info({ signal }, 'stopping');
    await system.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : String((error as Error)?.stack ?? error)}\n`);
  process.exit(error instanceof ConfigError ? 78 : 1);
});
