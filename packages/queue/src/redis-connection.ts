import { Redis } from 'ioredis';

/**
 * Opens an ioredis connection suitable for BullMQ. `maxRetriesPerRequest: null` is what BullMQ
 * requires for blocking connections: commands wait for Redis to come back instead of failing,
 * which is how a worker survives a Redis restart.
 */
export function openRedis(url: string, options: { lazyConnect?: boolean } = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: options.lazyConnect ?? false });
}
