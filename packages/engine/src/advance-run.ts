import {
  evaluateCondition,
  isSatisfiedStageStatus,
  isTerminalStageStatus,
  type StageStatus,
} from '@pipewright/core';
import { eq, runs, stageRuns, asc, type Database } from '@pipewright/db';
import { enqueueStage } from './enqueue-stage.ts';

type RunRow = typeof runs.$inferSelect;
type StageRow = typeof stageRuns.$inferSelect;

const BLOCKING_NEED: ReadonlySet<StageStatus> = new Set(['FAILED', 'CANCELED', 'SKIPPED']);

export interface AdvanceResult {
  enqueued: number;
  runStatus: RunRow['status'];
}

/**
 * Moves a run forward after a change: stages whose needs all succeeded become QUEUED (or SKIPPED
 * when their `when` is false), stages downstream of a failure become SKIPPED, and a run with
 * nothing left to do ends SUCCEEDED or FAILED. The caller holds the run's row lock, so two
 * orchestrators applying the two last parents of a fan-in cannot both miss (or both enqueue)
 * the join.
 */
export async function advanceRun(tx: Database, run: RunRow, now: Date): Promise<AdvanceResult> {
  if (run.status !== 'QUEUED' && run.status !== 'RUNNING') return { enqueued: 0, runStatus: run.status };
  const stages = await tx.select().from(stageRuns).where(eq(stageRuns.runId, run.id)).orderBy(asc(stageRuns.position));
  const byKey = new Map(stages.map((s) => [s.stageKey, s]));
  let enqueued = 0;

  // Stages are in topological order, so one pass sees every need's final state for this step.
  for (const stage of stages) {
    if (stage.status !== 'PENDING') continue;
    const needs = stage.needs.map((k) => byKey.get(k)).filter((s): s is StageRow => s !== undefined);
    if (needs.some((n) => BLOCKING_NEED.has(n.status))) {
      await setStage(tx, stage, { status: 'SKIPPED', finishedAt: now, error: { reason: 'upstream-not-succeeded' } });
      continue;
    }
    if (!needs.every((n) => isSatisfiedStageStatus(n.status))) continue;
    if (stage.whenExpr) {
      const verdict = evaluateWhen(stage.whenExpr, run, byKey);
      if (verdict instanceof Error) {
        const error = { kind: 'application', code: 'PW_ERR_WHEN_FAILED', message: verdict.message, retryable: false };
        await setStage(tx, stage, { status: 'FAILED', finishedAt: now, error });
        continue;
      }
      if (!verdict) {
        await setStage(tx, stage, { status: 'SKIPPED', finishedAt: now, error: { reason: 'when-false', when: stage.whenExpr } });
        continue;
      }
    }
    await enqueueStage(tx, { runId: run.id, teamId: run.teamId, stage, stagesByKey: byKey, attemptNumber: stage.attemptCount + 1, delayMs: 0, now });
    enqueued += 1;
  }

  if (stages.every((s) => isTerminalStageStatus(s.status))) {
    const failed = stages.some((s) => s.status === 'FAILED');
    const canceled = stages.some((s) => s.status === 'CANCELED');
    const status = failed ? 'FAILED' : canceled ? 'CANCELED' : 'SUCCEEDED';
    await tx.update(runs).set({ status, finishedAt: now, updatedAt: now }).where(eq(runs.id, run.id));
    run.status = status;
  }
  return { enqueued, runStatus: run.status };
}

async function setStage(tx: Database, stage: StageRow, patch: Partial<StageRow>): Promise<void> {
  await tx.update(stageRuns).set(patch).where(eq(stageRuns.id, stage.id));
  Object.assign(stage, patch);
}

/** The `when` verdict, or the Error that evaluating it raised (a missing metric, say). */
function evaluateWhen(expr: string, run: RunRow, byKey: Map<string, StageRow>): boolean | Error {
  const stagesScope: Record<string, unknown> = {};
  for (const [key, s] of byKey) stagesScope[key] = { status: s.status, metrics: s.metrics ?? {} };
  try {
    return evaluateCondition(expr, { params: run.params, stages: stagesScope });
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}
