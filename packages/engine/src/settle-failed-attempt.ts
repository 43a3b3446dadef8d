import type { StageFailure } from '@pipewright/core';
import { eq, stageRuns, type attempts, type Database, type RunRow, type StageRow, type AttemptRow } from '@pipewright/db';
import { advanceRun } from './advance-run.ts';
import { planEnqueue } from './enqueue-stage.ts';
import { RunChangeSet } from './run-change-set.ts';
import { resolveStageInputs } from './resolve-stage-inputs.ts';
import { retryDelayMs } from './retry-delay.ts';


export interface SettleFailedAttemptInput {
  run: RunRow;
  stage: StageRow;
  attempt: AttemptRow;
  failure: StageFailure;
  /** FAILED: the worker reported it. LOST: the reconciler gave up on it. CANCELED: it was canceled. */
  attemptStatus: 'FAILED' | 'LOST' | 'CANCELED';
  resourceUse?: AttemptRow['resourceUse'];
  backend?: string | null;
  at: Date;
  /** Advance the run afterwards. False when the caller advances once for a batch. @defaultValue true */
  advance?: boolean;
  /** Gather the writes here for the caller to flush; without it they are written before returning. */
  changes?: RunChangeSet;
  /** The run's stage rows, when the caller holds them (`stage` must be one of them). */
  stages?: StageRow[];
}

/**
 * Ends an attempt that did not succeed and decides what happens to its stage, the one rule for
 * every way an attempt can end badly (reported failure, lost worker, timeout, cancel): a stage
 * whose cancel was asked ends CANCELED; a retryable failure with attempts left gets a new attempt
 * after its backoff; anything else ends the stage FAILED. Then the run advances (unless the
 * caller advances once for a batch). The caller holds the run's row lock; the attempt must not be
 * final yet.
 */
export async function settleFailedAttempt(tx: Database, input: SettleFailedAttemptInput): Promise<{ enqueued: number }> {
  const changes = input.changes ?? new RunChangeSet(input.run.id);
  const settled = await planSettleFailedAttempt(tx, changes, input);
  if (!input.changes) await changes.flush(tx);
  return settled;
}

async function planSettleFailedAttempt(tx: Database, changes: RunChangeSet, input: SettleFailedAttemptInput): Promise<{ enqueued: number }> {
  const { run, stage, attempt, failure, at } = input;
  changes.patchAttempt(attempt, {
    status: input.attemptStatus,
    error: failure,
    finishedAt: at,
    ...(input.resourceUse ? { resourceUse: input.resourceUse } : {}),
    ...(input.backend ? { backend: input.backend } : {}),
  });
  const advance = async () => (input.advance === false ? 0 : (await advanceRun(tx, run, at, { changes, ...(input.stages ? { stages: input.stages } : {}) })).enqueued);
  // An attempt that is no longer the stage's current one (superseded by a retry) changes nothing else.
  if (stage.attemptCount !== attempt.number || (stage.status !== 'QUEUED' && stage.status !== 'RUNNING' && stage.status !== 'RETRY_WAIT')) {
    return { enqueued: 0 };
  }

  const canceled = input.attemptStatus === 'CANCELED' || stage.cancelRequestedAt !== null || run.status === 'CANCELING';
  if (canceled) {
    changes.patchStage(stage, { status: 'CANCELED', error: failure, finishedAt: at });
    return { enqueued: await advance() };
  }
  if (failure.retryable && attempt.number < stage.retry.attempts) {
    const stages = input.stages ?? (await tx.select().from(stageRuns).where(eq(stageRuns.runId, run.id)));
    const stagesByKey = new Map(stages.map((s) => [s.stageKey, s]));
    const next = attempt.number + 1;
    planEnqueue(changes, {
      runId: run.id,
      teamId: run.teamId,
      stage,
      inputs: await resolveStageInputs(tx, stage, stagesByKey),
      attemptNumber: next,
      delayMs: retryDelayMs(stage.retry, next),
      now: at,
    });
    return { enqueued: 1 + (await advance()) };
  }
  changes.patchStage(stage, { status: 'FAILED', error: failure, finishedAt: at });
  return { enqueued: await advance() };
}
