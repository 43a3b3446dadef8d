import {
  cacheKeyOf,
  canonicalJson,
  changedCacheComponents,
  evaluateCondition,
  isSatisfiedStageStatus,
  type CacheComponents,
  type CacheExplanation,
  type StageStatus,
} from '@pipewright/core';
import { executeRows, sql, type Database, type runs, type RunRow, type StageRow } from '@pipewright/db';
import { planEnqueue } from './enqueue-stage.ts';
import { inputDigests, resolveInputsOfStages, type KnownArtifacts, type ResolvedInputs } from './resolve-stage-inputs.ts';
import type { RunChangeSet } from './run-change-set.ts';


/**
 * The decisions about a run's PENDING stages that both ways of advancing a run share (the full
 * pass of `advanceRun`, the targeted one of `advanceAfterResults`): whether a stage waits, is
 * skipped or fails before it runs, and — for the ones that are ready — cache hit or new attempt.
 */

/** A need in one of these makes its dependents SKIPPED. */
export const BLOCKING_NEED: ReadonlySet<StageStatus> = new Set(['FAILED', 'CANCELED', 'SKIPPED']);

/** Where a PENDING stage's needs stand. */
export interface NeedsState {
  /** One of them ended FAILED, CANCELED or SKIPPED. */
  blocked: boolean;
  /** All of them SUCCEEDED or CACHED. */
  satisfied: boolean;
}

export function needsStateOf(needs: StageRow[]): NeedsState {
  return { blocked: needs.some((n) => BLOCKING_NEED.has(n.status)), satisfied: needs.every((n) => isSatisfiedStageStatus(n.status)) };
}

/**
 * What a PENDING stage does now: `wait` (a need is not done), `settled` (skipped or failed here,
 * patched into `changes`), or `ready` (to run, or fan out when it is a foreach group). `byKey`
 * must hold every stage a `when` expression may name.
 */
export function screenPendingStage(
  stage: StageRow,
  needs: NeedsState,
  run: RunRow,
  byKey: Map<string, StageRow>,
  changes: RunChangeSet,
  now: Date,
): 'wait' | 'settled' | 'ready' {
  if (needs.blocked) {
    changes.patchStage(stage, { status: 'SKIPPED', finishedAt: now, error: { reason: 'upstream-not-succeeded' } });
    return 'settled';
  }
  if (!needs.satisfied) return 'wait';
  if (stage.whenExpr) {
    const verdict = evaluateWhen(stage.whenExpr, run, byKey);
    if (verdict instanceof Error) {
      const error = { kind: 'application', code: 'PW_ERR_WHEN_FAILED', message: verdict.message, retryable: false };
      changes.patchStage(stage, { status: 'FAILED', finishedAt: now, error });
      return 'settled';
    }
    if (!verdict) {
      changes.patchStage(stage, { status: 'SKIPPED', finishedAt: now, error: { reason: 'when-false', when: stage.whenExpr } });
      return 'settled';
    }
  }
  return 'ready';
}

/**
 * Decides the stages that are ready together: their inputs are read in one query, their cache
 * lookups in one; a hit is patched CACHED, a miss gets its first (or next) attempt. Returns how
 * many were enqueued and the ones served from the cache (their dependents may now be ready).
 */
export async function decideReadyStages(
  tx: Database,
  run: RunRow,
  ready: StageRow[],
  byKey: Map<string, StageRow>,
  known: KnownArtifacts,
  changes: RunChangeSet,
  now: Date,
): Promise<{ enqueued: number; cached: StageRow[] }> {
  if (ready.length === 0) return { enqueued: 0, cached: [] };
  const inputs = await resolveInputsOfStages(tx, ready, byKey, known);
  const components: CacheComponents[] = ready.map((stage, i) => ({
    type: stage.uses,
    params: JSON.parse(canonicalJson(stage.params)) as Record<string, unknown>,
    inputs: inputDigests(inputs[i] as ResolvedInputs),
  }));
  const keys = components.map((c) => cacheKeyOf(c));
  const decisions = await explainCache(tx, run, ready, keys, components);
  let enqueued = 0;
  const cached: StageRow[] = [];
  ready.forEach((stage, i) => {
    const { explanation, hit } = decisions[i] as CacheDecision;
    if (hit) {
      changes.patchStage(stage, {
        status: 'CACHED',
        cacheKey: keys[i] as string,
        cacheComponents: components[i] as CacheComponents,
        cacheExplanation: explanation,
        outputArtifactIds: hit.outputs,
        metrics: hit.metrics,
        finishedAt: now,
      });
      cached.push(stage);
      return;
    }
    changes.patchStage(stage, { cacheKey: keys[i] as string, cacheComponents: components[i] as CacheComponents, cacheExplanation: explanation });
    planEnqueue(changes, { runId: run.id, teamId: run.teamId, stage, inputs: inputs[i] as ResolvedInputs, attemptNumber: stage.attemptCount + 1, delayMs: 0, now });
    enqueued += 1;
  });
  return { enqueued, cached };
}

/** How a run whose stages have all ended ends, given whether any ended FAILED or CANCELED. */
export function finalRunStatus(run: RunRow, ended: { failed: boolean; canceled: boolean }): RunRow['status'] {
  if (run.status === 'CANCELING') return 'CANCELED';
  return ended.failed ? 'FAILED' : ended.canceled ? 'CANCELED' : 'SUCCEEDED';
}

interface CacheDecision {
  explanation: CacheExplanation;
  hit?: { outputs: Record<string, string> | null; metrics: Record<string, number> | null };
}

/**
 * For each stage, in one query: a hit is the newest successful execution with the same key. A
 * miss is explained against the previous successful execution of the same stage of the same
 * pipeline: which component of the key changed.
 */
async function explainCache(tx: Database, run: RunRow, stages: StageRow[], keys: string[], components: CacheComponents[]): Promise<CacheDecision[]> {
  const decisions: (CacheDecision | undefined)[] = stages.map((stage, i) =>
    stage.cacheEnabled ? undefined : { explanation: { hit: false, key: keys[i] as string, reason: 'disabled' } },
  );
  const asked = stages.flatMap((stage, i) => (decisions[i] ? [] : [{ i, stage, key: keys[i] as string }]));
  if (asked.length === 0) return decisions as CacheDecision[];
  // A Postgres array literal (uuids need no quoting): one parameter, however many stages.
  const own = `{${asked.map((a) => a.stage.id).join(',')}}`;
  const rows = await executeRows<{
    i: number;
    hit_id: string | null;
    hit_run_id: string | null;
    hit_stage: string | null;
    hit_outputs: Record<string, string> | null;
    hit_metrics: Record<string, number> | null;
    prev_id: string | null;
    prev_run_id: string | null;
    prev_stage: string | null;
    prev_components: CacheComponents | null;
  }>(
    tx,
    sql`select q.i::int as i, h.id as hit_id, h.run_id as hit_run_id, h.stage_key as hit_stage, h.output_artifact_ids as hit_outputs, h.metrics as hit_metrics,
               p.id as prev_id, p.run_id as prev_run_id, p.stage_key as prev_stage, p.cache_components as prev_components
        from jsonb_to_recordset(${JSON.stringify(asked.map((a) => ({ i: a.i, key: a.key, stage_key: a.stage.stageKey })))}::jsonb) as q(i int, key text, stage_key text)
        left join lateral (
          select s.id, s.run_id, s.stage_key, s.output_artifact_ids, s.metrics from stage_runs s
          where s.cache_key = q.key and s.status = 'SUCCEEDED' and s.id <> all(${own}::uuid[])
          order by s.finished_at desc limit 1) h on true
        left join lateral (
          select s.id, s.run_id, s.stage_key, s.cache_components from stage_runs s join runs r on r.id = s.run_id
          where h.id is null and s.stage_key = q.stage_key and r.pipeline_name = ${run.pipelineName} and s.status = 'SUCCEEDED'
            and s.cache_components is not null and s.id <> all(${own}::uuid[])
          order by s.finished_at desc limit 1) p on true`,
  );
  for (const row of rows) {
    const key = keys[row.i] as string;
    if (row.hit_id) {
      decisions[row.i] = {
        explanation: { hit: true, key, source: { runId: row.hit_run_id as string, stage: row.hit_stage as string, stageRunId: row.hit_id } },
        hit: { outputs: row.hit_outputs, metrics: row.hit_metrics },
      };
    } else if (!row.prev_components) {
      decisions[row.i] = { explanation: { hit: false, key, reason: 'never-run' } };
    } else {
      decisions[row.i] = {
        explanation: {
          hit: false,
          key,
          reason: 'changed',
          changed: changedCacheComponents(components[row.i] as CacheComponents, row.prev_components),
          comparedWith: { runId: row.prev_run_id as string, stage: row.prev_stage as string, stageRunId: row.prev_id as string },
        },
      };
    }
  }
  return decisions as CacheDecision[];
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
