import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cleanupRedisPrefix, testQueuePrefix, testRedisUrl } from './test-redis.ts';

let redis: Redis;
beforeAll(() => {
  redis = new Redis(testRedisUrl());
});
afterAll(async () => {
  await redis.quit();
});

it('makes unique, hash-tagged prefixes', () => {
  const a = testQueuePrefix();
  expect(a).toMatch(/^\{test-[0-9a-f-]{36}\}$/);
  expect(testQueuePrefix()).not.toBe(a);
});

it('deletes every key under the prefix and nothing else', async () => {
  const mine = testQueuePrefix();
  const other = testQueuePrefix();
  const keys = Array.from({ length: 2500 }, (_, i) => `${mine}:stage-train-cpu:${i}`);
  await redis.mset(...keys.flatMap((k) => [k, '1']));
  await redis.hset(`${mine}:events:meta`, 'x', '1');
  await redis.set(`${other}:stage-train-cpu:1`, '1');

  expect(await cleanupRedisPrefix(testRedisUrl(), mine)).toBe(2501);
  expect(await redis.exists(keys[0]!, keys[2499]!, `${mine}:events:meta`)).toBe(0);
  expect(await redis.get(`${other}:stage-train-cpu:1`)).toBe('1');
  await cleanupRedisPrefix(testRedisUrl(), other);
});

it('treats glob characters in the prefix literally', async () => {
  const base = testQueuePrefix();
  await redis.set(`${base}*x`, '1');
  await redis.set(`${base}ax`, '1');
  expect(await cleanupRedisPrefix(testRedisUrl(), `${base}*`)).toBe(1);
  expect(await redis.get(`${base}ax`)).toBe('1');
  await cleanupRedisPrefix(testRedisUrl(), base);
});

it('refuses an empty prefix', async () => {
  await expect(cleanupRedisPrefix(testRedisUrl(), '')).rejects.toThrow(/empty prefix/);
});
