import type { TestProject } from 'vitest/node';
import './provided-context.ts';
import { dropLeftoverTestDatabases, ensureTemplateDatabase, newRunId } from './template-database.ts';
import { resolveTestServices, type TestServices } from './test-services.ts';

/**
 * vitest globalSetup for every project (see the root vitest.config.ts). Once per vitest run it
 * resolves Postgres and Redis (test-services.ts), makes sure the migrated template database
 * exists, and provides to the test workers: `pwDatabaseUrl`, `pwRedisUrl`,
 * `pwTemplateDatabase`, `pwRunId`. On teardown it drops the test databases the run left behind
 * and stops any containers it started.
 *
 * Each project runs its own copy of this setup; they share one resolution (one set of
 * containers) through a process-wide entry, released by the last teardown.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const shared = acquireShared();
  try {
    const { services, template, runId } = await shared.ready;
    project.provide('pwDatabaseUrl', services.databaseUrl);
    project.provide('pwRedisUrl', services.redisUrl);
    project.provide('pwTemplateDatabase', template);
    project.provide('pwRunId', runId);
  } catch (error) {
    await releaseShared();
    throw error;
  }
  return releaseShared;
}

interface Shared {
  users: number;
  ready: Promise<{ services: TestServices; template: string; runId: string }>;
}

const KEY = Symbol.for('pipewright.testing.globalSetup');
const store = globalThis as { [KEY]?: Shared };

function acquireShared(): Shared {
  let shared = store[KEY];
  if (shared === undefined) {
    shared = {
      users: 0,
      ready: (async () => {
        const services = await resolveTestServices();
        try {
          const runId = newRunId();
          const template = await ensureTemplateDatabase(services.databaseUrl);
          await dropLeftoverTestDatabases(services.databaseUrl, undefined);
          return { services, template, runId };
        } catch (error) {
          await services.stop();
          throw error;
        }
      })(),
    };
    store[KEY] = shared;
  }
  shared.users += 1;
  return shared;
}

async function releaseShared(): Promise<void> {
  const shared = store[KEY];
  if (shared === undefined) return;
  shared.users -= 1;
  if (shared.users > 0) return;
  delete store[KEY];
  const resolved = await shared.ready.catch(() => undefined);
  if (resolved === undefined) return;
  try {
    await dropLeftoverTestDatabases(resolved.services.databaseUrl, resolved.runId);
  } finally {
    await resolved.services.stop();
  }
}
