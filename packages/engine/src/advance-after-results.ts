import { isSatisfiedStageStatus, isTerminalStageStatus } from '@pipewright/core';
import { and, asc, eq, executeRows, or, reusableSelect, sql, stageRuns, type Database, type runs, type SQL, type RunRow, type StageRow } from '@pipewright/db';
import type { AdvanceResult } from './advance-run.ts';
import { expandForeach, settleForeachGroups, settleForeachGroupsOf } from './expand-foreach.ts';
import type { KnownArtifacts } from './resolve-stage-inputs.ts';
import type { RunChangeSet } from './run-change-set.ts';
import { BLOCKING_NEED, decideReadyStages, finalRunStatus, screenPendingStage } from './stage-decisions.ts';
import { SATISFIED_STATUSES, statusList, TERMINAL_STATUSES } from './status-lists-sql.ts';


const BLOCKING = statusList([...BLOCKING_NEED]);

export interface AdvanceAfterResultsInput {
  /** The stages whose results this step applied (their rows in memory, already patched). */
  changed: StageRow[];
  changes: RunChangeSet;
  /** Artifact rows the step holds (the outputs it just recorded). */
  artifacts: KnownArtifacts;
  /** The dependents of `changed`, read ahead on a guess of their outcome (used if it held). */
  prefetched?: PrefetchedDependents;
}

/**
 * Moves a run forward after results, looking only where they can matter: the PENDING
 * dependents of the stages that just ended (and, through cache hits and skips, theirs), the
 * foreach groups of instances that ended, and whether anything is left open. It decides exactly
 * as `advanceRun` does (shared `stage-decisions`), but reads a handful of rows instead of every
 * stage of the run: a 1,000-way fan-in read all 1,002 rows per result batch before, which made
 * the fan-out quadratic. Statuses changed in memory and not yet written are passed to the
 * queries as overrides. The caller holds the run's row lock and flushes `changes`.
 */
export async function advanceAfterResults(tx: Database, run: RunRow, input: AdvanceAfterResultsInput, now: Date): Promise<AdvanceResult> {
  const { changes } = input;
  changes.notifyChanged();
  if (run.status !== 'QUEUED' && run.status !== 'RUNNING' && run.status !== 'CANCELING') return { enqueued: 0, runStatus: run.status };
  const rows = new Map<string, StageRow>(input.changed.map((s) => [s.id, s]));
  // A row read from the database is replaced by the one this step holds, which may be newer.
  const adopt = (loaded: StageRow[]) =>
    loaded.map((r) => {
      const mine = rows.get(r.id);
      if (mine) return mine;
      rows.set(r.id, r);
      return r;
    });
  const load = async (where: SQL | undefined) =>
    adopt(await tx.select().from(stageRuns).where(and(eq(stageRuns.runId, run.id), where)).orderBy(asc(stageRuns.position), asc(stageRuns.stageKey)));

  let enqueued = 0;
  let frontier = input.changed.filter((s) => isTerminalStageStatus(s.status));
  while (frontier.length > 0) {
    const next: StageRow[] = [];
    // Instances that ended may end their foreach group.
    const groupKeys = [...new Set(frontier.flatMap((s) => (s.parentKey === null ? [] : [s.parentKey])))];
    if (groupKeys.length) next.push(...(await settleForeachGroupsOf(tx, run.id, groupKeys, changes, adopt, now)));
    if (run.status === 'CANCELING') {
      frontier = next;
      continue;
    }

    const found = await dependentsOf(tx, run.id, frontier, changes, input.prefetched);
    const candidates = adopt(found.map((c) => c.stage));
    const needsOf = new Map(found.map((c) => [c.stage.id, { blocked: c.blocking > 0, satisfied: c.unsatisfied === 0 }]));
    const runnable = candidates.filter((c) => c.status === 'PENDING' && (needsOf.get(c.id)?.blocked || needsOf.get(c.id)?.satisfied));

    // The rows the runnable ones read: their inputs' producers (and a list input's instances),
    // a foreach's source and its instances from an earlier try, or every stage for a `when`.
    const keys = new Set<string>();
    const parents = new Set<string>();
    let everything = false;
    for (const c of runnable) {
      if (needsOf.get(c.id)?.blocked) continue;
      for (const binding of Object.values(c.inputs)) (binding.list ? parents : keys).add(binding.stage);
      if (c.foreach) {
        keys.add(c.foreach.stage);
        parents.add(c.stageKey);
      }
      if (c.whenExpr) everything = true;
    }
    // A producer this step holds (the stage that just ended, typically) is not read again.
    for (const s of rows.values()) keys.delete(s.stageKey);
    const context =
      everything ? await load(undefined)
      : keys.size || parents.size
        ? await load(
            // Arrays, not lists: one parameter each, and a text that does not grow with them.
            or(
              keys.size ? sql`${stageRuns.stageKey} = any(${sql.param([...keys])}::text[])` : undefined,
              parents.size ? sql`${stageRuns.parentKey} = any(${sql.param([...parents])}::text[])` : undefined,
            ),
          )
      : [];
    const byKey = new Map([...rows.values(), ...context].map((s) => [s.stageKey, s]));

    const ready: StageRow[] = [];
    for (const stage of runnable) {
      const verdict = screenPendingStage(stage, needsOf.get(stage.id) as { blocked: boolean; satisfied: boolean }, run, byKey, changes, now);
      if (verdict === 'settled') {
        next.push(stage);
        continue;
      }
      if (verdict !== 'ready') continue;
      if (stage.foreach && stage.parentKey === null) {
        const instances = await expandForeach(tx, changes, run, stage, byKey, input.artifacts, now);
        if (!Array.isArray(instances)) {
          changes.patchStage(stage, { status: 'FAILED', finishedAt: now, error: instances });
          next.push(stage);
          continue;
        }
        for (const instance of instances) {
          rows.set(instance.id, instance);
          byKey.set(instance.stageKey, instance);
          // Instances need what their group needs, which is satisfied: each runs (or is cached) now.
          if (instance.status === 'PENDING') ready.push(instance);
        }
        settleForeachGroups(changes, [stage, ...instances], now); // an empty list ends at once
        if (isTerminalStageStatus(stage.status)) next.push(stage);
        continue;
      }
      ready.push(stage);
    }
    const decided = await decideReadyStages(tx, run, ready, byKey, input.artifacts, changes, now);
    enqueued += decided.enqueued;
    next.push(...decided.cached);
    frontier = next;
  }

  // The run ends when no stage is open. A stage this step holds that is open (a fan-in still
  // waiting, a retry) settles it without a query; otherwise count.
  if (enqueued === 0 && ![...rows.values()].some((s) => !isTerminalStageStatus(s.status))) {
    const tally = await tallyStages(tx, run.id, changes);
    if (tally.open === 0) changes.patchRun(run, { status: finalRunStatus(run, { failed: tally.failed > 0, canceled: tally.canceled > 0 }), finishedAt: now, updatedAt: now });
  }
  return { enqueued, runStatus: run.status };
}

/** How many of a run's stages are still open, and how many ended FAILED or CANCELED. */
interface Tally {
  open: number;
  failed: number;
  canceled: number;
}

/**
 * A stage's status as this step sees it: changed in memory (`overrides`, the JSON of
 * `statusOverrides()`), else stored. `row` names the stage_runs row in the query.
 */
function statusSeen(overrides: string, row: string): SQL {
  return sql`coalesce(${overrides}::jsonb ->> ${sql.raw(row)}.id::text, ${sql.raw(row)}.status)`;
}

async function tallyStages(tx: Database, runId: string, changes: RunChangeSet): Promise<Tally> {
  const seen = statusSeen(JSON.stringify(changes.statusOverrides()), 't');
  const [tally] = await executeRows<{ open: number; failed: number; canceled: number }>(
    tx,
    sql`select count(*) filter (where ${seen} not in (${TERMINAL_STATUSES}))::int as open,
               count(*) filter (where ${seen} = 'FAILED')::int as failed,
               count(*) filter (where ${seen} = 'CANCELED')::int as canceled
        from stage_runs t where t.run_id = ${runId}`,
  );
  return tally as Tally;
}

/** A PENDING stage that needs a stage of the frontier, with how its needs stand. */
export interface Dependent {
  stage: StageRow;
  /** How many of its needs are not satisfied (0: it may run). */
  unsatisfied: number;
  /** How many of its needs ended in a way that blocks it (> 0: it is skipped). */
  blocking: number;
}

/**
 * The dependents of `frontier` (stage ids, of one run or several) read ahead of time, and what
 * the read assumed: which stages end this step, and which have a status changed in memory. Used
 * only where the step turns out to match, so the answer is the one `dependentsOf` would read.
 */
export interface PrefetchedDependents {
  frontier: ReadonlySet<string>;
  overridden: ReadonlySet<string>;
  stored: Dependent[];
}

async function dependentsOf(tx: Database, runId: string, frontier: StageRow[], changes: RunChangeSet, prefetched: PrefetchedDependents | undefined): Promise<Dependent[]> {
  const overrides = changes.statusOverrides();
  const overridden = Object.keys(overrides);
  const ids = frontier.map((s) => s.id);
  const stored =
    prefetched && sameKeys(prefetched.frontier, ids) && sameKeys(prefetched.overridden, overridden) ? prefetched.stored : await selectDependents(tx, [runId], ids, overridden);
  // The counts read leave out the needs whose status changed in memory: they are added here.
  const byKey = changes.statusOverridesByKey();
  const frontierKeys = new Set(frontier.map((s) => s.stageKey));
  const found = stored
    .filter((d) => d.stage.needs.some((k) => frontierKeys.has(k)))
    .filter((d) => (overrides[d.stage.id] ?? d.stage.status) === 'PENDING')
    .map((d) => {
      let { unsatisfied, blocking } = d;
      for (const key of d.stage.needs) {
        const status = byKey.get(key);
        if (status === undefined) continue;
        if (!isSatisfiedStageStatus(status)) unsatisfied += 1;
        if (BLOCKING_NEED.has(status)) blocking += 1;
      }
      return { stage: d.stage, unsatisfied, blocking };
    });
  // Instances of a group share their group's needs, and are decided with it, never alone.
  const keys = new Set(found.map((c) => c.stage.stageKey));
  return found.filter((c) => c.stage.parentKey === null || !keys.has(c.stage.parentKey));
}

/**
 * The stages of the runs `runIds` that need one of the `frontier` stages (ids) and are PENDING
 * (or among `overridden`, whose stored status is stale: the caller decides those), each with how
 * many of its needs are not satisfied and how many block it, counting stored statuses and leaving
 * out the `overridden` needs (the caller adds those from memory). One query, ordered by run and
 * position. Sent ahead (pipelined behind the run lock), it costs no round trip.
 *
 * The needs are counted in one join of every (candidate, need) pair, grouped by candidate: its
 * cost is the number of pairs whatever plan Postgres picks. A count per candidate (a subquery)
 * was planned on the run's row estimate, stale on a young table or wrong for a wide run: Postgres
 * hashed all of the run's rows for each candidate, 0.2 ms apiece, 200 ms for the 1,000 stages a
 * fan-out's root makes ready. The frontier's keys are looked up once, by id, in an uncorrelated
 * subquery (an InitPlan): correlated with each candidate, that lookup went through the run's rows
 * (and unpacked a fan-in join's 1,000-key `needs` once per frontier stage), 3-7 ms a batch in
 * the 1,000-wide fan-out. They are the keys of every run of the batch, not each candidate's own
 * run's: a per-run lookup (a subquery per candidate) made Postgres' cost estimate pass
 * `jit_above_cost`, and compiling the query took 80 ms. So a candidate may need a key that ended
 * in another run only: the caller keeps those that need their own run's frontier.
 */
export function selectDependents(tx: Database, runIds: string[], frontier: string[], overridden: string[]): Promise<Dependent[]> {
  return dependentsOfFrontier(tx, { runIds, frontier, changed: overridden });
}

const dependentsOfFrontier = reusableSelect((db) => {
  const changed = sql`${sql.placeholder('changed')}::uuid[]`;
  const inRuns = sql`${sql.placeholder('runIds')}::uuid[]`;
  // Only ids and counts go through the join; the candidates' rows are read once, by id, after it
  // (carried through it, a fan-in join's wide row made the count 5.4 ms instead of 1.8).
  const counted = sql`(select cand.id,
        count(*) filter (where need.status not in (${SATISFIED_STATUSES}))::int as unsatisfied,
        count(*) filter (where need.status in (${BLOCKING}))::int as blocking
      from stage_runs cand
      cross join jsonb_array_elements_text(cand.needs) as k(key)
      -- A need left out (changed in memory) joins no row: its null status is counted by neither.
      -- The needs' runs are named by value too: joined on cand.run_id alone, the planner may scan
      -- the whole table for them.
      left join stage_runs need on need.run_id = any(${inRuns}) and need.run_id = cand.run_id and need.stage_key = k.key and need.id <> all(${changed})
      -- The runs by value, not by a subquery: with one, the planner chose to scan the table.
      where cand.run_id = any(${inRuns})
        and (cand.status = 'PENDING' or cand.id = any(${changed}))
        -- Needs a frontier key of any run of the batch: the caller keeps those of its own run's.
        and cand.needs ?| (select array_agg(f.stage_key) from stage_runs f where f.id = any(${sql.placeholder('frontier')}::uuid[]))
      group by cand.id) as counted`;
  return db
    .select({ stage: stageRuns, unsatisfied: sql<number>`counted.unsatisfied`, blocking: sql<number>`counted.blocking` })
    .from(stageRuns)
    .innerJoin(counted, sql`counted.id = ${stageRuns.id}`)
    .orderBy(asc(stageRuns.runId), asc(stageRuns.position), asc(stageRuns.stageKey));
});

function sameKeys(set: ReadonlySet<string>, keys: string[]): boolean {
  return set.size === keys.length && keys.every((k) => set.has(k));
}

