import { isTerminalAttemptStatus, isTerminalStageStatus, type StageFailure } from '@pipewright/core';
import { and, asc, attempts, eq, executeRows, inArray, isNull, metrics, pipelinedTransaction, reusableSelect, runs, sql, sqlStateOf, stageLogs, stageRuns, type artifacts, type Database, type RunRow, type StageRow, type AttemptRow, type ArtifactRow } from '@pipewright/db';
import type { StageEvent } from '@pipewright/queue';
import { randomUUID } from 'node:crypto';
import { advanceAfterResults, selectDependents, type PrefetchedDependents } from './advance-after-results.ts';
import { notifyRunChanged, RUN_CHANGED_CHANNEL } from './notify-run-changed.ts';
import { takeOutboxJobs, type PendingJob } from './outbox-collector.ts';
import type { KnownArtifacts } from './resolve-stage-inputs.ts';
import { flushChangeSets, RunChangeSet } from './run-change-set.ts';
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
  const { results, jobs } = await applyEventsOfRuns(db, [{ runId, events }], now);
  return { results: results[0] as ApplyResult[], jobs };
}

/**
 * Applies the results of several runs in ONE transaction, as `applyRunEvents` would one run's:
 * the runs are locked in id order (so two orchestrators batching overlapping runs cannot
 * deadlock), their writes go out in one statement, and one commit ends them all. Under load this
 * is what turns "a transaction per stage" into "a transaction per batch": the round trips and
 * the commit are shared. Results come back per batch entry, in event order.
 */
export async function applyEventsOfRuns(
  db: Database,
  batches: { runId: string; events: TerminalStageEvent[] }[],
  now: () => Date = () => new Date(),
): Promise<{ results: ApplyResult[][]; jobs: PendingJob[] }> {
  // BEGIN travels with the lock and COMMIT with the writes: two round trips fewer per apply.
  return pipelinedTransaction(db, async (tx, commitWithNextStatement) => {
    // Lock order: runs (by id), then their rows. Every state change of a run takes its lock
    // first; the events' attempts and their stages are locked with it, in the same round trip.
    // They must be locked, not just read: a row only joined would come from the snapshot taken
    // before the wait for the run lock, and a result applied meanwhile would look unapplied.
    const runIds = [...new Set(batches.map((b) => b.runId))];
    const attemptIds = [...new Set(batches.flatMap((b) => b.events.map((e) => e.attemptId)))];
    const locking = lockRunsWithAttempts(tx, { runIds, attemptIds });
    // Sent right behind the lock, before its answer: the dependents of the stages the results
    // will most likely end. It runs once the locks are held, on a snapshot taken after them, and
    // is used only where that guess held; it saves a round trip per run.
    const guess = guessDependents(tx, batches);
    const locked = await locking;
    // No row for a run: an unknown run, or none of its events' attempts is its.
    const runsById = new Map(locked.map((r) => [r.run.id, r.run]));
    const attemptsById = new Map(locked.map((r) => [r.attempt.id, r.attempt]));
    const stagesById = new Map(locked.map((r) => [r.stage.id, r.stage]));
    const at = now();

    const steps: LockedStep[] = [];
    const results: ApplyResult[][] = [];
    for (const batch of batches) {
      const run = runsById.get(batch.runId);
      if (!run) {
        results.push(batch.events.map(() => ({ outcome: 'unknown-attempt' as const, enqueued: 0 })));
        continue;
      }
      const step: LockedStep = { tx, run, changes: new RunChangeSet(run.id), artifacts: new Map(), at };
      steps.push(step);
      const mine: ApplyResult[] = [];
      const changed = new Set<StageRow>();
      for (const event of batch.events) {
        const attempt = attemptsById.get(event.attemptId);
        const stage = attempt && attempt.runId === run.id ? stagesById.get(attempt.stageRunId) : undefined;
        const result = attempt && stage ? await applyTerminal(step, stage, attempt, event) : { outcome: 'unknown-attempt' as const, enqueued: 0 };
        if (result.outcome === 'applied' && stage) changed.add(stage);
        mine.push(result);
      }
      if (changed.size > 0) {
        const prefetched = await guess?.forRun(run.id);
        const advanced = await advanceAfterResults(tx, run, { changed: [...changed], changes: step.changes, artifacts: step.artifacts, ...(prefetched ? { prefetched } : {}) }, at);
        const first = mine.find((r) => r.outcome === 'applied');
        if (first) first.enqueued += advanced.enqueued;
      }
      results.push(mine);
    }
    await guess?.settled();
    commitWithNextStatement();
    await flushChangeSets(tx, steps.map((s) => s.changes));
    return { results, jobs: takeOutboxJobs(tx) };
  });
}

/** The runs, and the attempts of theirs named (with their stages), locked in that order. */
const lockRunsWithAttempts = reusableSelect((db) =>
  db
    .select({ run: runs, attempt: attempts, stage: stageRuns })
    .from(runs)
    .innerJoin(attempts, and(eq(attempts.runId, runs.id), sql`${attempts.id} = any(${sql.placeholder('attemptIds')}::uuid[])`))
    .innerJoin(stageRuns, eq(stageRuns.id, attempts.stageRunId))
    .where(sql`${runs.id} = any(${sql.placeholder('runIds')}::uuid[])`)
    .orderBy(asc(runs.id), asc(attempts.id))
    .for('update', { of: [runs, attempts, stageRuns] }),
);

/** A stage id as the database stores it (anything else in an event would fail the statement). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Reads the dependents of the stages whose results report success, guessing that those stages,
 * and only those, end in this step (what current results do, whether they succeed or fail for a
 * missing output). `forRun` gives a run's share of the answer with what it assumed, for
 * `advanceAfterResults` to use only if its step matches; `settled` waits for the statement
 * whatever became of it (it is on the connection, ahead of the writes).
 */
function guessDependents(tx: Database, batches: { runId: string; events: TerminalStageEvent[] }[]) {
  const frontierOf = new Map<string, Set<string>>();
  for (const { runId, events } of batches) {
    for (const e of events) {
      if (e.type !== 'stage.succeeded' || !UUID.test(e.stageRunId)) continue;
      const set = frontierOf.get(runId) ?? new Set<string>();
      set.add(e.stageRunId);
      frontierOf.set(runId, set);
    }
  }
  const frontier = [...frontierOf.values()].flatMap((set) => [...set]);
  if (frontier.length === 0) return undefined;
  const found = selectDependents(tx, [...frontierOf.keys()], frontier, frontier);
  found.catch(() => {}); // its failure aborts the transaction: the statements after it report that
  return {
    async forRun(runId: string): Promise<PrefetchedDependents | undefined> {
      const mine = frontierOf.get(runId);
      if (!mine) return undefined;
      const stored = (await found).filter((d) => d.stage.runId === runId);
      return { frontier: mine, overridden: mine, stored };
    },
    settled: () => found.then(
      () => undefined,
      () => undefined,
    ),
  };
}

/** What the results of one run see while its row lock is held: rows in memory, writes gathered. */
interface LockedStep {
  tx: Database;
  run: RunRow;
  changes: RunChangeSet;
  /** The output artifacts recorded in this step, for the inputs of the stages they make ready. */
  artifacts: KnownArtifacts;
  at: Date;
}

/** One result under the run lock held by the caller; the caller advances the run and flushes. */
async function applyTerminal(step: LockedStep, stage: StageRow, attempt: AttemptRow, event: TerminalStageEvent): Promise<ApplyResult> {
  const { run, changes, at } = step;
  const current = stage.attemptCount === attempt.number && !isTerminalStageStatus(stage.status);
  if (isTerminalAttemptStatus(attempt.status)) return { outcome: 'stale' as const, enqueued: 0 };
  if (event.series?.length) {
    // The points of progress events that were lost (with Redis, say); the ones stored are kept.
    changes.insertMetrics(
      event.series.map((p) => ({ runId: run.id, stageRunId: stage.id, attemptId: attempt.id, kind: 'series' as const, name: p.name, step: p.step, value: p.value, recordedAt: at })),
    );
  }
  if (event.started && attempt.workerId === null) {
    // The worker never announced the start (the stage ended first): its result says who and when.
    const startedAt = new Date(event.started.at);
    changes.patchAttempt(attempt, { workerId: event.started.workerId, host: event.started.host, startedAt: attempt.startedAt ?? startedAt });
    if (current && stage.startedAt === null) changes.patchStage(stage, { startedAt });
    if (run.status === 'QUEUED') changes.patchRun(run, { status: 'RUNNING', startedAt, updatedAt: at });
  }
  const settleFailed = async (failure: StageFailure, attemptStatus: 'FAILED' | 'CANCELED', backend: string | null) => {
    const settled = await settleFailedAttempt(step.tx, {
      run,
      stage,
      attempt,
      failure,
      attemptStatus,
      resourceUse: event.resourceUse,
      backend,
      at,
      advance: false,
      changes,
    });
    return { outcome: current ? ('applied' as const) : ('stale' as const), enqueued: settled.enqueued };
  };
  switch (event.type) {
    case 'stage.succeeded': {
      const missing = Object.keys(stage.outputs).filter((name) => !event.outputs[name]);
      if (missing.length) {
        // Consumers bind to declared outputs; a success without one would strand them.
        return settleFailed(
          {
            kind: 'application',
            code: 'PW_ERR_OUTPUT_MISSING',
            message: `the stage reported success without its declared outputs: ${missing.join(', ')}`,
            retryable: false,
          },
          'FAILED',
          null,
        );
      }
      const finishedAt = new Date(event.at);
      changes.patchAttempt(attempt, {
        status: 'SUCCEEDED',
        backend: event.backend ?? attempt.backend,
        ...(event.resourceUse ? { resourceUse: event.resourceUse } : {}),
        startedAt: attempt.startedAt ?? finishedAt,
        finishedAt,
      });
      if (!current) return { outcome: 'stale' as const, enqueued: 0 };

      const outputRows: ArtifactRow[] = Object.entries(event.outputs).map(([outputName, ref]) => ({
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
        createdAt: at,
      }));
      changes.insertArtifacts(outputRows);
      for (const row of outputRows) step.artifacts.set(row.id, row);
      changes.insertMetrics(
        Object.entries(event.metrics).map(([name, value]) => ({
          runId: run.id,
          stageRunId: stage.id,
          attemptId: attempt.id,
          kind: 'final' as const,
          name,
          step: 0,
          value,
          recordedAt: at,
        })),
      );
      changes.patchStage(stage, {
        status: 'SUCCEEDED',
        metrics: event.metrics,
        outputArtifactIds: Object.fromEntries(outputRows.map((r) => [r.outputName, r.id])),
        finishedAt,
        startedAt: stage.startedAt ?? attempt.startedAt ?? finishedAt,
      });
      return { outcome: 'applied' as const, enqueued: 0 };
    }

    case 'stage.failed': {
      const failure = event.error as StageFailure;
      return settleFailed(failure, failure.kind === 'canceled' ? 'CANCELED' : 'FAILED', event.backend ?? null);
    }
  }
}

/**
 * A start changes only rows that are still waiting for it, so it needs no run lock and no
 * transaction: the attempt (QUEUED) and its stage (QUEUED or RETRY_WAIT, for this attempt) move
 * to RUNNING in ONE statement, whose data-modifying CTEs are atomic together, and it announces
 * the change; the same statement reads the run's status, so a start is one round trip. The run
 * itself is written only while it is still QUEUED (its first start). Events are applied concurrently, so a result can overtake its start: then only who ran
 * the attempt, and when it started, is filled in.
 * (Contract of the statement — in: attempt id, worker, host, backend, start time, run id;
 * out: the run's status, whether the attempt moved and whether its stage did; locks: the attempt
 * and stage rows, until the statement ends.)
 */
async function applyStarted(db: Database, event: Extract<StageEvent, { type: 'stage.started' }>): Promise<ApplyResult> {
  const startedAt = new Date(event.at);
  const at = startedAt.toISOString();
  const payload = JSON.stringify({ runId: event.runId, change: 'state' });
  const [moved] = await executeRows<{ run_status: string | null; attempt: number; stage: number }>(
    db,
    sql`with a as (
          update attempts set status = 'RUNNING', worker_id = ${event.workerId}, host = ${event.host},
                 backend = ${event.backend ?? null}, started_at = ${at}::timestamptz
          where id = ${event.attemptId} and run_id = ${event.runId} and status = 'QUEUED'
          returning stage_run_id, number),
        s as (
          update stage_runs set status = 'RUNNING', started_at = coalesce(stage_runs.started_at, ${at}::timestamptz)
          from a
          where stage_runs.id = a.stage_run_id and stage_runs.attempt_count = a.number
            and stage_runs.status in ('QUEUED', 'RETRY_WAIT')
          returning stage_runs.id),
        r as (select status from runs where id = ${event.runId}),
        -- The run's first start announces itself once the run, too, is RUNNING (below).
        n as (select pg_notify(${RUN_CHANGED_CHANNEL}, ${payload}) from s where (select status from r) <> 'QUEUED')
        select (select status from r) as run_status,
               (select count(*) from a)::int as attempt, (select count(*) from s)::int + 0 * (select count(*) from n)::int as stage`,
  );
  if (!moved?.run_status) return { outcome: 'unknown-attempt', enqueued: 0 };
  // The run's first start moves it to RUNNING, in its own statement: no lock is held across the
  // two, so the run -> attempt -> stage order of the locking applies cannot deadlock with this.
  if (moved.run_status === 'QUEUED') {
    await db.execute(
      sql`with u as (update runs set status = 'RUNNING', started_at = ${at}::timestamptz, updated_at = ${at}::timestamptz
                     where id = ${event.runId} and status = 'QUEUED' returning id)
          select pg_notify(${RUN_CHANGED_CHANNEL}, ${payload}) from (select count(*) from u) c`,
    );
  }
  if (!moved.attempt) {
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
  return sqlStateOf(error) === '23503';
}
