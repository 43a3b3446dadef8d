import { randomUUID } from 'node:crypto';
import { interpolate, isSatisfiedStageStatus, isTerminalStageStatus, type StageFailure } from '@pipewright/core';
import { and, artifacts, eq, isNull, sql, stageRuns, type Database, type RunRow, type StageRow } from '@pipewright/db';
import type { KnownArtifacts } from './resolve-stage-inputs.ts';
import type { RunChangeSet } from './run-change-set.ts';
import { TERMINAL_STATUSES, UNSUCCEEDED_STATUSES } from './status-lists-sql.ts';
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

/** How the instances of one foreach group stand. */
export interface InstanceTally {
  total: number;
  /** Not ended yet. */
  open: number;
  /** Ended without succeeding (or coming from the cache). */
  unsucceeded: number;
  /** Of those, how many were canceled. */
  canceled: number;
  /** The keys of the first few that did not succeed, in item order. */
  firstUnsucceeded: string[];
}

const NAMED_IN_ERROR = 5;

/**
 * The end of a running foreach group once its instances all ended: SUCCEEDED when every instance
 * succeeded (or came from the cache), FAILED (or CANCELED) otherwise. Undefined while any runs.
 */
function groupEnd(tally: InstanceTally, now: Date): Partial<StageRow> | undefined {
  if (tally.open > 0) return undefined;
  if (tally.unsucceeded === 0) return { status: 'SUCCEEDED', finishedAt: now };
  return {
    status: tally.canceled === tally.unsucceeded ? 'CANCELED' : 'FAILED',
    finishedAt: now,
    error: failure('PW_ERR_FOREACH_ITEM_FAILED', `${tally.unsucceeded} of ${tally.total} instances did not succeed: ${tally.firstUnsucceeded.slice(0, NAMED_IN_ERROR).join(', ')}`),
  };
}

const isRunningGroup = (s: StageRow) => s.foreach !== null && s.parentKey === null && s.status === 'RUNNING';
const byItem = (a: StageRow, b: StageRow) => (a.itemIndex ?? 0) - (b.itemIndex ?? 0);

/** Adds instances (rows in memory) to a tally. */
function addInstances(tally: InstanceTally, instances: StageRow[]): InstanceTally {
  const unsucceeded = instances.filter((s) => isTerminalStageStatus(s.status) && !isSatisfiedStageStatus(s.status));
  return {
    total: tally.total + instances.length,
    open: tally.open + instances.filter((s) => !isTerminalStageStatus(s.status)).length,
    unsucceeded: tally.unsucceeded + unsucceeded.length,
    canceled: tally.canceled + unsucceeded.filter((s) => s.status === 'CANCELED').length,
    firstUnsucceeded: [...tally.firstUnsucceeded, ...unsucceeded.sort(byItem).map((s) => s.stageKey)],
  };
}

const EMPTY_TALLY: InstanceTally = { total: 0, open: 0, unsucceeded: 0, canceled: 0, firstUnsucceeded: [] };

/**
 * Ends each running foreach group among `stages` whose instances (also among `stages`) all
 * ended. Its dependents then see it like any other stage.
 */
export function settleForeachGroups(changes: RunChangeSet, stages: StageRow[], now: Date): void {
  for (const group of stages) {
    if (!isRunningGroup(group)) continue;
    const end = groupEnd(addInstances(EMPTY_TALLY, stages.filter((s) => s.parentKey === group.stageKey)), now);
    if (end) changes.patchStage(group, end);
  }
}

/**
 * `settleForeachGroups` for the groups `groupKeys` of one run, without reading their instances:
 * stored statuses are counted in SQL, and the instances whose status changed in memory are added
 * from memory. Reading every instance each time some of them ended made a foreach fan-out
 * quadratic: 3,000 instances took 9.7 s, 543,000 rows read. Returns the groups it ended (rows
 * this step already held come from `adopt`).
 */
export async function settleForeachGroupsOf(
  tx: Database,
  runId: string,
  groupKeys: string[],
  changes: RunChangeSet,
  adopt: (loaded: StageRow[]) => StageRow[],
  now: Date,
): Promise<StageRow[]> {
  const changed = changes.stagesWithStatusOverride();
  const overridden = sql`${sql.param(changed.map((s) => s.id))}::uuid[]`;
  const counted = sql`(select i.parent_key,
        count(*)::int as total,
        count(*) filter (where i.status not in (${TERMINAL_STATUSES}))::int as open,
        count(*) filter (where i.status in (${UNSUCCEEDED_STATUSES}))::int as unsucceeded,
        count(*) filter (where i.status = 'CANCELED')::int as canceled,
        (array_agg(i.stage_key order by i.item_index) filter (where i.status in (${UNSUCCEEDED_STATUSES})))[1:${sql.raw(String(NAMED_IN_ERROR))}] as first_unsucceeded
      from stage_runs i
      where i.run_id = ${runId} and i.parent_key = any(${sql.param(groupKeys)}::text[]) and i.id <> all(${overridden})
      group by i.parent_key) as counted`;
  const found = await tx
    .select({
      group: stageRuns,
      total: sql<number | null>`counted.total`,
      open: sql<number | null>`counted.open`,
      unsucceeded: sql<number | null>`counted.unsucceeded`,
      canceled: sql<number | null>`counted.canceled`,
      firstUnsucceeded: sql<string[] | null>`counted.first_unsucceeded`,
    })
    .from(stageRuns)
    .leftJoin(counted, sql`counted.parent_key = ${stageRuns.stageKey}`)
    .where(and(eq(stageRuns.runId, runId), sql`${stageRuns.stageKey} = any(${sql.param(groupKeys)}::text[])`, isNull(stageRuns.parentKey)));
  const ended: StageRow[] = [];
  adopt(found.map((f) => f.group)).forEach((group, i) => {
    if (!isRunningGroup(group)) return;
    const f = found[i] as (typeof found)[number];
    const stored: InstanceTally = { total: f.total ?? 0, open: f.open ?? 0, unsucceeded: f.unsucceeded ?? 0, canceled: f.canceled ?? 0, firstUnsucceeded: [] };
    const tally = addInstances(stored, changed.filter((s) => s.parentKey === group.stageKey));
    // The error names the first few in item order, stored or in memory alike (the stored ones
    // leave out those in memory, so the two lists never overlap).
    const keys = [...(f.firstUnsucceeded ?? []), ...tally.firstUnsucceeded].sort((a, b) => itemIndexOf(a) - itemIndexOf(b));
    const end = groupEnd({ ...tally, firstUnsucceeded: keys }, now);
    if (!end) return;
    changes.patchStage(group, end);
    ended.push(group);
  });
  return ended;
}

/** `each[12]` -> 12. */
function itemIndexOf(key: string): number {
  return Number(/\[(\d+)\]$/.exec(key)?.[1] ?? 0);
}
