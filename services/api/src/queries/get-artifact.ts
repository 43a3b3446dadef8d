import { artifacts, attempts, eq, stageRuns, type Database } from '@pipewright/db';
import { serializeArtifact } from './serialize.ts';

export async function getArtifact(db: Database, id: string) {
  const [row] = await db
    .select({ artifact: artifacts, stage: stageRuns.stageKey, attempt: attempts.number })
    .from(artifacts)
    .innerJoin(stageRuns, eq(stageRuns.id, artifacts.producedByStageRunId))
    .innerJoin(attempts, eq(attempts.id, artifacts.producedByAttemptId))
    .where(eq(artifacts.id, id));
  return row ? serializeArtifact(row.artifact, { stage: row.stage, attempt: row.attempt }) : null;
}
