import type { Redis } from 'ioredis';
import { canceledAttemptKey, cancelChannel } from '@pipewright/queue';

/**
 * Tells running handlers that their attempt was canceled. Two paths, because pub/sub drops
 * messages sent while a subscriber is disconnected: an announcement on the cancel channel (fast),
 * and the attempt's cancel flag, read for every watched attempt when it starts and every
 * `pollMs` (one MGET for all of them).
 */
export class CancelWatcher {
  private readonly watched = new Map<string, () => void>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly subscriber: Redis,
    private readonly connection: Redis,
    private readonly prefix: string,
    pollMs = 1000,
  ) {
    void subscriber.subscribe(cancelChannel(prefix));
    subscriber.on('message', (_channel: string, attemptId: string) => this.fire(attemptId));
    this.timer = setInterval(() => void this.poll(), pollMs);
    this.timer.unref();
  }

  /** Calls `onCancel` once if `attemptId` is (or gets) canceled; returns a function to stop watching. */
  watch(attemptId: string, onCancel: () => void): () => void {
    this.watched.set(attemptId, onCancel);
    void this.poll([attemptId]);
    return () => {
      this.watched.delete(attemptId);
    };
  }

  private fire(attemptId: string): void {
    const onCancel = this.watched.get(attemptId);
    if (!onCancel) return;
    this.watched.delete(attemptId);
    onCancel();
  }

  private async poll(ids: string[] = [...this.watched.keys()]): Promise<void> {
    if (ids.length === 0) return;
    try {
      const flags = await this.connection.mget(ids.map((id) => canceledAttemptKey(this.prefix, id)));
      ids.forEach((id, i) => {
        if (flags[i] !== null) this.fire(id);
      });
    } catch {
      // Redis is away: the next poll tries again; the job cannot report anyway until it is back.
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.subscriber.disconnect();
  }
}
