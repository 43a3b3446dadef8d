import { randomUUID } from 'node:crypto';
import { interpolate, isSatisfiedStageStatus, isTerminalStageStatus, type StageFailure } from '@pipewright/core';
import { artifacts, eq, stageRuns, type Database, type RunRow, type StageRow } from '@pipewright/db';
import type { KnownArtifacts } from './resolve-stage-inputs.ts';
import type { RunChangeSet } from './run-change-set.ts';
import { UNSTARTED_STAGE_STATE } from './unstarted-stage.ts';


/** Most instances one foreach may fan out into. */
export const MAX_FOREACH_ITEMS = 10_000;

const failure = (code: string, message: string): StageFailure => ({ kind: 'application', code, message, retryable: false });

/**
 * Fans a ready foreach stage out into one instance per item: rows `<key>[<i>]` with the same
 * needs and inputs, params resolved with `item`, `index` and the run's params. The foreach row
 * stays as the group (RUNNING, no attempts of its own) until `settleForeachGroups` ends it.
 * The items are the `items` array in the metadata of the upstream json output the stage names:
 * the orchestrator never reads artifact bytes. Returns the instances to add to this pass, or the
 * failure that ends the stage.
 */
export async function expandForeach(
  tx: Database,
  changes: RunChangeSet,
  run: RunRow,
  stage: StageRow,
  byKey: Map<string, StageRow>,
  known: KnownArtifacts,
  now: Date,
): Promise<StageRow[] | StageFailure> {
  const source = stage.foreach;
  if (!source) return [];
  const artifactId = byKey.get(source.stage)?.outputArtifactIds?.[source.output];
  // The source may have succeeded in this same step: its artifact row is then in `known`, unwritten.
  const [artifact] = !artifactId ? [] : known.has(artifactId) ? [known.get(artifactId)] : await tx.select({ metadata: artifacts.metadata }).from(artifacts).where(eq(artifacts.id, artifactId));
  const items = artifact?.metadata?.['items'];
  if (!Array.isArray(items)) {
    return failure('PW_ERR_FOREACH_NOT_A_LIST', `${source.stage}.${source.output} carries no items list in its metadata to fan out over`);
  }
  if (items.length > MAX_FOREACH_ITEMS) {
    return failure('PW_ERR_FOREACH_NOT_A_LIST', `${source.stage}.${source.output} lists ${items.length} items; at most ${MAX_FOREACH_ITEMS} instances are allowed`);
  }
  const params: Record<string, unknown>[] = [];
  for (const [index, item] of items.entries()) {
    try {
      params.push(interpolate(stage.params, { params: run.params, item, index }) as Record<string, unknown>);
    } catch (error) {
      return failure('PW_ERR_BAD_PARAMS', `item ${index}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  const existing = [...byKey.values()].filter((s) => s.parentKey === stage.stageKey).sort((a, b) => (a.itemIndex ?? 0) - (b.itemIndex ?? 0));
  let instances: StageRow[];
  if (existing.length > 0) {
    // A retried group: its instances were reset with it and are reused (their attempts stay).
    if (existing.length !== items.length) {
      return failure('PW_ERR_FOREACH_CHANGED', `the list now has ${items.length} items, not ${existing.length}; submit a new run to fan out anew`);
    }
    for (const [i, instance] of existing.entries()) {
      if (instance.status === 'PENDING') {
        await tx.update(stageRuns).set({ params: params[i] }).where(eq(stageRuns.id, instance.id));
        instance.params = params[i] as Record<string, unknown>;
      }
    }
    instances = existing;
  } else {
    instances = params.map((p, index) => ({
      ...stage,
      id: randomUUID(),
      stageKey: `${stage.stageKey}[${index}]`,
      params: p,
      whenExpr: null,
      foreach: null,
      parentKey: stage.stageKey,
      itemIndex: index,
      ...UNSTARTED_STAGE_STATE,
      attemptCount: 0,
      createdAt: now,
    }));
    for (let i = 0; i < instances.length; i += 1000) await tx.insert(stageRuns).values(instances.slice(i, i + 1000));
  }
  changes.patchStage(stage, { status: 'RUNNING', startedAt: now, metrics: { instances: items.length } });
  return instances;
}

/**
 * Ends each running foreach group whose instances all ended: SUCCEEDED when every instance
 * succeeded (or came from the cache), FAILED (or CANCELED) otherwise. Its dependents then see it
 * like any other stage.
 */
export function settleForeachGroups(changes: RunChangeSet, stages: StageRow[], now: Date): void {
  for (const group of stages) {
    if (!group.foreach || group.parentKey !== null || group.status !== 'RUNNING') continue;
    const instances = stages.filter((s) => s.parentKey === group.stageKey);
    if (!instances.every((s) => isTerminalStageStatus(s.status))) continue;
    const failed = instances.filter((s) => !isSatisfiedStageStatus(s.status));
    const patch: Partial<StageRow> =
      failed.length === 0
        ? { status: 'SUCCEEDED', finishedAt: now }
        : {
            status: failed.every((s) => s.status === 'CANCELED') ? 'CANCELED' : 'FAILED',
            finishedAt: now,
            error: failure('PW_ERR_FOREACH_ITEM_FAILED', `${failed.length} of ${instances.length} instances did not succeed: ${failed.slice(0, 5).map((s) => s.stageKey).join(', ')}`),
          };
    changes.patchStage(group, patch);
  }
}
