import {
  cacheKeyOf,
  canonicalJson,
  changedCacheComponents,
  evaluateCondition,
  isSatisfiedStageStatus,
  isTerminalStageStatus,
  type CacheComponents,
  type CacheExplanation,
  type StageStatus,
} from '@pipewright/core';
import { and, asc, desc, eq, isNotNull, ne, runs, stageRuns, type Database } from '@pipewright/db';
import { enqueueStage } from './enqueue-stage.ts';
import { notifyRunChanged } from './notify-run-changed.ts';
import { expandForeach, settleForeachGroups } from './expand-foreach.ts';
import { inputDigests, resolveStageInputs } from './resolve-stage-inputs.ts';

type RunRow = typeof runs.$inferSelect;
type StageRow = typeof stageRuns.$inferSelect;

const BLOCKING_NEED: ReadonlySet<StageStatus> = new Set(['FAILED', 'CANCELED', 'SKIPPED']);

export interface AdvanceResult {
  enqueued: number;
  runStatus: RunRow['status'];
}

/**
 * Moves a run forward after a change: stages whose needs all succeeded are served from the cache
 * or QUEUED (or SKIPPED when their `when` is false), stages downstream of a failure are SKIPPED,
 * and a run with nothing left to do ends. The caller holds the run's row lock, so two
 * orchestrators applying the two last parents of a fan-in cannot both miss (or both enqueue) the
 * join. Every call announces the change (NOTIFY at commit).
 */
export async function advanceRun(tx: Database, run: RunRow, now: Date): Promise<AdvanceResult> {
  await notifyRunChanged(tx, run.id, 'state');
  if (run.status !== 'QUEUED' && run.status !== 'RUNNING' && run.status !== 'CANCELING') return { enqueued: 0, runStatus: run.status };
  const stages = await tx.select().from(stageRuns).where(eq(stageRuns.runId, run.id)).orderBy(asc(stageRuns.position), asc(stageRuns.stageKey));
  const byKey = new Map(stages.map((s) => [s.stageKey, s]));
  let enqueued = 0;
  await settleForeachGroups(tx, stages, now);

  // Stages are in topological order, so one pass sees the final state of every need, including
  // needs that this same pass served from the cache.
  if (run.status !== 'CANCELING') {
    // Indexed, not for…of over a copy: a foreach group inserts its instances right after itself.
    for (let i = 0; i < stages.length; i += 1) {
      const stage = stages[i] as StageRow;
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
      if (stage.foreach && stage.parentKey === null) {
        const instances = await expandForeach(tx, run, stage, byKey, now);
        if (!Array.isArray(instances)) {
          await setStage(tx, stage, { status: 'FAILED', finishedAt: now, error: instances });
          continue;
        }
        const fresh = instances.filter((s) => !byKey.has(s.stageKey));
        stages.splice(i + 1, 0, ...fresh);
        for (const s of fresh) byKey.set(s.stageKey, s);
        await settleForeachGroups(tx, [stage, ...instances], now); // an empty list ends at once
        continue;
      }
      const inputs = await resolveStageInputs(tx, stage, byKey);
      const components: CacheComponents = {
        type: stage.uses,
        params: JSON.parse(canonicalJson(stage.params)) as Record<string, unknown>,
        inputs: inputDigests(inputs),
      };
      const key = cacheKeyOf(components);
      const { explanation, hit } = await explainCache(tx, run, stage, key, components);
      if (hit) {
        await setStage(tx, stage, {
          status: 'CACHED',
          cacheKey: key,
          cacheComponents: components,
          cacheExplanation: explanation,
          outputArtifactIds: hit.outputs,
          metrics: hit.metrics,
          finishedAt: now,
        });
        continue;
      }
      await setStage(tx, stage, { cacheKey: key, cacheComponents: components, cacheExplanation: explanation });
      await enqueueStage(tx, { runId: run.id, teamId: run.teamId, stage, inputs, attemptNumber: stage.attemptCount + 1, delayMs: 0, now });
      enqueued += 1;
    }
  }

  if (stages.every((s) => isTerminalStageStatus(s.status))) {
    const status =
      run.status === 'CANCELING'
        ? 'CANCELED'
        : stages.some((s) => s.status === 'FAILED')
          ? 'FAILED'
          : stages.some((s) => s.status === 'CANCELED')
            ? 'CANCELED'
            : 'SUCCEEDED';
    await tx.update(runs).set({ status, finishedAt: now, updatedAt: now }).where(eq(runs.id, run.id));
    run.status = status;
  }
  return { enqueued, runStatus: run.status };
}

async function setStage(tx: Database, stage: StageRow, patch: Partial<StageRow>): Promise<void> {
  await tx.update(stageRuns).set(patch).where(eq(stageRuns.id, stage.id));
  Object.assign(stage, patch);
}

/**
 * A hit is the newest successful execution with the same key. A miss is explained against the
 * previous successful execution of the same stage of the same pipeline: which component of the
 * key changed.
 */
async function explainCache(
  tx: Database,
  run: RunRow,
  stage: StageRow,
  key: string,
  components: CacheComponents,
): Promise<{ explanation: CacheExplanation; hit?: { outputs: Record<string, string> | null; metrics: Record<string, number> | null } }> {
  if (!stage.cacheEnabled) return { explanation: { hit: false, key, reason: 'disabled' } };
  const [hit] = await tx
    .select({ id: stageRuns.id, runId: stageRuns.runId, stage: stageRuns.stageKey, outputs: stageRuns.outputArtifactIds, metrics: stageRuns.metrics })
    .from(stageRuns)
    .where(and(eq(stageRuns.cacheKey, key), eq(stageRuns.status, 'SUCCEEDED'), ne(stageRuns.id, stage.id)))
    .orderBy(desc(stageRuns.finishedAt))
    .limit(1);
  if (hit) {
    return {
      explanation: { hit: true, key, source: { runId: hit.runId, stage: hit.stage, stageRunId: hit.id } },
      hit: { outputs: hit.outputs, metrics: hit.metrics },
    };
  }
  const [previous] = await tx
    .select({ id: stageRuns.id, runId: stageRuns.runId, stage: stageRuns.stageKey, components: stageRuns.cacheComponents })
    .from(stageRuns)
    .innerJoin(runs, eq(runs.id, stageRuns.runId))
    .where(
      and(
        eq(stageRuns.stageKey, stage.stageKey),
        eq(runs.pipelineName, run.pipelineName),
        eq(stageRuns.status, 'SUCCEEDED'),
        isNotNull(stageRuns.cacheComponents),
        ne(stageRuns.id, stage.id),
      ),
    )
    .orderBy(desc(stageRuns.finishedAt))
    .limit(1);
  if (!previous?.components) return { explanation: { hit: false, key, reason: 'never-run' } };
  return {
    explanation: {
      hit: false,
      key,
      reason: 'changed',
      changed: changedCacheComponents(components, previous.components),
      comparedWith: { runId: previous.runId, stage: previous.stage, stageRunId: previous.id },
    },
  };
}

/** The `when` verdict, or the Error that evaluating it raised (a type error, say). */
function evaluateWhen(expr: string, run: RunRow, byKey: Map<string, StageRow>): boolean | Error {
  const stagesScope: Record<string, unknown> = {};
  for (const [key, s] of byKey) stagesScope[key] = { status: s.status, metrics: s.metrics ?? {}, outputs: s.outputArtifactIds ?? {} };
  try {
    return evaluateCondition(expr, { params: run.params, stages: stagesScope });
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}
