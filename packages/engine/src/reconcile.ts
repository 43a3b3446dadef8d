import type { StageFailure } from '@pipewright/core';
import { and, asc, attempts, eq, inArray, lt, outbox, runs, sql, stageRuns, type Database } from '@pipewright/db';
import { advanceRun } from './advance-run.ts';
import { buildStageJob } from './enqueue-stage.ts';
import type { OutboxMessage } from './outbox-message.ts';
import { requestJobCancel } from './request-job-cancel.ts';
import { resolveStageInputs } from './resolve-stage-inputs.ts';
import { settleFailedAttempt } from './settle-failed-attempt.ts';

/** Where a job stands in Redis; `missing` when Redis has no such job (flushed, removed, failed). */
export type JobState = 'missing' | 'waiting' | 'active' | 'delayed' | 'prioritized' | 'waiting-children' | 'completed' | 'failed';

/** What the reconciler asks of Redis. */
export interface JobProbe {
  jobStates(jobs: { queue: string; jobId: string }[]): Promise<Map<string, JobState>>;
  /** The subset of `workerIds` whose heartbeat has not expired. */
  aliveWorkers(workerIds: string[]): Promise<Set<string>>;
}

export interface ReconcileOptions {
  /** An anomaly must last this long before it is acted on (events in flight resolve most). @defaultValue 5000 */
  graceMs?: number;
  /** Extra time past a stage's timeout before the reconciler (not the worker) ends it. @defaultValue 30000 */
  timeoutGraceMs?: number;
  /** Attempts looked at per pass. @defaultValue 2000 */
  batchSize?: number;
  now?: () => Date;
}

export interface ReconcileReport {
  republished: number;
  lost: number;
  timedOut: number;
  advanced: number;
}

type Verdict = { kind: 'republish' } | { kind: 'lost'; reason: string } | { kind: 'timeout'; timeoutMs: number };

/**
 * One pass of the reconciler, which makes Redis agree with Postgres again:
 * - a QUEUED attempt whose job is not in Redis (Redis lost it) is published again, same job id;
 * - a RUNNING attempt whose job vanished or failed in Redis, or whose worker's heartbeat expired,
 *   is LOST and retried by its stage's policy;
 * - a RUNNING attempt past its timeout (plus grace: the worker enforces it first) is FAILED as a
 *   timeout, and retried by policy;
 * - a run with nothing in flight is advanced (a safety net for a crash between steps).
 * `suspects` carries anomalies between passes: each must persist for `graceMs` to be acted on,
 * so an event still in the events queue is not mistaken for a loss. Run it on one leader.
 */
export async function reconcileOnce(db: Database, probe: JobProbe, suspects: Map<string, number>, options: ReconcileOptions = {}): Promise<ReconcileReport> {
  const now = options.now ?? (() => new Date());
  const graceMs = options.graceMs ?? 5000;
  const report: ReconcileReport = { republished: 0, lost: 0, timedOut: 0, advanced: 0 };

  const live = await db
    .select({ attempt: attempts, timeoutMs: stageRuns.timeoutMs })
    .from(attempts)
    .innerJoin(stageRuns, eq(stageRuns.id, attempts.stageRunId))
    .where(inArray(attempts.status, ['QUEUED', 'RUNNING']))
    // Oldest first: with more live attempts than a batch, the likeliest to be stuck are checked.
    .orderBy(asc(attempts.queuedAt))
    .limit(options.batchSize ?? 2000);
  // Attempts whose outbox row is still waiting (not yet published, or a retry not yet due).
  const pending = live.length
    ? new Set(
        (
          await db
            .select({ attemptId: sql<string>`${outbox.payload}->'job'->>'attemptId'` })
            .from(outbox)
            .where(eq(outbox.kind, 'stage.run'))
        ).map((r) => r.attemptId),
      )
    : new Set<string>();
  const candidates = live.filter((l) => !pending.has(l.attempt.id));
  const states = await probe.jobStates(candidates.map((l) => ({ queue: l.attempt.queue, jobId: l.attempt.jobId })));
  const workerIds = [...new Set(candidates.map((l) => l.attempt.workerId).filter((w): w is string => w !== null))];
  const alive = await probe.aliveWorkers(workerIds);

  const t = now().getTime();
  const seen = new Set<string>();
  for (const { attempt, timeoutMs } of candidates) {
    const state = states.get(attempt.jobId) ?? 'missing';
    let verdict: Verdict | undefined;
    if (attempt.status === 'RUNNING' && attempt.startedAt && attempt.startedAt.getTime() + timeoutMs + (options.timeoutGraceMs ?? 30_000) < t) {
      verdict = { kind: 'timeout', timeoutMs };
    } else if (state === 'failed') {
      verdict = { kind: 'lost', reason: 'its job failed in Redis' };
    } else if (state === 'missing' || state === 'completed') {
      verdict = attempt.status === 'QUEUED' && state === 'missing' ? { kind: 'republish' } : { kind: 'lost', reason: `its job is ${state} in Redis but no result was applied` };
    } else if (attempt.status === 'RUNNING' && attempt.workerId && !alive.has(attempt.workerId)) {
      verdict = { kind: 'lost', reason: `worker ${attempt.workerId} stopped heart-beating` };
    }
    if (!verdict) continue;
    const key = `${attempt.id}:${verdict.kind}`;
    seen.add(key);
    const since = suspects.get(key);
    if (since === undefined) {
      suspects.set(key, t);
      if (verdict.kind !== 'timeout') continue;
    } else if (t - since < graceMs && verdict.kind !== 'timeout') {
      continue;
    }
    suspects.delete(key);
    const acted = await actOn(db, attempt.id, verdict, now());
    if (acted) report[verdict.kind === 'republish' ? 'republished' : verdict.kind === 'lost' ? 'lost' : 'timedOut'] += 1;
  }
  for (const key of suspects.keys()) if (!seen.has(key)) suspects.delete(key);

  report.advanced = await advanceIdleRuns(db, now());
  return report;
}

async function actOn(db: Database, attemptId: string, verdict: Verdict, at: Date): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [head] = await tx.select({ runId: attempts.runId }).from(attempts).where(eq(attempts.id, attemptId));
    if (!head) return false;
    const [run] = await tx.select().from(runs).where(eq(runs.id, head.runId)).for('update');
    const [attempt] = await tx.select().from(attempts).where(eq(attempts.id, attemptId));
    if (!run || !attempt || (attempt.status !== 'QUEUED' && attempt.status !== 'RUNNING')) return false;
    const [stage] = await tx.select().from(stageRuns).where(eq(stageRuns.id, attempt.stageRunId));
    if (!stage) return false;

    if (verdict.kind === 'republish') {
      const stagesByKey = new Map((await tx.select().from(stageRuns).where(eq(stageRuns.runId, run.id))).map((s) => [s.stageKey, s]));
      const job = buildStageJob({
        runId: run.id,
        teamId: run.teamId,
        stage,
        attemptId: attempt.id,
        attemptNumber: attempt.number,
        inputs: await resolveStageInputs(tx, stage, stagesByKey),
      });
      const message: OutboxMessage = { kind: 'stage.run', payload: { queue: attempt.queue, job } };
      await tx.insert(outbox).values({ kind: message.kind, payload: message.payload });
      return true;
    }
    const failure: StageFailure =
      verdict.kind === 'timeout'
        ? { kind: 'timeout', code: 'PW_ERR_STAGE_TIMEOUT', message: `no result ${verdict.timeoutMs} ms after start (reconciler)`, retryable: true, timeoutMs: verdict.timeoutMs }
        : { kind: 'internal', code: 'PW_ERR_WORKER_LOST', message: `attempt lost: ${verdict.reason}`, retryable: true };
    // Whatever still runs it (a zombie) is told to stop; its job, if any, is removed.
    await requestJobCancel(tx, attempt);
    await settleFailedAttempt(tx, { run, stage, attempt, failure, attemptStatus: verdict.kind === 'timeout' ? 'FAILED' : 'LOST', at });
    return true;
  });
}

/**
 * Runs that should be moving but have nothing queued, running or waiting for a retry: advance
 * them. After a correct apply this finds nothing; it repairs a run only if a bug or a crash
 * between two steps left it idle.
 */
async function advanceIdleRuns(db: Database, at: Date): Promise<number> {
  const idle = await db
    .select({ id: runs.id })
    .from(runs)
    .where(
      and(
        inArray(runs.status, ['QUEUED', 'RUNNING', 'CANCELING']),
        lt(runs.createdAt, new Date(at.getTime() - 5000)),
        sql`not exists (select 1 from ${stageRuns} where ${stageRuns.runId} = ${runs.id} and ${stageRuns.status} in ('QUEUED', 'RUNNING', 'RETRY_WAIT'))`,
      ),
    )
    .limit(100);
  let advanced = 0;
  for (const { id } of idle) {
    await db.transaction(async (tx) => {
      const [run] = await tx.select().from(runs).where(eq(runs.id, id)).for('update');
      if (!run) return;
      const result = await advanceRun(tx, run, at);
      if (result.enqueued > 0 || result.runStatus !== 'RUNNING') advanced += 1;
    });
  }
  return advanced;
}
