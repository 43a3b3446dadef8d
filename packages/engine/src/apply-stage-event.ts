import { isTerminalAttemptStatus, isTerminalStageStatus, type StageFailure } from '@pipewright/core';
import { and, artifacts, attempts, eq, executeRows, inArray, isNull, metrics, runs, sql, stageLogs, stageRuns, type Database } from '@pipewright/db';
import type { StageEvent } from '@pipewright/queue';
import { randomUUID } from 'node:crypto';
import { advanceRun } from './advance-run.ts';

type RunRow = typeof runs.$inferSelect;
import { notifyRunChanged, RUN_CHANGED_CHANNEL } from './notify-run-changed.ts';
import { takeOutboxJobs, type PendingJob } from './outbox-collector.ts';
import { settleFailedAttempt } from './settle-failed-attempt.ts';

export type ApplyOutcome =
  | 'applied'
  /** The event refers to an attempt that is already final, or superseded: nothing changed. */
  | 'stale'
  | 'unknown-attempt';

export interface ApplyResult {
  outcome: ApplyOutcome;
  /** Outbox rows the transaction wrote (the relay should run now when > 0). */
  enqueued: number;
}

/**
 * Applies one worker event in one transaction, idempotently: the same event applied twice, an
 * event for an old attempt, or an event for an already-final stage changes nothing. Progress
 * events only add metric points and log lines (their unique keys absorb re-deliveries).
 */
export async function applyStageEvent(db: Database, event: StageEvent, now: () => Date = () => new Date()): Promise<ApplyResult> {
  if (event.type === 'stage.progress') return applyProgress(db, event);

  if (event.type === 'stage.started') return applyStarted(db, event);

  const { results } = await applyRunEvents(db, event.runId, [event], now);
  return results[0] as ApplyResult;
}

/** The events that end an attempt: they change a run's state under its row lock. */
export type TerminalStageEvent = Extract<StageEvent, { type: 'stage.succeeded' | 'stage.failed' }>;

/**
 * Applies the results of one run's attempts in ONE transaction: the run's row lock is taken once,
 * each event is applied as `applyStageEvent` would, and the run advances once at the end. This
 * is how the orchestrator keeps a 1,000-way fan-in from taking 1,000 turns at the run lock (and
 * reading the run's stages 1,000 times): events of one run that arrive together commit together.
 * The results are in the order of `events`; `jobs` are the stage jobs it made due, for the caller
 * to publish after the commit (`publishOutboxJobs`), or to leave to the relay.
 */
export async function applyRunEvents(
  db: Database,
  runId: string,
  events: TerminalStageEvent[],
  now: () => Date = () => new Date(),
): Promise<{ results: ApplyResult[]; jobs: PendingJob[] }> {
  return db.transaction(async (tx) => {
    // Lock order: run, then its rows. Every state change of a run takes this lock first.
    const [run] = await tx.select().from(runs).where(eq(runs.id, runId)).for('update');
    if (!run) return { results: events.map(() => ({ outcome: 'unknown-attempt' as const, enqueued: 0 })), jobs: [] };
    const at = now();
    const results: ApplyResult[] = [];
    for (const event of events) results.push(await applyTerminal(tx, run, event, at));
    if (results.some((r) => r.outcome === 'applied')) {
      const advanced = await advanceRun(tx, run, at);
      const first = results.find((r) => r.outcome === 'applied');
      if (first) first.enqueued += advanced.enqueued;
    }
    return { results, jobs: takeOutboxJobs(tx) };
  });
}

/** One result under the run lock held by the caller; the caller advances the run. */
async function applyTerminal(tx: Database, run: RunRow, event: TerminalStageEvent, at: Date): Promise<ApplyResult> {
  const [attempt] = await tx.select().from(attempts).where(eq(attempts.id, event.attemptId));
  if (!attempt || attempt.runId !== run.id) return { outcome: 'unknown-attempt' as const, enqueued: 0 };
  const [stage] = await tx.select().from(stageRuns).where(eq(stageRuns.id, attempt.stageRunId));
  if (!stage) return { outcome: 'unknown-attempt' as const, enqueued: 0 };
  const current = stage.attemptCount === attempt.number && !isTerminalStageStatus(stage.status);
  switch (event.type) {
    case 'stage.succeeded': {
      if (isTerminalAttemptStatus(attempt.status)) return { outcome: 'stale' as const, enqueued: 0 };
      const missing = Object.keys(stage.outputs).filter((name) => !event.outputs[name]);
      if (missing.length) {
        // Consumers bind to declared outputs; a success without one would strand them.
        const failure: StageFailure = {
          kind: 'application',
          code: 'PW_ERR_OUTPUT_MISSING',
          message: `the stage reported success without its declared outputs: ${missing.join(', ')}`,
          retryable: false,
        };
        const settled = await settleFailedAttempt(tx, { run, stage, attempt, failure, attemptStatus: 'FAILED', resourceUse: event.resourceUse, at, advance: false });
        return { outcome: current ? ('applied' as const) : ('stale' as const), enqueued: settled.enqueued };
      }
      await tx
        .update(attempts)
        .set({
          status: 'SUCCEEDED',
          backend: event.backend ?? attempt.backend,
          resourceUse: event.resourceUse,
          startedAt: attempt.startedAt ?? new Date(event.at),
          finishedAt: new Date(event.at),
        })
        .where(eq(attempts.id, attempt.id));
      if (!current) return { outcome: 'stale' as const, enqueued: 0 };

      const outputRows = Object.entries(event.outputs).map(([outputName, ref]) => ({
        id: randomUUID(),
        teamId: run.teamId,
        runId: run.id,
        producedByStageRunId: stage.id,
        producedByAttemptId: attempt.id,
        outputName,
        type: ref.type,
        digest: ref.digest,
        uri: ref.uri,
        mediaType: ref.mediaType,
        sizeBytes: ref.sizeBytes,
        metadata: ref.metadata ?? null,
      }));
      if (outputRows.length) await tx.insert(artifacts).values(outputRows).onConflictDoNothing();
      const finalMetrics = Object.entries(event.metrics).map(([name, value]) => ({
        runId: run.id,
        stageRunId: stage.id,
        attemptId: attempt.id,
        kind: 'final' as const,
        name,
        step: 0,
        value,
      }));
      if (finalMetrics.length) await tx.insert(metrics).values(finalMetrics).onConflictDoNothing();
      await tx
        .update(stageRuns)
        .set({
          status: 'SUCCEEDED',
          metrics: event.metrics,
          outputArtifactIds: Object.fromEntries(outputRows.map((r) => [r.outputName, r.id])),
          finishedAt: new Date(event.at),
          startedAt: stage.startedAt ?? attempt.startedAt ?? new Date(event.at),
        })
        .where(eq(stageRuns.id, stage.id));
      return { outcome: 'applied' as const, enqueued: 0 };
    }

    case 'stage.failed': {
      if (isTerminalAttemptStatus(attempt.status)) return { outcome: 'stale' as const, enqueued: 0 };
      const failure = event.error as StageFailure;
      const settled = await settleFailedAttempt(tx, {
        run,
        stage,
        attempt,
        failure,
        attemptStatus: failure.kind === 'canceled' ? 'CANCELED' : 'FAILED',
        resourceUse: event.resourceUse,
        backend: event.backend ?? null,
        at,
        advance: false,
      });
      if (!current) return { outcome: 'stale' as const, enqueued: 0 };
      return { outcome: 'applied' as const, enqueued: settled.enqueued };
    }
  }
}

/**
 * A start changes only rows that are still waiting for it, so it needs no run lock and no
 * transaction: the attempt (QUEUED) and its stage (QUEUED or RETRY_WAIT, for this attempt) move
 * to RUNNING in ONE statement, whose data-modifying CTEs are atomic together, and it announces
 * the change. The run itself is touched only while it is still QUEUED (its first start), in its
 * own statement before the others, keeping the run -> attempt -> stage order every locking apply
 * uses. Events are applied concurrently, so a result can overtake its start: then only who ran
 * the attempt, and when it started, is filled in.
 * (Contract of the statement — in: attempt id, worker, host, backend, start time, run id;
 * out: whether the attempt moved and whether its stage did; locks: the attempt and stage rows.)
 */
async function applyStarted(db: Database, event: Extract<StageEvent, { type: 'stage.started' }>): Promise<ApplyResult> {
  const startedAt = new Date(event.at);
  const at = startedAt.toISOString();
  const [run] = await db.select({ status: runs.status }).from(runs).where(eq(runs.id, event.runId));
  if (!run) return { outcome: 'unknown-attempt', enqueued: 0 };
  if (run.status === 'QUEUED') {
    await db
      .update(runs)
      .set({ status: 'RUNNING', startedAt, updatedAt: startedAt })
      .where(and(eq(runs.id, event.runId), eq(runs.status, 'QUEUED')));
  }
  const payload = JSON.stringify({ runId: event.runId, change: 'state' });
  const [moved] = await executeRows<{ attempt: number; stage: number }>(
    db,
    sql`with a as (
          update attempts set status = 'RUNNING', worker_id = ${event.workerId}, host = ${event.host},
                 backend = ${event.backend ?? null}, started_at = ${at}::timestamptz
          where id = ${event.attemptId} and status = 'QUEUED'
          returning stage_run_id, number),
        s as (
          update stage_runs set status = 'RUNNING', started_at = coalesce(stage_runs.started_at, ${at}::timestamptz)
          from a
          where stage_runs.id = a.stage_run_id and stage_runs.attempt_count = a.number
            and stage_runs.status in ('QUEUED', 'RETRY_WAIT')
          returning stage_runs.id),
        n as (select pg_notify(${RUN_CHANGED_CHANNEL}, ${payload}) from s)
        select (select count(*) from a)::int as attempt, (select count(*) from s)::int + 0 * (select count(*) from n)::int as stage`,
  );
  if (!moved?.attempt) {
    await db
      .update(attempts)
      .set({ workerId: event.workerId, host: event.host, backend: sql`coalesce(${attempts.backend}, ${event.backend ?? null})`, startedAt })
      .where(and(eq(attempts.id, event.attemptId), isNull(attempts.workerId), inArray(attempts.status, ['SUCCEEDED', 'FAILED'])));
    return { outcome: 'stale', enqueued: 0 };
  }
  return { outcome: moved.stage ? 'applied' : 'stale', enqueued: 0 };
}

async function applyProgress(db: Database, event: Extract<StageEvent, { type: 'stage.progress' }>): Promise<ApplyResult> {
  const base = { runId: event.runId, stageRunId: event.stageRunId, attemptId: event.attemptId };
  try {
    if (event.metrics.length) {
      await db
        .insert(metrics)
        .values(event.metrics.map((m) => ({ ...base, kind: 'series' as const, name: m.name, step: m.step, value: m.value })))
        .onConflictDoNothing();
    }
    if (event.logs?.length) {
      await db
        .insert(stageLogs)
        .values(event.logs.map((l, idx) => ({ ...base, seq: event.seq, idx, level: l.level, message: l.message, fields: l.fields ?? null, at: new Date(l.at) })))
        .onConflictDoNothing();
    }
  } catch (error) {
    // A foreign-key miss means the attempt does not exist (a stale job from a dropped run).
    if (isForeignKeyViolation(error)) return { outcome: 'unknown-attempt', enqueued: 0 };
    throw error;
  }
  await notifyRunChanged(db, event.runId, 'metrics');
  return { outcome: 'applied', enqueued: 0 };
}

function isForeignKeyViolation(error: unknown): boolean {
  const e = error as { code?: string; cause?: { code?: string } } | null;
  return (e?.code ?? e?.cause?.code) === '23503';
}
