import { randomUUID } from 'node:crypto';
import { canonicalJson, type PipelinePlan, type RunStatus } from '@pipewright/core';
import { createHash } from 'node:crypto';
import { and, desc, eq, or, pipelinedTransaction, pipelines, runs, sql, type Database, type RunRow, type StageRow, type PipelineRow } from '@pipewright/db';
import { advanceRun, type AdvanceResult } from './advance-run.ts';
import { findIdempotentRun, recordIdempotencyKey, type IdempotencyKey } from './claim-idempotency-key.ts';
import { takeOutboxJobs, type PendingJob } from './outbox-collector.ts';
import { flushChangeSets, RunChangeSet } from './run-change-set.ts';
import { UNSTARTED_STAGE_STATE } from './unstarted-stage.ts';


export interface SubmitRunInput {
  plan: PipelinePlan;
  /** The spec as submitted (after parsing), stored with the pipeline version. */
  spec: unknown;
  teamId?: string | null;
  /** When given, a repeat of the same request returns the first run instead of a new one. */
  idempotency?: Omit<IdempotencyKey, 'scope'>;
  now?: Date;
}

export interface SubmittedRun {
  runId: string;
  pipelineId: string;
  pipelineVersion: number;
  enqueued: number;
  /** The run's status as of this commit (of the original run, for a replay). */
  status: RunStatus;
  /** True when an Idempotency-Key matched an earlier, identical request: nothing was created. */
  replayed: boolean;
  /**
   * The stage jobs this submit made due, for the caller to publish right after the commit
   * (`publishOutboxJobs`); the outbox relay takes any it does not publish.
   */
  jobs: PendingJob[];
}

/**
 * The pipeline version of this spec: found by (name, digest) without a lock — the common case,
 * a spec submitted before — or created under a per-name advisory lock that serialises version
 * numbering (held to the end of the caller's transaction, so only first submits of a new spec
 * wait on each other).
 */
async function pipelineVersion(tx: Database, name: string, digest: string, spec: unknown, teamId: string | null) {
  const find = () => tx.select().from(pipelines).where(and(eq(pipelines.name, name), eq(pipelines.specDigest, digest)));
  const [known] = await find();
  if (known) return known;
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${'pipeline:' + name}))`);
  const [raced] = await find();
  if (raced) return raced;
  const [latest] = await tx
    .select({ version: pipelines.version })
    .from(pipelines)
    .where(eq(pipelines.name, name))
    .orderBy(desc(pipelines.version))
    .limit(1);
  const [created] = await tx
    .insert(pipelines)
    .values({ id: randomUUID(), teamId, name, version: (latest?.version ?? 0) + 1, specDigest: digest, spec })
    .returning();
  if (!created) throw new Error('pipeline insert returned nothing');
  return created;
}

/**
 * Stores a validated plan as a new run in ONE transaction: the pipeline version (deduplicated
 * by canonical spec digest), the run, one row per stage, and the outbox rows of the stages that
 * are ready. Nothing is published here: the caller publishes the returned `jobs` after the
 * commit, else the outbox relay does, so a crash at any point leaves either nothing or a run that
 * will start.
 */
export async function submitRun(db: Database, input: SubmitRunInput): Promise<SubmittedRun> {
  return pipelinedTransaction(db, async (tx, commitWithNextStatement) => {
    const idem = input.idempotency ? { ...input.idempotency, scope: 'submit' } : undefined;
    if (idem) {
      const earlier = await findIdempotentRun(tx, idem);
      if (earlier) {
        const [row] = await tx
          .select({ pipelineId: runs.pipelineId, version: pipelines.version, status: runs.status })
          .from(runs)
          .innerJoin(pipelines, eq(pipelines.id, runs.pipelineId))
          .where(eq(runs.id, earlier));
        return { runId: earlier, pipelineId: row?.pipelineId ?? '', pipelineVersion: row?.version ?? 0, enqueued: 0, status: row?.status ?? 'QUEUED', replayed: true, jobs: [] };
      }
    }
    const [submitted] = await storeRuns(tx, [input], knownPipelinesOf(db), idem ? () => {} : commitWithNextStatement);
    if (idem) {
      commitWithNextStatement();
      await recordIdempotencyKey(tx, idem, (submitted as SubmittedRun).runId);
    }
    return submitted as SubmittedRun;
  });
}

/**
 * Stores several validated plans, each as `submitRun` would, in ONE transaction: one lookup of
 * their pipeline versions, one statement writing every run with its stages and outbox rows, one
 * commit. The API groups the submits of concurrent requests this way, as the orchestrator groups
 * results. All or nothing: on failure the caller retries each alone. Inputs must carry no
 * Idempotency-Key (those go through `submitRun`, which serialises per key).
 */
export async function submitRuns(db: Database, inputs: SubmitRunInput[]): Promise<SubmittedRun[]> {
  if (inputs.some((i) => i.idempotency)) throw new Error('submitRuns: an input with an Idempotency-Key goes through submitRun');
  return pipelinedTransaction(db, (tx, commitWithNextStatement) => storeRuns(tx, inputs, knownPipelinesOf(db), commitWithNextStatement));
}

/**
 * Writes the runs; `beforeLastStatement` is called before the statement that writes them, the
 * transaction's last when the caller passes `commitWithNextStatement` (COMMIT rides along: a
 * submit of a known spec is then one round trip with its BEGIN and COMMIT).
 */
async function storeRuns(tx: Database, inputs: SubmitRunInput[], known: Map<string, PipelineRow>, beforeLastStatement: () => void): Promise<SubmittedRun[]> {
  const digests = inputs.map((input) => `sha256:${createHash('sha256').update(canonicalJson(input.spec)).digest('hex')}`);
  const versions = await pipelineVersions(
    tx,
    known,
    inputs.map((input, i) => ({ name: input.plan.name, digest: digests[i] as string, spec: input.spec, teamId: input.teamId ?? null })),
  );
  const stored: { run: RunRow; pipeline: PipelineRow; changes: RunChangeSet; advanced: AdvanceResult }[] = [];
  for (const [i, input] of inputs.entries()) {
    const now = input.now ?? new Date();
    const pipeline = versions.get(`${input.plan.name}\n${digests[i]}`) as PipelineRow;
    const { run, stages } = newRunRows(input, pipeline, now);
    // The run, its stages and what advancing them decides (attempts, outbox rows, cache hits)
    // are written by one statement: the rows are built whole here, so nothing needs reading back.
    const changes = new RunChangeSet(run.id);
    changes.insertRun(run, stages);
    stored.push({ run, pipeline, changes, advanced: await advanceRun(tx, run, now, { stages, changes }) });
  }
  beforeLastStatement();
  await flushChangeSets(
    tx,
    stored.map((s) => s.changes),
  );
  const jobs = takeOutboxJobs(tx);
  return stored.map(({ run, pipeline, advanced }) => ({
    runId: run.id,
    pipelineId: pipeline.id,
    pipelineVersion: pipeline.version,
    enqueued: advanced.enqueued,
    status: advanced.runStatus,
    replayed: false,
    jobs: jobs.filter((j) => j.job.runId === run.id),
  }));
}

/** The pipeline version of each (name, digest): one query for the known ones, then the new ones. */
/**
 * Pipeline versions this process has read, per database: a version (name, spec digest) never
 * changes once committed, and a resubmitted spec is the common case, so its lookup (a statement
 * in every submit's transaction) is skipped. Versions created in a transaction are remembered only
 * once read after their commit.
 */
const knownPipelines = new WeakMap<Database, Map<string, PipelineRow>>();
const KNOWN_PIPELINES_LIMIT = 10_000;

function knownPipelinesOf(db: Database): Map<string, PipelineRow> {
  let known = knownPipelines.get(db);
  if (!known) knownPipelines.set(db, (known = new Map()));
  return known;
}

async function pipelineVersions(
  tx: Database,
  cache: Map<string, PipelineRow>,
  wanted: { name: string; digest: string; spec: unknown; teamId: string | null }[],
): Promise<Map<string, PipelineRow>> {
  const key = (name: string, digest: string) => `${name}\n${digest}`;
  const found = new Map<string, PipelineRow>();
  const distinct = [...new Map(wanted.map((w) => [key(w.name, w.digest), w])).values()];
  for (const w of distinct) {
    const cached = cache.get(key(w.name, w.digest));
    if (cached) found.set(key(w.name, w.digest), cached);
  }
  const missing = distinct.filter((w) => !found.has(key(w.name, w.digest)));
  const known = missing.length
    ? await tx
        .select()
        .from(pipelines)
        .where(or(...missing.map((w) => and(eq(pipelines.name, w.name), eq(pipelines.specDigest, w.digest)))))
    : [];
  if (cache.size + known.length > KNOWN_PIPELINES_LIMIT) cache.clear();
  for (const row of known) {
    found.set(key(row.name, row.specDigest), row);
    // Read, so committed: a version row never changes, so it can be remembered.
    cache.set(key(row.name, row.specDigest), row);
  }
  // New specs in name order: their per-name advisory locks are then taken in one order by
  // every transaction, so two batches creating versions cannot deadlock.
  for (const w of distinct.filter((d) => !found.has(key(d.name, d.digest))).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    found.set(key(w.name, w.digest), await pipelineVersion(tx, w.name, w.digest, w.spec, w.teamId));
  }
  return found;
}

/** A new run's row and its stages' rows, whole (nothing is read back after the insert). */
function newRunRows(input: SubmitRunInput, pipeline: PipelineRow, now: Date): { run: RunRow; stages: StageRow[] } {
  const runId = randomUUID();
  const run: RunRow = {
    id: runId,
    teamId: input.teamId ?? null,
    pipelineId: pipeline.id,
    pipelineName: input.plan.name,
    status: 'QUEUED',
    params: input.plan.params,
    error: null,
    createdAt: now,
    updatedAt: now,
    startedAt: null,
    finishedAt: null,
  };
  const stages: StageRow[] = input.plan.stages.map((s, position) => ({
    id: randomUUID(),
    runId,
    stageKey: s.id,
    position,
    uses: s.uses,
    family: s.family,
    needs: s.needs,
    inputs: s.inputs,
    outputs: s.outputs,
    params: s.params,
    whenExpr: s.when ?? null,
    foreach: s.foreach ?? null,
    parentKey: null,
    itemIndex: null,
    resourceClass: s.resources.class,
    gpu: s.resources.gpu,
    retry: s.retry,
    timeoutMs: s.timeoutMs,
    cacheEnabled: s.cache,
    ...UNSTARTED_STAGE_STATE,
    attemptCount: 0,
    createdAt: now,
  }));
  return { run, stages };
}
