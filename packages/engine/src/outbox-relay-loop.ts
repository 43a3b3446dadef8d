import type { Database } from '@pipewright/db';
import type { QueueProducer } from '@pipewright/queue';
import { drainOutbox } from './relay-outbox.ts';

export interface OutboxRelayLoopOptions {
  db: Database;
  producer: QueueProducer;
  /** Poll period, the upper bound on publish latency when nobody kicks. @defaultValue 250 */
  intervalMs?: number;
  /**
   * Timer passes leave rows younger than this that were due at once: their writer publishes them
   * itself after its commit. Kicked passes take every due row. @defaultValue 0
   */
  freshGraceMs?: number;
  onError?(error: unknown): void;
}

/**
 * Runs the outbox relay on a timer and on demand. `kick()` after a commit that wrote outbox rows
 * publishes them at once; the timer catches rows written by other processes and rows whose
 * retry delay has come due. Passes never overlap within a process.
 */
export class OutboxRelayLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  /** A kick asked for every due row, however fresh. */
  private full = false;
  private stopped = false;

  constructor(private readonly options: OutboxRelayLoopOptions) {}

  start(): this {
    const tick = () => {
      if (this.stopped) return;
      this.run();
      this.timer = setTimeout(tick, this.options.intervalMs ?? 250);
      this.timer.unref();
    };
    tick();
    return this;
  }

  /** Requests a pass over every due row now; coalesces with one already running. */
  kick(): void {
    this.full = true;
    this.run();
  }

  private run(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        const minAgeMs = this.full ? 0 : (this.options.freshGraceMs ?? 0);
        this.full = false;
        try {
          await drainOutbox(this.options.db, this.options.producer, { minAgeMs });
        } catch (error) {
          this.options.onError?.(error);
        }
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
