import { canonicalJson, descendants, PipewrightError, type PlannedStage } from '@pipewright/core';
import { eq, inArray, runs, stageRuns, type Database } from '@pipewright/db';
import { advanceRun } from './advance-run.ts';
import { findIdempotentRun, recordIdempotencyKey, type IdempotencyKey } from './claim-idempotency-key.ts';
import { UNSTARTED_STAGE_STATE } from './unstarted-stage.ts';

export interface RetryRunInput {
  runId: string;
  /** Re-run this stage and everything downstream of it (even if they succeeded). */
  fromStage?: string;
  /**
   * The run re-planned with param overrides: stages whose resolved params (or `when`) differ
   * from the stored ones re-run with their descendants; the rest are reused.
   */
  replanned?: { params: Record<string, unknown>; stages: PlannedStage[] };
  idempotency?: Omit<IdempotencyKey, 'scope'>;
  now?: Date;
}

export interface RetriedRun {
  runId: string;
  /** Stage keys that will run again. */
  reset: string[];
  enqueued: number;
  replayed: boolean;
}

const RERUN_STATUSES = new Set(['FAILED', 'CANCELED', 'SKIPPED']);

/**
 * Retries an ended run from its failure frontier, in one transaction: failed, canceled and
 * skipped stages and everything downstream of them go back to PENDING; every stage that
 * succeeded keeps its outputs and does not run again. `fromStage` and param overrides add their
 * stages and descendants. Attempt numbers continue, so every attempt stays its own row.
 */
export async function retryRun(db: Database, input: RetryRunInput): Promise<RetriedRun> {
  const now = input.now ?? new Date();
  return db.transaction(async (tx) => {
    const idem = input.idempotency ? { ...input.idempotency, scope: `retry:${input.runId}` } : undefined;
    if (idem && (await findIdempotentRun(tx, idem))) return { runId: input.runId, reset: [], enqueued: 0, replayed: true };

    const [run] = await tx.select().from(runs).where(eq(runs.id, input.runId)).for('update');
    if (!run) throw new PipewrightError('PW_ERR_RUN_NOT_FOUND', `run ${input.runId} does not exist`);
    if (run.status !== 'FAILED' && run.status !== 'CANCELED' && run.status !== 'SUCCEEDED') {
      throw new PipewrightError('PW_ERR_RUN_NOT_RETRYABLE', `run ${run.id} is ${run.status}; only an ended run can be retried`, { status: run.status });
    }
    const stages = await tx.select().from(stageRuns).where(eq(stageRuns.runId, run.id));
    const graph = stages.map((s) => ({ id: s.stageKey, needs: s.needs }));
    const withDescendants = (key: string) => [key, ...descendants(key, graph)];

    // The failure frontier always re-runs (a run left with a FAILED stage would just fail again);
    // fromStage and param overrides add to it.
    const reset = new Set<string>();
    for (const s of stages) {
      if (!RERUN_STATUSES.has(s.status)) continue;
      // A foreach group that fanned out failed because of its instances: they carry the failure.
      if (s.foreach && stages.some((i) => i.parentKey === s.stageKey)) continue;
      for (const k of withDescendants(s.stageKey)) reset.add(k);
    }
    if (input.fromStage !== undefined) {
      if (!stages.some((s) => s.stageKey === input.fromStage)) {
        throw new PipewrightError('PW_ERR_STAGE_NOT_FOUND', `run ${run.id} has no stage "${input.fromStage}"`, { field: 'fromStage' });
      }
      for (const k of withDescendants(input.fromStage)) reset.add(k);
    }

    const paramChanges = new Map<string, PlannedStage>();
    if (input.replanned) {
      for (const planned of input.replanned.stages) {
        const stored = stages.find((s) => s.stageKey === planned.id);
        if (!stored) continue;
        if (canonicalJson(stored.params) !== canonicalJson(planned.params) || (stored.whenExpr ?? undefined) !== planned.when) {
          paramChanges.set(planned.id, planned);
          for (const k of withDescendants(planned.id)) reset.add(k);
        }
      }
    }
    // Foreach groups: an instance that re-runs reopens its group (and what follows it) but not
    // its siblings, which keep their outputs; a group re-run for any other reason (fromStage,
    // changed params) re-runs every instance. (An upstream change reaches the instances directly:
    // they have the group's needs.)
    const reopenedByInstances = new Set<string>();
    for (let grew = true; grew; ) {
      grew = false;
      for (const s of stages) {
        const group = s.parentKey;
        if (group === null) continue;
        if (reset.has(s.stageKey) && !reset.has(group)) {
          reopenedByInstances.add(group);
          for (const k of withDescendants(group)) reset.add(k);
          grew = true;
        } else if (reset.has(group) && !reopenedByInstances.has(group) && !reset.has(s.stageKey)) {
          reset.add(s.stageKey);
          grew = true;
        }
      }
    }
    if (reset.size === 0) {
      throw new PipewrightError('PW_ERR_NOTHING_TO_RETRY', `run ${run.id}: every stage succeeded and nothing asks for a re-run`);
    }

    const resetIds = stages.filter((s) => reset.has(s.stageKey)).map((s) => s.id);
    // An explicit re-run means run: fromStage and its descendants bypass the cache from now on.
    const forced = input.fromStage === undefined ? [] : stages.filter((s) => withDescendants(input.fromStage as string).includes(s.stageKey)).map((s) => s.id);
    if (forced.length) await tx.update(stageRuns).set({ cacheEnabled: false }).where(inArray(stageRuns.id, forced));
    await tx
      .update(stageRuns)
      .set(UNSTARTED_STAGE_STATE)
      .where(inArray(stageRuns.id, resetIds));
    for (const [key, planned] of paramChanges) {
      await tx
        .update(stageRuns)
        .set({ params: planned.params, whenExpr: planned.when ?? null })
        .where(eq(stageRuns.id, stages.find((s) => s.stageKey === key)?.id ?? ''));
    }
    const params = input.replanned?.params ?? run.params;
    await tx.update(runs).set({ status: 'RUNNING', params, finishedAt: null, updatedAt: now }).where(eq(runs.id, run.id));
    Object.assign(run, { status: 'RUNNING', params, finishedAt: null });
    if (idem) await recordIdempotencyKey(tx, idem, run.id);
    const advanced = await advanceRun(tx, run, now);
    return { runId: run.id, reset: [...reset].sort(), enqueued: advanced.enqueued, replayed: false };
  });
}
