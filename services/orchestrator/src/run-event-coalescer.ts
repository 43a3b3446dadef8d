import type { Database } from '@pipewright/db';
import { applyRunEvents, publishOutboxJobs, type ApplyResult, type TerminalStageEvent } from '@pipewright/engine';
import type { QueueProducer } from '@pipewright/queue';

interface Waiting {
  event: TerminalStageEvent;
  resolve(result: ApplyResult): void;
  reject(error: unknown): void;
}

/**
 * Groups the results of one run that reach this orchestrator together into one transaction.
 * While a run's batch is being applied, its next results wait and then go in together: a
 * fan-in of a thousand stages takes a few dozen turns at the run's lock instead of a thousand.
 * Each caller still gets its own result (its BullMQ job completes when its batch commits). A
 * batch that fails is retried one event at a time, so one bad event cannot fail the others.
 * The stage jobs a batch made due are published right after its commit; if that fails, the
 * outbox relay publishes them (the rows stay until published).
 */
export class RunEventCoalescer {
  private readonly waiting = new Map<string, Waiting[]>();
  private readonly busy = new Set<string>();

  constructor(
    private readonly db: Database,
    private readonly producer: QueueProducer,
    private readonly onPublishFailed: (error: unknown) => void,
    /** Most events in one transaction. @defaultValue 256 */
    private readonly maxBatch = 256,
  ) {}

  apply(event: TerminalStageEvent): Promise<ApplyResult> {
    return new Promise<ApplyResult>((resolve, reject) => {
      const list = this.waiting.get(event.runId) ?? [];
      list.push({ event, resolve, reject });
      this.waiting.set(event.runId, list);
      if (!this.busy.has(event.runId)) void this.drain(event.runId);
    });
  }

  private async publish(jobs: Parameters<typeof publishOutboxJobs>[2]): Promise<void> {
    try {
      await publishOutboxJobs(this.db, this.producer, jobs);
    } catch (error) {
      // Committed already: the relay will publish the rows; the events are applied.
      this.onPublishFailed(error);
    }
  }

  private async drain(runId: string): Promise<void> {
    this.busy.add(runId);
    try {
      for (let list = this.waiting.get(runId); list && list.length > 0; list = this.waiting.get(runId)) {
        const batch = list.splice(0, this.maxBatch);
        if (list.length === 0) this.waiting.delete(runId);
        try {
          const { results, jobs } = await applyRunEvents(this.db, runId, batch.map((w) => w.event));
          await this.publish(jobs);
          batch.forEach((w, i) => w.resolve(results[i] as ApplyResult));
        } catch (batchError) {
          for (const w of batch) {
            try {
              const { results, jobs } = await applyRunEvents(this.db, runId, [w.event]);
              await this.publish(jobs);
              w.resolve(results[0] as ApplyResult);
            } catch (error) {
              w.reject(error ?? batchError);
            }
          }
        }
      }
    } finally {
      this.busy.delete(runId);
    }
  }
}
