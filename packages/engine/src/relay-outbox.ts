import { and, asc, gt, lte, or, outbox, sql, type Database } from '@pipewright/db';
import type { PendingJob } from './outbox-collector.ts';
import type { QueueProducer } from '@pipewright/queue';
import type { OutboxMessage } from './outbox-message.ts';

export interface RelayOptions {
  /** Rows taken per transaction. @defaultValue 500 */
  batchSize?: number;
  /**
   * Leave rows younger than this that were due at once: the process that wrote them publishes
   * them itself right after its commit (`publishOutboxJobs`); the relay takes what it did not
   * (it crashed first). Delayed retries are taken as soon as they are due. @defaultValue 0
   */
  minAgeMs?: number;
}

/**
 * Publishes due outbox rows (due by the database's clock, the only clock all processes share) to BullMQ and deletes them, one batch per transaction.
 *
 * Contract: takes rows with `FOR UPDATE SKIP LOCKED`, so several relays (one per orchestrator)
 * share the work without publishing a row twice at once; if the process dies after publishing
 * and before the commit, the rows are published again on the next pass, which BullMQ ignores
 * because the job ids are deterministic. Returns the number of rows published.
 */
export async function relayOutbox(db: Database, producer: QueueProducer, options: RelayOptions = {}): Promise<number> {
  const batchSize = options.batchSize ?? 500;
  return db.transaction(async (tx) => {
    const rows = await tx
      .select()
      .from(outbox)
      .where(
        and(
          lte(outbox.availableAt, sql`now()`),
          options.minAgeMs
            ? or(lte(outbox.createdAt, sql`now() - make_interval(secs => ${options.minAgeMs / 1000})`), gt(outbox.availableAt, outbox.createdAt))
            : undefined,
        ),
      )
      .orderBy(asc(outbox.id))
      .limit(batchSize)
      .for('update', { skipLocked: true });
    if (rows.length === 0) return 0;
    const jobs = [];
    const cancels = [];
    for (const row of rows) {
      const message = { kind: row.kind, payload: row.payload } as OutboxMessage;
      switch (message.kind) {
        case 'stage.run':
          jobs.push({ queue: message.payload.queue, job: message.payload.job });
          break;
        case 'stage.cancel':
          cancels.push(message.payload);
          break;
        default:
          throw new Error(`unknown outbox kind ${String((message as { kind: unknown }).kind)}`);
      }
    }
    await producer.publishStageJobs(jobs);
    await Promise.all(cancels.map((c) => producer.cancelStageJob(c.queue, c.jobId, c.attemptId)));
    await deletePublished(tx, rows.map((r) => r.id));
    return rows.length;
  });
}

/** Loops relayOutbox until a pass publishes less than a full batch. */
export async function drainOutbox(db: Database, producer: QueueProducer, options: RelayOptions = {}): Promise<number> {
  const batchSize = options.batchSize ?? 500;
  let total = 0;
  for (;;) {
    const n = await relayOutbox(db, producer, options);
    total += n;
    if (n < batchSize) return total;
  }
}

/**
 * Publishes the stage jobs a transaction just committed, then deletes their outbox rows: the
 * fast path from one stage's end to the next one's start, without waiting for a relay pass. A
 * crash between the two leaves the rows to the relay, which publishes them again; BullMQ ignores
 * the repeat (deterministic job ids).
 */
export async function publishOutboxJobs(db: Database, producer: QueueProducer, jobs: PendingJob[]): Promise<void> {
  if (jobs.length === 0) return;
  await producer.publishStageJobs(jobs.map((j) => ({ queue: j.queue, job: j.job })));
  await deletePublished(db, jobs.map((j) => j.outboxId));
}

/**
 * Deletes published outbox rows, and lets the commit that follows (the statement's own, or the
 * caller's transaction's) skip the wait for the WAL flush: a delete lost in a crash only
 * republishes, which BullMQ ignores. One statement: `set_config(…, true)` lasts until the commit.
 * A row another relay holds is skipped, not waited for: that relay published it too and deletes
 * it itself (measured: waiting on it held an orchestrator's batch 5 to 50 ms under load).
 */
async function deletePublished(db: Database, ids: number[]): Promise<void> {
  await db.execute(
    sql`with d as (delete from ${outbox}
                   where ${outbox.id} in (select ${outbox.id} from ${outbox} where ${outbox.id} = any(${sql.param(ids)}::bigint[]) for update skip locked)
                   returning 1)
        select set_config('synchronous_commit', 'off', true), (select count(*) from d)`,
  );
}
