import { listen, type ListenSource } from '@pipewright/db';
import { RUN_CHANGED_CHANNEL, type RunChange } from '@pipewright/engine';

export type { RunChange };

/** Subscribers of every run use this key. */
export const ALL_RUNS = '*';

/**
 * Called at most once per run per coalescing window, with every kind of change seen in it.
 * `resync` is true after the listener reconnected: changes may have been missed, re-read all.
 */
export type RunChangeListener = (runId: string, changes: ReadonlySet<RunChange>, resync: boolean) => void;

export interface RunChangeHubOptions {
  source: ListenSource;
  /**
   * At most one delivery per run per window: a burst of notifications (a metrics batch every
   * 250 ms per training stage, a fan-out of 100 stages finishing) becomes one re-read.
   * @defaultValue 200
   */
  coalesceMs?: number;
  onError?(error: unknown): void;
}

interface Pending {
  changes: Set<RunChange>;
  /** Set while a delivery is scheduled, or during the quiet window after one. */
  timer: NodeJS.Timeout | undefined;
  quietUntil: number;
}

/**
 * One Postgres LISTEN per API process, fanned out to every SSE client. The connection is opened
 * by the first subscriber (API processes nobody watches hold no extra connection) and kept until
 * `close()`. Deliveries are leading-edge (the first change goes out at once) and then at most one
 * per run per `coalesceMs`.
 */
export class RunChangeHub {
  private readonly listeners = new Map<string, Set<RunChangeListener>>();
  private readonly pending = new Map<string, Pending>();
  private readonly coalesceMs: number;
  private started: Promise<() => Promise<void>> | undefined;
  private closed = false;

  constructor(private readonly options: RunChangeHubOptions) {
    this.coalesceMs = options.coalesceMs ?? 200;
  }

  /**
   * Subscribes to one run's changes (or {@link ALL_RUNS}). Resolves once the database listener
   * is up, so that whatever the caller reads next is not older than the changes it will hear of.
   */
  async subscribe(key: string, listener: RunChangeListener): Promise<() => void> {
    if (this.closed) throw new Error('the run change hub is closed');
    let set = this.listeners.get(key);
    if (!set) {
      set = new Set();
      this.listeners.set(key, set);
    }
    set.add(listener);
    const unsubscribe = () => {
      const current = this.listeners.get(key);
      current?.delete(listener);
      if (current?.size === 0) this.listeners.delete(key);
    };
    try {
      await this.start();
    } catch (error) {
      unsubscribe();
      throw error;
    }
    return unsubscribe;
  }

  /** How many listeners there are, per key (for tests and diagnostics). */
  listenerCount(key?: string): number {
    if (key !== undefined) return this.listeners.get(key)?.size ?? 0;
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    this.listeners.clear();
    const started = this.started;
    this.started = undefined;
    if (started) await (await started.catch(() => async () => {}))();
  }

  private start(): Promise<() => Promise<void>> {
    this.started ??= listen(this.options.source, RUN_CHANGED_CHANNEL, (payload) => this.onNotification(payload), {
      onReconnect: () => this.resync(),
      ...(this.options.onError ? { onError: this.options.onError } : {}),
    }).catch((error: unknown) => {
      // Let the next subscriber try again.
      this.started = undefined;
      throw error;
    });
    return this.started;
  }

  private onNotification(payload: string): void {
    let runId: unknown;
    let change: unknown;
    try {
      ({ runId, change } = JSON.parse(payload) as { runId?: unknown; change?: unknown });
    } catch {
      return;
    }
    if (typeof runId !== 'string' || (change !== 'state' && change !== 'metrics')) return;
    if (!this.listeners.has(runId) && !this.listeners.has(ALL_RUNS)) return;
    let p = this.pending.get(runId);
    if (!p) {
      p = { changes: new Set(), timer: undefined, quietUntil: 0 };
      this.pending.set(runId, p);
    }
    p.changes.add(change);
    if (p.timer) return;
    const entry = p;
    entry.timer = setTimeout(() => this.flush(runId, entry), Math.max(0, entry.quietUntil - Date.now()));
  }

  private flush(runId: string, p: Pending): void {
    if (p.changes.size === 0) {
      // The quiet window passed with nothing new.
      this.pending.delete(runId);
      return;
    }
    const changes = p.changes;
    p.changes = new Set();
    p.quietUntil = Date.now() + this.coalesceMs;
    p.timer = setTimeout(() => this.flush(runId, p), this.coalesceMs);
    this.deliver(runId, changes, false);
  }

  private deliver(runId: string, changes: ReadonlySet<RunChange>, resync: boolean): void {
    const targets = [...(this.listeners.get(runId) ?? []), ...(runId === ALL_RUNS ? [] : (this.listeners.get(ALL_RUNS) ?? []))];
    for (const listener of targets) {
      try {
        listener(runId, changes, resync);
      } catch (error) {
        this.options.onError?.(error);
      }
    }
  }

  /** After a reconnect: every subscriber re-reads, since notifications may have been lost. */
  private resync(): void {
    const all: ReadonlySet<RunChange> = new Set<RunChange>(['state', 'metrics']);
    for (const key of [...this.listeners.keys()]) {
      for (const listener of [...(this.listeners.get(key) ?? [])]) {
        try {
          listener(key, all, true);
        } catch (error) {
          this.options.onError?.(error);
        }
      }
    }
  }
}
