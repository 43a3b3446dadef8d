import type { Database } from '@pipewright/db';
import { applyEventsOfRuns, applyRunEvents, publishOutboxJobs, type ApplyResult, type TerminalStageEvent } from '@pipewright/engine';
import type { QueueProducer } from '@pipewright/queue';

interface Waiting {
  event: TerminalStageEvent;
  resolve(result: ApplyResult): void;
  reject(error: unknown): void;
}

export interface RunEventCoalescerOptions {
  /** Most events in one transaction. @defaultValue 256 */
  maxEvents?: number;
  /** Most runs in one transaction. @defaultValue 64 */
  maxRuns?: number;
  /** Transactions in flight at once. @defaultValue 4 */
  maxBatches?: number;
}

/**
 * Groups the results that reach this orchestrator into few transactions. While a run's results
 * are being applied, its next ones wait and then go in together (a 1,000-way fan-in takes a few
 * dozen turns at the run's lock instead of a thousand), and the results of different runs that
 * wait at the same time share one transaction too (`applyEventsOfRuns`): one lock statement, one
 * write statement and one commit for all of them. A lone result still goes at once (a chain's
 * next stage waits for nobody). Each caller gets its own result (its BullMQ job completes when its
 * batch commits). A batch that fails is retried run by run, then event by event, so one bad event
 * cannot fail the others. The stage jobs a batch made due are published right after its commit;
 * if that fails, the outbox relay publishes them (the rows stay until published).
 */
export class RunEventCoalescer {
  private readonly waiting = new Map<string, Waiting[]>();
  private readonly busy = new Set<string>();
  private inFlight = 0;
  private readonly maxEvents: number;
  private readonly maxRuns: number;
  private readonly maxBatches: number;

  constructor(
    private readonly db: Database,
    private readonly producer: QueueProducer,
    private readonly onPublishFailed: (error: unknown) => void,
    options: RunEventCoalescerOptions = {},
  ) {
    this.maxEvents = options.maxEvents ?? 256;
    this.maxRuns = options.maxRuns ?? 64;
    this.maxBatches = options.maxBatches ?? 4;
  }

  apply(event: TerminalStageEvent): Promise<ApplyResult> {
    return new Promise<ApplyResult>((resolve, reject) => {
      const list = this.waiting.get(event.runId) ?? [];
      list.push({ event, resolve, reject });
      this.waiting.set(event.runId, list);
      this.pump();
    });
  }

  /** Starts batches while there is room and work whose run is not being applied already. */
  private pump(): void {
    while (this.inFlight < this.maxBatches) {
      const batch: { runId: string; waiting: Waiting[] }[] = [];
      let events = 0;
      for (const [runId, list] of this.waiting) {
        if (this.busy.has(runId)) continue;
        if (batch.length >= this.maxRuns || events >= this.maxEvents) break;
        const taken = list.splice(0, this.maxEvents - events);
        if (list.length === 0) this.waiting.delete(runId);
        batch.push({ runId, waiting: taken });
        events += taken.length;
      }
      if (batch.length === 0) return;
      for (const b of batch) this.busy.add(b.runId);
      this.inFlight += 1;
      void this.run(batch).finally(() => {
        for (const b of batch) this.busy.delete(b.runId);
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private async publish(jobs: Parameters<typeof publishOutboxJobs>[2]): Promise<void> {
    try {
      await publishOutboxJobs(this.db, this.producer, jobs);
    } catch (error) {
      // Committed already: the relay will publish the rows; the events are applied.
      this.onPublishFailed(error);
    }
  }

  private async run(batch: { runId: string; waiting: Waiting[] }[]): Promise<void> {
    try {
      const { results, jobs } = await applyEventsOfRuns(
        this.db,
        batch.map((b) => ({ runId: b.runId, events: b.waiting.map((w) => w.event) })),
      );
      await this.publish(jobs);
      batch.forEach((b, i) => b.waiting.forEach((w, j) => w.resolve(results[i]?.[j] as ApplyResult)));
    } catch (batchError) {
      for (const b of batch) await this.runAlone(b.runId, b.waiting, batchError);
    }
  }

  /** One run's events, after their batch failed: together, then one by one. */
  private async runAlone(runId: string, waiting: Waiting[], batchError: unknown): Promise<void> {
    try {
      const { results, jobs } = await applyRunEvents(this.db, runId, waiting.map((w) => w.event));
      await this.publish(jobs);
      waiting.forEach((w, i) => w.resolve(results[i] as ApplyResult));
      return;
    } catch {
      // fall through to one at a time
    }
    for (const w of waiting) {
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
