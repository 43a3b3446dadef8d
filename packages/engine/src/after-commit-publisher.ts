import type { Database } from '@pipewright/db';
import type { QueueProducer } from '@pipewright/queue';
import type { PendingJob } from './outbox-collector.ts';
import { publishOutboxJobs } from './relay-outbox.ts';

/**
 * Publishes the stage jobs that commits just wrote (`PendingJob`s), coalescing concurrent calls:
 * while one publish is in flight, the jobs of later commits wait and then go out together, one
 * BullMQ add and one outbox delete for all of them. Per-commit publishing cost a submit two round
 * trips of its own; a relay pass instead would also take the rows other processes are publishing.
 * A failed publish is reported; the rows stay in the outbox for the relay.
 */
export class AfterCommitPublisher {
  private pending: PendingJob[] = [];
  private running: Promise<void> | undefined;

  constructor(
    private readonly db: Database,
    private readonly producer: QueueProducer,
    private readonly onError: (error: unknown) => void,
  ) {}

  publish(jobs: PendingJob[]): void {
    if (jobs.length === 0) return;
    this.pending.push(...jobs);
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves when everything handed in so far was published (or failed). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const jobs = this.pending;
      this.pending = [];
      try {
        await publishOutboxJobs(this.db, this.producer, jobs);
      } catch (error) {
        this.onError(error);
      }
    }
  }
}
