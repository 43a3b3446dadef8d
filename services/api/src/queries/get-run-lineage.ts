import { attempts, eq, lineageEdges, stageRuns, type Database } from '@pipewright/db';
import { runArtifacts } from './run-artifacts.ts';
import { serializeArtifact } from './serialize.ts';

/**
 * Every artifact of a run with the attempt that produced it (in an earlier run, for a cached
 * stage) and every attempt of this run that consumed it.
 */
export async function getRunLineage(db: Database, runId: string) {
  const [artifactRows, edgeRows, stageRows, attemptRows] = await Promise.all([
    runArtifacts(db, runId),
    db.select().from(lineageEdges).where(eq(lineageEdges.runId, runId)),
    db.select({ id: stageRuns.id, key: stageRuns.stageKey }).from(stageRuns).where(eq(stageRuns.runId, runId)),
    db.select({ id: attempts.id, number: attempts.number }).from(attempts).where(eq(attempts.runId, runId)),
  ]);
  const stageKey = new Map(stageRows.map((s) => [s.id, s.key]));
  const attemptNumber = new Map(attemptRows.map((a) => [a.id, a.number]));
  return {
    runId,
    artifacts: artifactRows.map(({ artifact, stage, attempt }) => ({
      ...serializeArtifact(artifact, { stage, attempt }),
      consumedBy: edgeRows
        .filter((e) => e.artifactId === artifact.id)
        .map((e) => ({
          stage: stageKey.get(e.consumerStageRunId) ?? '?',
          stageRunId: e.consumerStageRunId,
          attemptId: e.consumerAttemptId,
          attempt: attemptNumber.get(e.consumerAttemptId) ?? 0,
          inputName: e.inputName,
        })),
    })),
  };
}
