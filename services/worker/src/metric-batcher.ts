/** A metric point as stages report it. */
export interface Point {
  name: string;
  step: number;
  value: number;
}

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  at: string;
  fields?: Record<string, unknown>;
}

export interface Batch {
  metrics: Point[];
  logs: LogLine[];
}

/**
 * How many of an attempt's metric points its result repeats. Beyond this, a point whose progress
 * event was lost (Redis wiped, or an orchestrator killed with it in hand just before) stays lost.
 */
export const SERIES_IN_RESULT_LIMIT = 10_000;

/**
 * Collects metric points and log lines and sends them in batches: at most one send in flight,
 * one every `intervalMs` or as soon as `maxItems` are waiting. Epochs can be much faster than a
 * round trip to Redis; batching keeps the events queue from becoming the training loop's
 * bottleneck, while the series still reaches Postgres while the stage runs.
 *
 * It also keeps the points (up to `SERIES_IN_RESULT_LIMIT`) for the attempt's result: progress
 * events are a live view that Redis may lose, the result is what the run's record is made of.
 */
export class MetricBatcher {
  private buffer: Batch = { metrics: [], logs: [] };
  private readonly kept: Point[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(
    private readonly send: (seq: number, batch: Batch) => Promise<void>,
    private readonly intervalMs = 250,
    private readonly maxItems = 200,
  ) {}

  add(points: Point[]): void {
    for (const p of points) {
      if (!Number.isFinite(p.value)) continue;
      this.buffer.metrics.push(p);
      if (this.kept.length < SERIES_IN_RESULT_LIMIT) this.kept.push(p);
    }
    this.schedule();
  }

  addLog(line: LogLine): void {
    this.buffer.logs.push(line);
    this.schedule();
  }

  private schedule(): void {
    const size = this.buffer.metrics.length + this.buffer.logs.length;
    this.flushSoon(size >= this.maxItems ? 0 : this.intervalMs);
  }

  private flushSoon(delayMs: number): void {
    if (this.timer && delayMs > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.enqueueFlush();
    }, delayMs);
  }

  private enqueueFlush(): Promise<void> {
    if (this.buffer.metrics.length === 0 && this.buffer.logs.length === 0) return this.chain;
    const batch = this.buffer;
    this.buffer = { metrics: [], logs: [] };
    const seq = this.seq++;
    this.chain = this.chain.then(() => this.send(seq, batch)).catch((error: unknown) => {
      this.failure = error;
    });
    return this.chain;
  }

  /** Every point added so far (up to `SERIES_IN_RESULT_LIMIT`), sent or not. */
  series(): Point[] {
    return [...this.kept];
  }

  /** Sends what is left and waits for every send; rethrows the first send failure. */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.enqueueFlush();
    await this.chain;
    if (this.failure) throw this.failure;
  }
}
