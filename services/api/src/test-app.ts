/**
 * Test fixture of the API: `buildApp` over real services, driven with `app.inject()`. Only
 * tests import this file.
 *
 * Each fixture owns a migrated database of its own, a queue prefix of its own on the shared
 * Redis and an artifact store in a temporary directory; `close()` removes all three.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { ERRORS, isErrorCode, type ErrorCode } from '@pipewright/core';
import { createLocalArtifactStore, type ArtifactStore } from '@pipewright/artifacts';
import type { Database } from '@pipewright/db';
import { openRedis } from '@pipewright/queue';
import { builtinStages, createStageRegistry } from '@pipewright/stages';
import { cleanupRedisPrefix, createTestDatabase, testQueuePrefix, testRedisUrl, type TestDatabase } from '@pipewright/testing';
import type { Redis } from 'ioredis';
import { buildApp, type ApiDeps, type App } from './build-app.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The example pipeline the README and the demo use, as YAML text. */
export function readExampleYaml(): Promise<string> {
  return readFile(join(REPO_ROOT, 'examples/breast-cancer-diagnosis.yaml'), 'utf8');
}

export interface TestApi {
  app: App;
  database: TestDatabase;
  db: Database;
  redis: Redis;
  prefix: string;
  store: ArtifactStore;
  /**
   * `app.inject()` that also checks every answer: any 5xx fails the test on the spot (the API
   * must never answer one to these tests), and every 4xx body must be `{ code, message, details? }`
   * with a registered code whose status is the one answered. Use `app.inject()` directly for an
   * answer that is meant to be a 5xx (/readyz's 503).
   */
  inject(options: InjectOptions | string): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/**
 * Builds the API over a fresh test database, real Redis, a temporary local artifact store and
 * the built-in stage catalog. `overrides` replace deps (e.g. a failing `pingDatabase`).
 */
export async function createTestApi(overrides: Partial<ApiDeps> = {}): Promise<TestApi> {
  const database = await createTestDatabase();
  const storeRoot = await mkdtemp(join(tmpdir(), 'pw-api-artifacts-'));
  const redisUrl = testRedisUrl();
  const prefix = testQueuePrefix();
  const redis = openRedis(redisUrl);
  const store = createLocalArtifactStore({ root: storeRoot });
  const app = await buildApp({
    db: database.handle.db,
    pingDatabase: () => database.handle.ping(),
    redis,
    queuePrefix: prefix,
    store,
    catalog: createStageRegistry(builtinStages),
    ...overrides,
  });
  return {
    app,
    database,
    db: database.handle.db,
    redis,
    prefix,
    store,
    async inject(options) {
      const response = await app.inject(options);
      const what = `${typeof options === 'string' ? `GET ${options}` : `${options.method ?? 'GET'} ${options.url}`} -> ${response.statusCode}`;
      expect(response.statusCode, `${what}: ${response.body}`).toBeLessThan(500);
      if (response.statusCode >= 400) expectErrorShape(response, what);
      return response;
    },
    async close() {
      await app.close();
      redis.disconnect();
      await cleanupRedisPrefix(redisUrl, prefix);
      await database.drop();
      await rm(storeRoot, { recursive: true, force: true });
    },
  };
}

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

function expectErrorShape(response: LightMyRequestResponse, what: string): ErrorBody {
  expect(response.headers['content-type'], what).toMatch(/^application\/json/);
  const body = response.json<Record<string, unknown>>();
  expect(Object.keys(body).filter((k) => !['code', 'message', 'details'].includes(k)), `${what}: extra keys in ${response.body}`).toEqual([]);
  expect(isErrorCode(body.code), `${what}: ${String(body.code)} is not in ERRORS (packages/core/src/errors.ts)`).toBe(true);
  expect(typeof body.message === 'string' && body.message.length > 0, `${what}: message`).toBe(true);
  const code = body.code as ErrorCode;
  expect(response.statusCode, `${what}: ${code} is registered with status ${ERRORS[code].status}`).toBe(ERRORS[code].status);
  return body as unknown as ErrorBody;
}

/** Asserts an error answer's status and code; returns its body. */
export function expectApiError(response: LightMyRequestResponse, status: number, code: ErrorCode): ErrorBody {
  const body = expectErrorShape(response, `answer ${response.statusCode} ${response.body}`);
  expect(response.statusCode, response.body).toBe(status);
  expect(body.code).toBe(code);
  return body;
}

export interface RegisteredRoute {
  method: string;
  /** As registered, e.g. `/v1/runs/:id`. */
  url: string;
}

/**
 * Every method and URL the app answers, read back from `app.printRoutes()`: fastify has no
 * public route list, and the app is ready (closed to onRoute hooks) when buildApp returns.
 */
export function registeredRoutes(app: App): RegisteredRoute[] {
  const routes: RegisteredRoute[] = [];
  const segments: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^((?:│ {3}| {4})*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? '').length / 4;
    segments.length = depth;
    segments.push(match[2] ?? '');
    for (const method of match[3]?.split(', ') ?? []) routes.push({ method, url: segments.join('') });
  }
  return routes;
}
