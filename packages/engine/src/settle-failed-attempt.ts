import type { StageFailure } from '@pipewright/core';
import { attempts, eq, runs, stageRuns, type Database } from '@pipewright/db';
import { advanceRun } from './advance-run.ts';
import { enqueueStage } from './enqueue-stage.ts';
import { resolveStageInputs } from './resolve-stage-inputs.ts';
import { retryDelayMs } from './retry-delay.ts';

type RunRow = typeof runs.$inferSelect;
type StageRow = typeof stageRuns.$inferSelect;
type AttemptRow = typeof attempts.$inferSelect;

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
  const { run, stage, attempt, failure, at } = input;
  await tx
    .update(attempts)
    .set({
      status: input.attemptStatus,
      error: failure,
      finishedAt: at,
      ...(input.resourceUse ? { resourceUse: input.resourceUse } : {}),
      ...(input.backend ? { backend: input.backend } : {}),
    })
    .where(eq(attempts.id, attempt.id));
  // An attempt that is no longer the stage's current one (superseded by a retry) changes nothing else.
  if (stage.attemptCount !== attempt.number || (stage.status !== 'QUEUED' && stage.status !== 'RUNNING' && stage.status !== 'RETRY_WAIT')) {
    return { enqueued: 0 };
  }

  const canceled = input.attemptStatus === 'CANCELED' || stage.cancelRequestedAt !== null || run.status === 'CANCELING';
  if (canceled) {
    await tx.update(stageRuns).set({ status: 'CANCELED', error: failure, finishedAt: at }).where(eq(stageRuns.id, stage.id));
    stage.status = 'CANCELED';
    return { enqueued: input.advance === false ? 0 : (await advanceRun(tx, run, at)).enqueued };
  }
  if (failure.retryable && attempt.number < stage.retry.attempts) {
    const stagesByKey = new Map((await tx.select().from(stageRuns).where(eq(stageRuns.runId, run.id))).map((s) => [s.stageKey, s]));
    const next = attempt.number + 1;
    await enqueueStage(tx, {
      runId: run.id,
      teamId: run.teamId,
      stage,
      inputs: await resolveStageInputs(tx, stage, stagesByKey),
      attemptNumber: next,
      delayMs: retryDelayMs(stage.retry, next),
      now: at,
    });
    return { enqueued: 1 + (input.advance === false ? 0 : (await advanceRun(tx, run, at)).enqueued) };
  }
  await tx.update(stageRuns).set({ status: 'FAILED', error: failure, finishedAt: at }).where(eq(stageRuns.id, stage.id));
  stage.status = 'FAILED';
  return { enqueued: input.advance === false ? 0 : (await advanceRun(tx, run, at)).enqueued };
}
