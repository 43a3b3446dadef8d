import { pino } from 'pino';
import { runService } from '@pipewright/process';
import { loadStandaloneEnv } from './env.ts';
import { startStandalone } from './start-standalone.ts';

/** `npm start`: the whole system in one process, until SIGINT/SIGTERM. */
runService(async () => {
  const env = loadStandaloneEnv();
  const logger = pino({ level: env.LOG_LEVEL });
  const system = await startStandalone(env, logger);
  logger.info({ url: system.url, docs: `${system.url}/docs`, ui: `${system.url}/ui/`, database: system.databaseKind }, 'pipewright is up');
  return system;
});
