import { artifacts, attempts, eq, or, sql, stageRuns, type Database } from '@pipewright/db';

/**
 * The artifacts a run involves: those its attempts produced (every attempt, so retried history
 * stays visible) and those its cached stages link from earlier runs, each with the stage key and
 * attempt number that produced it.
 */
export async function runArtifacts(db: Database, runId: string) {
  return db
    .select({ artifact: artifacts, stage: stageRuns.stageKey, attempt: attempts.number })
    .from(artifacts)
    .innerJoin(stageRuns, eq(stageRuns.id, artifacts.producedByStageRunId))
    .innerJoin(attempts, eq(attempts.id, artifacts.producedByAttemptId))
    .where(
      or(
        eq(artifacts.runId, runId),
        sql`${artifacts.id} in (select (jsonb_each_text(s.output_artifact_ids)).value::uuid from stage_runs s where s.run_id = ${runId} and s.status = 'CACHED')`,
      ),
    );
}
