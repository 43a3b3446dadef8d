import type { Database } from '@pipewright/db';
import { submitRun, submitRuns, type SubmitRunInput, type SubmittedRun } from '@pipewright/engine';

interface Waiting {
  input: SubmitRunInput;
  resolve(run: SubmittedRun): void;
  reject(error: unknown): void;
}

export interface SubmitBatcherOptions {
  /** Transactions in flight at once. @defaultValue 2 */
  maxBatches?: number;
  /** Most runs in one transaction. @defaultValue 64 */
  maxRuns?: number;
}

/**
 * Groups the submits of concurrent requests into shared transactions (`submitRuns`): while
 * `maxBatches` are being written, new submits wait and then go in together — one pipeline
 * lookup, one write statement and one commit for all of them. A lone submit goes at once, so
 * nothing waits for company. A submit with an Idempotency-Key goes alone (`submitRun` serialises
 * per key). A batch that fails is retried submit by submit, so one bad submit answers alone.
 */
export class SubmitBatcher {
  private readonly waiting: Waiting[] = [];
  private inFlight = 0;
  private readonly maxBatches: number;
  private readonly maxRuns: number;

  constructor(
    private readonly db: Database,
    options: SubmitBatcherOptions = {},
  ) {
    this.maxBatches = options.maxBatches ?? 2;
    this.maxRuns = options.maxRuns ?? 64;
  }

  submit(input: SubmitRunInput): Promise<SubmittedRun> {
    if (input.idempotency) return submitRun(this.db, input);
    return new Promise<SubmittedRun>((resolve, reject) => {
      this.waiting.push({ input, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxBatches && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.maxRuns);
      this.inFlight += 1;
      void this.write(batch).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private async write(batch: Waiting[]): Promise<void> {
    if (batch.length > 1) {
      try {
        const submitted = await submitRuns(
          this.db,
          batch.map((w) => w.input),
        );
        batch.forEach((w, i) => w.resolve(submitted[i] as SubmittedRun));
        return;
      } catch {
        // one at a time below: each submit gets its own answer
      }
    }
    for (const w of batch) {
      try {
        w.resolve(await submitRun(this.db, w.input));
      } catch (error) {
        w.reject(error);
      }
    }
  }
}
