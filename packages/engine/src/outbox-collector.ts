import type { Database } from '@pipewright/db';
import type { StageJob } from '@pipewright/queue';

/** A stage job written to the outbox in the current transaction, due at once. */
export interface PendingJob {
  outboxId: number;
  queue: string;
  job: StageJob;
}

const pending = new WeakMap<Database, PendingJob[]>();

/**
 * Notes a due stage job the transaction `tx` wrote to the outbox, so that whoever committed it
 * can publish it right after the commit instead of waiting for a relay pass (the relay stays the
 * safety net: it takes rows nobody published within a grace period).
 */
export function noteOutboxJob(tx: Database, job: PendingJob): void {
  const list = pending.get(tx) ?? [];
  list.push(job);
  pending.set(tx, list);
}

/** The due jobs `tx` wrote, in order; call inside the transaction, at its end. */
export function takeOutboxJobs(tx: Database): PendingJob[] {
  const list = pending.get(tx) ?? [];
  pending.delete(tx);
  return list;
}
