import { cleanupRedisPrefix } from '@pipewright/testing';
import { Redis } from 'ioredis';
import { REDIS_URL, RUN_ID, type BenchContext } from './context.ts';

/**
 * A BullMQ key prefix of its own, `{pwbench-<run>-<label>}` (braces: one Redis Cluster slot),
 * whose keys are deleted by the benchmark's cleanup (registered first, so it runs after the
 * queues and processes that write them are closed).
 */
export function benchPrefix(ctx: BenchContext, label: string): string {
  const prefix = `{pwbench-${RUN_ID}-${label}}`;
  ctx.defer(`delete redis keys ${prefix}*`, () => deleteRedisPrefix(prefix));
  return prefix;
}

export async function deleteRedisPrefix(prefix: string): Promise<number> {
  if (!prefix.startsWith('{pwbench-')) throw new Error(`refusing to delete keys of prefix ${prefix}`);
  return cleanupRedisPrefix(REDIS_URL, prefix);
}

/** Counts the keys of a prefix (for the cleanup check at the end of a run). */
export async function countRedisKeys(pattern: string): Promise<number> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 3 });
  await redis.connect();
  try {
    let n = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      n += keys.length;
    } while (cursor !== '0');
    return n;
  } finally {
    await redis.quit();
  }
}
