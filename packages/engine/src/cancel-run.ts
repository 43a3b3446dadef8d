import { isTerminalStageStatus, PipewrightError, type StageFailure } from '@pipewright/core';
import { and, attempts, eq, inArray, outbox, runs, sql, stageRuns, type Database } from '@pipewright/db';
import { advanceRun } from './advance-run.ts';
import { requestJobCancel } from './request-job-cancel.ts';

export interface CancelResult {
  runId: string;
  runStatus: string;
  /** Stages canceled at once (not started yet). */
  canceled: string[];
  /** Stages running: their workers were told to abort; they end CANCELED when they stop. */
  stopping: string[];
}

const CANCELED_FAILURE: StageFailure = { kind: 'canceled', code: 'PW_ERR_STAGE_CANCELED', message: 'canceled on request', retryable: false };

/**
 * Cancels a whole run (no `stageKey`) or one stage, in one transaction. Stages not started yet
 * end CANCELED now and their queued jobs are removed; running ones are told to abort (their
 * handler gets the AbortSignal) and end CANCELED when their worker reports, or when the
 * reconciler finds the worker gone. A canceled stage's dependents are SKIPPED; a canceled run
 * ends CANCELED once nothing runs.
 */
export async function cancelRun(db: Database, runId: string, stageKey?: string, now: Date = new Date()): Promise<CancelResult> {
  return db.transaction(async (tx) => {
    const [run] = await tx.select().from(runs).where(eq(runs.id, runId)).for('update');
    if (!run) throw new PipewrightError('PW_ERR_RUN_NOT_FOUND', `run ${runId} does not exist`);
    if (run.status !== 'QUEUED' && run.status !== 'RUNNING' && run.status !== 'CANCELING') {
      throw new PipewrightError('PW_ERR_RUN_NOT_CANCELABLE', `run ${runId} already ended ${run.status}`, { status: run.status });
    }
    const all = await tx.select().from(stageRuns).where(eq(stageRuns.runId, runId));
    let targets = all;
    if (stageKey !== undefined) {
      // Canceling a foreach group cancels its instances too.
      targets = all.filter((s) => s.stageKey === stageKey || s.parentKey === stageKey);
      const target = targets.find((s) => s.stageKey === stageKey);
      if (!target) throw new PipewrightError('PW_ERR_STAGE_NOT_FOUND', `run ${runId} has no stage "${stageKey}"`);
      if (isTerminalStageStatus(target.status)) {
        throw new PipewrightError('PW_ERR_RUN_NOT_CANCELABLE', `stage ${stageKey} already ended ${target.status}`, { status: target.status });
      }
    }
    const open = targets.filter((s) => !isTerminalStageStatus(s.status));
    const liveAttempts = open.length
      ? await tx
          .select()
          .from(attempts)
          .where(and(inArray(attempts.stageRunId, open.map((s) => s.id)), inArray(attempts.status, ['QUEUED', 'RUNNING'])))
      : [];

    const canceled: string[] = [];
    const stopping: string[] = [];
    for (const stage of open) {
      const attempt = liveAttempts.find((a) => a.stageRunId === stage.id && a.number === stage.attemptCount);
      if (stage.status === 'RUNNING' && attempt) {
        await tx.update(stageRuns).set({ cancelRequestedAt: now }).where(eq(stageRuns.id, stage.id));
        await requestJobCancel(tx, attempt);
        stopping.push(stage.stageKey);
        continue;
      }
      if (attempt) {
        await tx.update(attempts).set({ status: 'CANCELED', error: CANCELED_FAILURE, finishedAt: now }).where(eq(attempts.id, attempt.id));
        // Not yet published: drop the outbox row. Already published: remove the job.
        await tx.delete(outbox).where(and(eq(outbox.kind, 'stage.run'), sql`${outbox.payload}->'job'->>'attemptId' = ${attempt.id}`));
        await requestJobCancel(tx, attempt);
      }
      await tx.update(stageRuns).set({ status: 'CANCELED', error: CANCELED_FAILURE, finishedAt: now }).where(eq(stageRuns.id, stage.id));
      canceled.push(stage.stageKey);
    }
    if (stageKey === undefined) {
      await tx.update(runs).set({ status: 'CANCELING', updatedAt: now }).where(eq(runs.id, runId));
      run.status = 'CANCELING';
    }
    const advanced = await advanceRun(tx, run, now);
    return { runId, runStatus: advanced.runStatus, canceled, stopping };
  });
}
