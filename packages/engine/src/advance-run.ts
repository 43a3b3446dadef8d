import { isTerminalStageStatus } from '@pipewright/core';
import { asc, eq, stageRuns, type Database, type RunRow, type StageRow } from '@pipewright/db';
import { expandForeach, settleForeachGroups } from './expand-foreach.ts';
import type { KnownArtifacts } from './resolve-stage-inputs.ts';
import { RunChangeSet } from './run-change-set.ts';
import { decideReadyStages, finalRunStatus, needsStateOf, screenPendingStage } from './stage-decisions.ts';


export interface AdvanceResult {
  enqueued: number;
  runStatus: RunRow['status'];
}

export interface AdvanceOptions {
  /** The run's stage rows, current, when the caller has them (saves reading them again). */
  stages?: StageRow[];
  /**
   * Gather the writes here for the caller to flush with its own; without it, advanceRun writes
   * them itself before returning.
   */
  changes?: RunChangeSet;
  /** Artifact rows the caller already holds (the outputs it just recorded). */
  artifacts?: KnownArtifacts;
}

/**
 * Moves a run forward after a change: stages whose needs all succeeded are served from the cache
 * or QUEUED (or SKIPPED when their `when` is false), stages downstream of a failure are SKIPPED,
 * and a run with nothing left to do ends. The caller holds the run's row lock, so two
 * orchestrators applying the two last parents of a fan-in cannot both miss (or both enqueue) the
 * join. Every call announces the change (NOTIFY at commit).
 *
 * The stages that become ready together are decided together: their inputs are read in one
 * query, their cache lookups in one, and every write lands in one statement (`RunChangeSet`), so
 * a fan-out of 1,000 costs a handful of round trips, not thousands.
 */
export async function advanceRun(tx: Database, run: RunRow, now: Date, options: AdvanceOptions = {}): Promise<AdvanceResult> {
  const changes = options.changes ?? new RunChangeSet(run.id);
  changes.notifyChanged();
  const result = await decide(tx, run, now, changes, options);
  if (!options.changes) await changes.flush(tx);
  return result;
}

async function decide(tx: Database, run: RunRow, now: Date, changes: RunChangeSet, options: AdvanceOptions): Promise<AdvanceResult> {
  if (run.status !== 'QUEUED' && run.status !== 'RUNNING' && run.status !== 'CANCELING') return { enqueued: 0, runStatus: run.status };
  const stages = options.stages ?? (await tx.select().from(stageRuns).where(eq(stageRuns.runId, run.id)).orderBy(asc(stageRuns.position), asc(stageRuns.stageKey)));
  const byKey = new Map(stages.map((s) => [s.stageKey, s]));
  const known = options.artifacts ?? new Map();
  let enqueued = 0;

  // Waves: one pass over the stages (topological order, so a skip propagates within the pass)
  // collects the ready ones; they are decided together; a cache hit can make more stages ready,
  // so the pass repeats until a wave serves nothing from the cache.
  for (let wave = true; wave && run.status !== 'CANCELING'; ) {
    settleForeachGroups(changes, stages, now);
    const ready: StageRow[] = [];
    // Indexed, not for…of over a copy: a foreach group inserts its instances right after itself.
    for (let i = 0; i < stages.length; i += 1) {
      const stage = stages[i] as StageRow;
      if (stage.status !== 'PENDING') continue;
      const needs = stage.needs.map((k) => byKey.get(k)).filter((s): s is StageRow => s !== undefined);
      if (screenPendingStage(stage, needsStateOf(needs), run, byKey, changes, now) !== 'ready') continue;
      if (stage.foreach && stage.parentKey === null) {
        const instances = await expandForeach(tx, changes, run, stage, byKey, known, now);
        if (!Array.isArray(instances)) {
          changes.patchStage(stage, { status: 'FAILED', finishedAt: now, error: instances });
          continue;
        }
        const fresh = instances.filter((s) => !byKey.has(s.stageKey));
        stages.splice(i + 1, 0, ...fresh);
        for (const s of fresh) byKey.set(s.stageKey, s);
        settleForeachGroups(changes, [stage, ...instances], now); // an empty list ends at once
        continue;
      }
      ready.push(stage);
    }
    const decided = await decideReadyStages(tx, run, ready, byKey, known, changes, now);
    enqueued += decided.enqueued;
    wave = decided.cached.length > 0;
  }
  if (run.status === 'CANCELING') settleForeachGroups(changes, stages, now);

  if (stages.every((s) => isTerminalStageStatus(s.status))) {
    const ended = { failed: stages.some((s) => s.status === 'FAILED'), canceled: stages.some((s) => s.status === 'CANCELED') };
    changes.patchRun(run, { status: finalRunStatus(run, ended), finishedAt: now, updatedAt: now });
  }
  return { enqueued, runStatus: run.status };
}
