import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { provided } from './provided.ts';

/** The Redis the global setup resolved (REDIS_URL, a local server, or a container). */
export function testRedisUrl(): string {
  return provided('pwRedisUrl');
}

/**
 * A BullMQ key prefix of its own for one test, e.g. `{test-6f1c…}`: tests share one Redis yet
 * never see each other's queues. The braces are a hash tag, so on Redis Cluster all of a test's
 * keys land in one slot, as BullMQ's multi-key scripts require.
 */
export function testQueuePrefix(): string {
  return `{test-${randomUUID()}}`;
}

/**
 * Deletes every key that starts with `prefix` (SCAN, then UNLINK in batches, so a big test
 * queue does not block Redis). Returns how many keys it deleted. Call it after closing the
 * queues and workers that use the prefix, or they may write new keys behind it.
 */
export async function cleanupRedisPrefix(redisUrl: string, prefix: string): Promise<number> {
  if (prefix === '') throw new Error('cleanupRedisPrefix: refusing an empty prefix (it would delete every key)');
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 });
  await redis.connect();
  try {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    await redis.quit();
  }
}

/** Escapes Redis glob metacharacters (`* ? [ ] \`) so the prefix matches literally. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
