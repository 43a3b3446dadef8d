import type { Redis } from 'ioredis';
import { canceledAttemptKey, cancelChannel } from '@pipewright/queue';

/**
 * Tells running handlers that their attempt was canceled. Two paths, because pub/sub drops
 * messages sent while a subscriber is disconnected: an announcement on the cancel channel (fast),
 * and the attempt's cancel flag, read for every watched attempt every `pollMs` (one MGET for all
 * of them). A job canceled while it was queued is removed from its queue; one taken in the
 * instant before is caught by the next poll. Reading the flag at every start as well cost a
 * round trip per stage, and saved at most `pollMs` of work whose result is discarded anyway
 * (the orchestrator ignores a result of a canceled attempt).
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

  private async poll(): Promise<void> {
    const ids = [...this.watched.keys()];
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
