import type { Logger } from 'pino';
import type { Database } from '@pipewright/db';
import { acquireLease, reconcileOnce, releaseLease, type JobProbe } from '@pipewright/engine';

export interface ReconcilerLoopOptions {
  db: Database;
  probe: JobProbe;
  holder: string;
  logger: Logger;
  /** @defaultValue 2000 */
  intervalMs?: number;
  /** @defaultValue 5000 */
  graceMs?: number;
  /** Called after a pass that wrote outbox rows (republished or retried attempts). */
  onOutboxWritten(): void;
}

const LEASE = 'reconciler';

/**
 * Runs the reconciler every `intervalMs` on whichever orchestrator holds the lease (renewed each
 * pass, valid for three intervals, so a killed leader is replaced within that).
 */
export function startReconcilerLoop(options: ReconcilerLoopOptions): { stop(): Promise<void> } {
  const intervalMs = options.intervalMs ?? 2000;
  const suspects = new Map<string, number>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const pass = async () => {
    if (!(await acquireLease(options.db, LEASE, options.holder, intervalMs * 3))) {
      suspects.clear();
      return;
    }
    const report = await reconcileOnce(options.db, options.probe, suspects, { graceMs: options.graceMs ?? 5000 });
    if (report.republished || report.lost || report.timedOut || report.advanced) {
      options.logger.warn({ ...report }, 'reconciler repaired state');
      options.onOutboxWritten();
    }
  };
  const tick = () => {
    if (stopped) return;
    running = pass()
      .catch((error: unknown) => options.logger.error({ err: error }, 'reconciler pass failed'))
      .finally(() => {
        running = undefined;
        if (!stopped) {
          timer = setTimeout(tick, intervalMs);
          timer.unref();
        }
      });
  };
  tick();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      await releaseLease(options.db, LEASE, options.holder).catch(() => undefined);
    },
  };
}
