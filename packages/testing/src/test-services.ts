import { isListening } from '@pipewright/process';

/** Where the Postgres and Redis that tests run against came from. */
export type TestServiceSource = 'env' | 'local' | 'container';

/** The Postgres and Redis to test against, resolved once per test run by the global setup. */
export interface TestServices {
  /** A database on a server where the test user may `CREATE DATABASE`; used for admin statements. */
  databaseUrl: string;
  redisUrl: string;
  sources: { postgres: TestServiceSource; redis: TestServiceSource };
  /** Stops the containers this call started, if any. Idempotent. */
  stop(): Promise<void>;
}

export interface ResolveTestServicesOptions {
  /**
   * The environment to read `DATABASE_URL` and `REDIS_URL` from.
   * @defaultValue `process.env`
   */
  env?: Record<string, string | undefined>;
  /**
   * Where a note about the choice goes (local server found, containers started).
   * @defaultValue `console.info`
   */
  log?: (message: string) => void;
}

export const LOCAL_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
export const LOCAL_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * Finds the Postgres and Redis to test against, each independently, first match wins:
 * `DATABASE_URL` / `REDIS_URL`; a server accepting connections on 127.0.0.1:5432 / :6379; a
 * container started with testcontainers when a Docker engine is reachable. Throws when none.
 * Tests never mock these: a test that passes against a fake proves little about the real thing.
 */
export async function resolveTestServices(options: ResolveTestServicesOptions = {}): Promise<TestServices> {
  const env = options.env ?? process.env;
  const log = onceEach(options.log ?? ((message: string) => console.info(message)));
  const stops: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    const pending = stops.splice(0);
    await Promise.allSettled(pending.map((s) => s()));
  };

  try {
    let databaseUrl = nonEmpty(env['DATABASE_URL']);
    let postgres: TestServiceSource = 'env';
    let redisUrl = nonEmpty(env['REDIS_URL']);
    let redis: TestServiceSource = 'env';

    const [pgLocal, redisLocal] = await Promise.all([
      databaseUrl === undefined ? canConnect('127.0.0.1', 5432) : false,
      redisUrl === undefined ? canConnect('127.0.0.1', 6379) : false,
    ]);
    if (databaseUrl === undefined && pgLocal) {
      databaseUrl = LOCAL_DATABASE_URL;
      postgres = 'local';
      log(`[pipewright/testing] DATABASE_URL not set; using the Postgres listening at ${LOCAL_DATABASE_URL}`);
    }
    if (redisUrl === undefined && redisLocal) {
      redisUrl = LOCAL_REDIS_URL;
      redis = 'local';
      log(`[pipewright/testing] REDIS_URL not set; using the Redis listening at ${LOCAL_REDIS_URL}`);
    }

    if (databaseUrl === undefined || redisUrl === undefined) {
      await assertContainerRuntime(databaseUrl === undefined, redisUrl === undefined);
      if (databaseUrl === undefined) {
        // Loaded only here: testcontainers is heavy and probes Docker on import paths.
        const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
        const container = await new PostgreSqlContainer('postgres:16-alpine')
          .withDatabase('test')
          .withUsername('postgres')
          .withPassword('postgres')
          .start();
        stops.push(() => container.stop());
        databaseUrl = container.getConnectionUri();
        postgres = 'container';
        log(`[pipewright/testing] started a Postgres container at ${databaseUrl}`);
      }
      if (redisUrl === undefined) {
        const { RedisContainer } = await import('@testcontainers/redis');
        const container = await new RedisContainer('redis:7-alpine').start();
        stops.push(() => container.stop());
        redisUrl = container.getConnectionUrl();
        redis = 'container';
        log(`[pipewright/testing] started a Redis container at ${redisUrl}`);
      }
    }

    return { databaseUrl, redisUrl, sources: { postgres, redis }, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function assertContainerRuntime(needPostgres: boolean, needRedis: boolean): Promise<void> {
  const missing = [needPostgres && 'Postgres (DATABASE_URL)', needRedis && 'Redis (REDIS_URL)'].filter(Boolean).join(' and ');
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
  } catch (cause) {
    throw new Error(
      `No ${missing} to test against: set DATABASE_URL and REDIS_URL (e.g. ` +
        `DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379), ` +
        `run them on 127.0.0.1:5432 and 127.0.0.1:6379, or start Docker so testcontainers can.`,
      { cause },
    );
  }
}

/**
 * Each distinct message is logged once per process, even when several vitest projects each run
 * the global setup (each loads its own copy of this module, hence the global).
 */
function onceEach(log: (message: string) => void): (message: string) => void {
  const key = Symbol.for('pipewright.testing.loggedMessages');
  const store = globalThis as { [key]?: Set<string> };
  const seen = (store[key] ??= new Set<string>());
  return (message) => {
    if (seen.has(message)) return;
    seen.add(message);
    log(message);
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** True when something accepts a TCP connection at host:port within the timeout. */
export function canConnect(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return isListening(host, port, timeoutMs);
}
