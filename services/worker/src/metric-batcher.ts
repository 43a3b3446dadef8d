/** A metric point as stages report it. */
export interface Point {
  name: string;
  step: number;
  value: number;
}

/**
 * Collects metric points and sends them in batches: at most one send in flight, one every
 * `intervalMs` or as soon as `maxPoints` are waiting. Epochs can be much faster than a round
 * trip to Redis; batching keeps the events queue from becoming the training loop's bottleneck,
 * while the series still reaches Postgres while the stage runs.
 */
export class MetricBatcher {
  private buffer: Point[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(
    private readonly send: (seq: number, points: Point[]) => Promise<void>,
    private readonly intervalMs = 250,
    private readonly maxPoints = 200,
  ) {}

  add(points: Point[]): void {
    for (const p of points) {
      if (Number.isFinite(p.value)) this.buffer.push(p);
    }
    if (this.buffer.length >= this.maxPoints) this.flushSoon(0);
    else this.flushSoon(this.intervalMs);
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
    if (this.buffer.length === 0) return this.chain;
    const points = this.buffer;
    this.buffer = [];
    const seq = this.seq++;
    this.chain = this.chain.then(() => this.send(seq, points)).catch((error: unknown) => {
      this.failure = error;
    });
    return this.chain;
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
