import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { jobCatalog, type StageEvent, type StageJob } from './job-catalog.ts';
import { eventJobId, stageJobId } from './job-ids.ts';
import { cancelChannel, canceledAttemptKey, EVENTS_QUEUE } from './queue-names.ts';

/** How long a cancel flag outlives the cancel: longer than any job waits in a queue. */
const CANCEL_FLAG_TTL_SEC = 7 * 24 * 3600;

export interface QueueProducerOptions {
  connection: Redis;
  /** @defaultValue `{pw}` */
  prefix: string;
}

export interface StageJobToPublish {
  queue: string;
  job: StageJob;
  /** Milliseconds before the job may start (retry backoff). */
  delayMs?: number;
}

/** Adds jobs to stage queues and events to the events queue, with deterministic ids. */
export class QueueProducer {
  private readonly queues = new Map<string, Queue>();

  constructor(private readonly options: QueueProducerOptions) {}

  queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.options.connection, prefix: this.options.prefix });
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** Publishes stage jobs, grouped per queue, one round trip per queue. */
  async publishStageJobs(items: StageJobToPublish[]): Promise<void> {
    const byQueue = new Map<string, StageJobToPublish[]>();
    for (const item of items) {
      const list = byQueue.get(item.queue) ?? [];
      list.push(item);
      byQueue.set(item.queue, list);
    }
    await Promise.all(
      [...byQueue].map(([name, list]) =>
        this.queue(name).addBulk(
          list.map((item) => ({
            name: 'stage.run',
            data: item.job,
            opts: {
              jobId: stageJobId(item.job.stageRunId, item.job.attempt),
              // Retries are the orchestrator's (a new attempt row each); BullMQ runs a job once.
              attempts: 1,
              delay: item.delayMs && item.delayMs > 0 ? item.delayMs : undefined,
              // Postgres keeps every attempt's history; a finished job has nothing left to say,
              // and the reconciler reads a vanished job of a live attempt as lost.
              removeOnComplete: true,
              removeOnFail: true,
            } satisfies JobsOptions,
          })),
        ),
      ),
    );
  }

  /**
   * Cancels a stage job: removes it if no worker holds it, and flags and announces the attempt
   * as canceled so the worker running it aborts.
   */
  async cancelStageJob(queue: string, jobId: string, attemptId: string): Promise<void> {
    const connection = this.options.connection;
    await connection.set(canceledAttemptKey(this.options.prefix, attemptId), '1', 'EX', CANCEL_FLAG_TTL_SEC);
    await connection.publish(cancelChannel(this.options.prefix), attemptId);
    // remove() refuses a job a worker holds (it returns 0): that one aborts through the flag.
    await this.queue(queue).remove(jobId).catch(() => 0);
  }

  /** Reports a stage event. The id makes a repeated report a no-op. */
  async publishEvent(event: StageEvent): Promise<void> {
    const spec = jobCatalog['stage.event'];
    const kind = event.type === 'stage.started' ? 'started' : event.type === 'stage.progress' ? (`progress.${event.seq}` as const) : 'done';
    await this.queue(EVENTS_QUEUE).add('stage.event', event, {
      jobId: eventJobId(event.attemptId, kind),
      attempts: 5,
      backoff: { type: 'exponential', delay: 200 },
      removeOnComplete: true,
      removeOnFail: { age: spec.removeOnFailAgeSec },
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
