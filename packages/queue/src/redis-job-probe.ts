import type { Redis } from 'ioredis';
import type { QueueProducer } from './queue-producer.ts';
import { workerKey } from './queue-names.ts';

export type ProbedJobState = 'missing' | 'waiting' | 'active' | 'delayed' | 'prioritized' | 'waiting-children' | 'completed' | 'failed';

/**
 * Reads job states and worker liveness from Redis for the reconciler. (Structurally the
 * engine's JobProbe; the engine does not depend on BullMQ.)
 */
export function createRedisJobProbe(producer: QueueProducer, connection: Redis, prefix: string) {
  return {
    async jobStates(jobs: { queue: string; jobId: string }[]): Promise<Map<string, ProbedJobState>> {
      const states = await Promise.all(jobs.map((j) => producer.queue(j.queue).getJobState(j.jobId)));
      return new Map(jobs.map((j, i) => [j.jobId, states[i] === 'unknown' ? 'missing' : (states[i] as ProbedJobState)]));
    },
    async aliveWorkers(workerIds: string[]): Promise<Set<string>> {
      if (workerIds.length === 0) return new Set();
      const values = await connection.mget(workerIds.map((id) => workerKey(prefix, id)));
      return new Set(workerIds.filter((_, i) => values[i] !== null));
    },
  };
}
