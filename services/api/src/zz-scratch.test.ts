import { it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { createLocalArtifactStore } from '@pipewright/artifacts';
import { openRedis } from '@pipewright/queue';
import { builtinStages, createStageRegistry } from '@pipewright/stages';
import { createTestDatabase, testRedisUrl, testQueuePrefix } from '@pipewright/testing';
import { buildApp } from './build-app.ts';

it('scratch', async () => {
  const database = await createTestDatabase();
  const redis = openRedis(testRedisUrl());
  const app = await buildApp({ db: database.handle.db, pingDatabase: () => database.handle.ping(), redis, queuePrefix: testQueuePrefix(), store: createLocalArtifactStore({ root: '/tmp/pw/store' }), catalog: createStageRegistry(builtinStages) });
  writeFileSync('/tmp/pw/routes.txt', app.printRoutes({ commonPrefix: false }));
  writeFileSync('/tmp/pw/openapi.json', JSON.stringify(app.swagger(), null, 2));
  const r = await app.inject({ method: 'GET', url: '/docs' });
  console.log(r.statusCode, r.headers);
  await app.close(); redis.disconnect(); await database.drop();
});
