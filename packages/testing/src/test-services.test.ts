import { createServer } from 'node:net';
import { expect, it } from 'vitest';
import { canConnect, resolveTestServices } from './test-services.ts';

it('uses DATABASE_URL and REDIS_URL when set, and starts nothing', async () => {
  const logs: string[] = [];
  const services = await resolveTestServices({
    env: { DATABASE_URL: 'postgres://x@db.example:5432/t', REDIS_URL: 'redis://cache.example:6379' },
    log: (m) => logs.push(m),
  });
  expect(services).toMatchObject({
    databaseUrl: 'postgres://x@db.example:5432/t',
    redisUrl: 'redis://cache.example:6379',
    sources: { postgres: 'env', redis: 'env' },
  });
  expect(logs).toEqual([]);
  await services.stop();
});

it('canConnect tells a listening port from a closed one', async () => {
  const server = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  expect(await canConnect('127.0.0.1', port)).toBe(true);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  expect(await canConnect('127.0.0.1', port, 500)).toBe(false);
});
