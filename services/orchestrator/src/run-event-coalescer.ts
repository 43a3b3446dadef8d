import type { Database } from '@pipewright/db';
import { applyRunEvents, type ApplyResult, type TerminalStageEvent } from '@pipewright/engine';

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
 */
export class RunEventCoalescer {
  private readonly waiting = new Map<string, Waiting[]>();
  private readonly busy = new Set<string>();

  constructor(
    private readonly db: Database,
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

  private async drain(runId: string): Promise<void> {
    this.busy.add(runId);
    try {
      for (let list = this.waiting.get(runId); list && list.length > 0; list = this.waiting.get(runId)) {
        const batch = list.splice(0, this.maxBatch);
        if (list.length === 0) this.waiting.delete(runId);
        try {
          const results = await applyRunEvents(this.db, runId, batch.map((w) => w.event));
          batch.forEach((w, i) => w.resolve(results[i] as ApplyResult));
        } catch (batchError) {
          for (const w of batch) {
            try {
              const [result] = await applyRunEvents(this.db, runId, [w.event]);
              w.resolve(result as ApplyResult);
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
