import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { StageCatalog } from '@pipewright/core';
import { executeRows, sql, type Database } from '@pipewright/db';
import { EVENTS_QUEUE, readEventStreamStats, stageQueueName } from '@pipewright/queue';

export interface QueueInfo {
  name: string;
  kind: 'stage' | 'events';
  family: string | null;
  resourceClass: 'cpu' | 'gpu' | null;
}

/**
 * Every queue this deployment can have: the catalog's families × cpu/gpu (BullMQ queues), then
 * `events` (a Redis stream, listed with them because operators watch and pause it alike).
 */
export function knownQueues(catalog: StageCatalog): QueueInfo[] {
  const families = [...new Set(catalog.list().map((d) => d.family))].sort();
  return [
    ...families.flatMap((family) =>
      (['cpu', 'gpu'] as const).map((resourceClass) => ({ name: stageQueueName(family, resourceClass), kind: 'stage' as const, family, resourceClass })),
    ),
    { name: EVENTS_QUEUE, kind: 'events', family: null, resourceClass: null },
  ];
}

/** BullMQ Queue objects of the stage queues over the API's Redis connection, one per name, closed with the app. */
export class QueueHandles {
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly connection: Redis,
    private readonly prefix: string,
  ) {}

  get(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.prefix });
      // A shared connection's errors are the connection owner's to report.
      queue.on('error', () => {});
      this.queues.set(name, queue);
    }
    return queue;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}

const MINUTE_MS = 60_000;

/** Attempts that ended in the last minute, per stage queue: succeeded and failed (or lost). */
export async function attemptsFinishedLastMinute(db: Database, now: Date = new Date()): Promise<Map<string, { done: number; failed: number }>> {
  /*
   * In: since. Out: per queue, attempts finished since then. Locks nothing. Read through
   * attempts_finished_idx, so it costs the last minute's attempts, not the table.
   */
  const rows = await executeRows<{ queue: string; done: number; failed: number }>(
    db,
    sql`select queue, count(*)::int as done, (count(*) filter (where status in ('FAILED', 'LOST')))::int as failed
          from attempts
         where finished_at >= ${new Date(now.getTime() - MINUTE_MS)}
         group by queue`,
  );
  return new Map(rows.map((r) => [r.queue, { done: r.done, failed: r.failed }]));
}

/**
 * Counts of one stage queue from BullMQ. `waiting` includes jobs held by a pause, prioritized
 * jobs and jobs waiting for children.
 *
 * Throughput: finished jobs are removed from Redis at once (Postgres keeps the history), so a
 * stage queue's throughput is the attempts that ended in the last minute, from Postgres
 * (`finished`).
 */
export async function stageQueueStats(queue: Queue, finished: { done: number; failed: number } | undefined) {
  const [counts, paused] = await Promise.all([
    queue.getJobCounts('waiting', 'paused', 'prioritized', 'waiting-children', 'active', 'delayed', 'failed', 'completed'),
    queue.isPaused(),
  ]);
  const n = (k: string) => counts[k] ?? 0;
  return {
    paused,
    waiting: n('waiting') + n('paused') + n('prioritized') + n('waiting-children'),
    active: n('active'),
    delayed: n('delayed'),
    failed: n('failed'),
    completed: n('completed'),
    throughputPerMinute: finished?.done ?? 0,
    failedLastMinute: finished?.failed ?? 0,
  };
}

/**
 * Counts of the events stream, in the shape of a stage queue's. The stream has no delayed,
 * failed or completed entries (an unreadable event is dropped, a failed apply stays pending and
 * acknowledged entries are deleted), and nothing records how many went through, so its
 * throughput is unknown: null.
 */
export async function eventStreamQueueStats(connection: Redis, prefix: string) {
  const { waiting, active, paused, handledLastMinute } = await readEventStreamStats(connection, prefix);
  return { paused, waiting, active, delayed: 0, failed: 0, completed: 0, throughputPerMinute: handledLastMinute, failedLastMinute: null };
}
