import { and, artifacts, attempts, eq, inArray, stageRuns, type Database } from '@pipewright/db';

/**
 * The artifacts a run involves: those its attempts produced (every attempt, so retried history
 * stays visible) and those its cached stages link from earlier runs, each with the stage key and
 * attempt number that produced it. Two index-backed lookups rather than one `OR`, which made
 * Postgres scan every artifact (647 ms at a million stage rows; see docs/benchmarks.md).
 */
export async function runArtifacts(db: Database, runId: string) {
  const select = () =>
    db
      .select({ artifact: artifacts, stage: stageRuns.stageKey, attempt: attempts.number })
      .from(artifacts)
      .innerJoin(stageRuns, eq(stageRuns.id, artifacts.producedByStageRunId))
      .innerJoin(attempts, eq(attempts.id, artifacts.producedByAttemptId));
  const [own, cached] = await Promise.all([
    select().where(eq(artifacts.runId, runId)),
    db
      .select({ outputs: stageRuns.outputArtifactIds })
      .from(stageRuns)
      .where(and(eq(stageRuns.runId, runId), eq(stageRuns.status, 'CACHED'))),
  ]);
  const linked = [...new Set(cached.flatMap((s) => Object.values(s.outputs ?? {})))].filter((id) => !own.some((a) => a.artifact.id === id));
  return linked.length ? [...own, ...(await select().where(inArray(artifacts.id, linked)))] : own;
}
