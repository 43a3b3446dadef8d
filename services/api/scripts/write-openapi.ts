/**
 * Rewrites services/api/openapi.json from the routes' schemas. Needs no running Postgres or
 * Redis: the document depends only on the code, so the app is built over an in-memory PGlite
 * database and a Redis client that never connects.
 *
 *   npm run openapi -w services/api
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalArtifactStore } from '@pipewright/artifacts';
import { openDatabase } from '@pipewright/db';
import { openRedis } from '@pipewright/queue';
import { builtinStages, createStageRegistry } from '@pipewright/stages';
import { buildApp } from '../src/build-app.ts';
import { openApiFilePath, renderOpenApiDocument } from '../src/openapi-file.ts';

const database = await openDatabase({ inMemory: true });
const redis = openRedis('redis://127.0.0.1:6379', { lazyConnect: true });
const storeRoot = await mkdtemp(join(tmpdir(), 'pw-openapi-'));
try {
  const app = await buildApp({
    db: database.db,
    pingDatabase: () => database.ping(),
    redis,
    queuePrefix: '{pw}',
    store: createLocalArtifactStore({ root: storeRoot }),
    catalog: createStageRegistry(builtinStages),
  });
  await writeFile(openApiFilePath, renderOpenApiDocument(app));
  await app.close();
  console.log(`wrote ${openApiFilePath}`);
} finally {
  redis.disconnect();
  await database.close();
  await rm(storeRoot, { recursive: true, force: true });
}
