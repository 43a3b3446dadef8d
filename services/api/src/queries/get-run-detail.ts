import { asc, attempts, eq, pipelines, runs, stageRuns, type Database } from '@pipewright/db';
import { runArtifacts } from './run-artifacts.ts';
import { iso, runLinks, serializeArtifact, serializeAttempt } from './serialize.ts';

/** A run with every stage, its attempts and its outputs; null when there is no such run. */
export async function getRunDetail(db: Database, runId: string) {
  const [row] = await db
    .select({ run: runs, pipelineVersion: pipelines.version })
    .from(runs)
    .innerJoin(pipelines, eq(pipelines.id, runs.pipelineId))
    .where(eq(runs.id, runId));
  if (!row) return null;
  const [stages, attemptRows, artifactRows] = await Promise.all([
    db.select().from(stageRuns).where(eq(stageRuns.runId, runId)).orderBy(asc(stageRuns.position)),
    db.select().from(attempts).where(eq(attempts.runId, runId)).orderBy(asc(attempts.number)),
    runArtifacts(db, runId),
  ]);
  const artifactById = new Map(artifactRows.map((a) => [a.artifact.id, a]));
  const { run } = row;
  return {
    id: run.id,
    pipeline: { id: run.pipelineId, name: run.pipelineName, version: row.pipelineVersion },
    status: run.status,
    params: run.params,
    teamId: run.teamId,
    createdAt: run.createdAt.toISOString(),
    startedAt: iso(run.startedAt),
    finishedAt: iso(run.finishedAt),
    links: runLinks(run.id),
    stages: stages.map((s) => ({
      id: s.id,
      stage: s.stageKey,
      uses: s.uses,
      needs: s.needs,
      foreach: s.foreach ?? null,
      parent: s.parentKey,
      itemIndex: s.itemIndex,
      status: s.status,
      params: s.params,
      resourceClass: s.resourceClass,
      attemptCount: s.attemptCount,
      metrics: s.metrics ?? null,
      error: s.error ?? null,
      queuedAt: iso(s.queuedAt),
      startedAt: iso(s.startedAt),
      finishedAt: iso(s.finishedAt),
      durationMs: s.startedAt && s.finishedAt ? s.finishedAt.getTime() - s.startedAt.getTime() : null,
      attempts: attemptRows.filter((a) => a.stageRunId === s.id).map(serializeAttempt),
      // The current outputs: this stage's successful attempt's, or, when CACHED, the earlier run's.
      outputs: Object.fromEntries(
        Object.entries(s.outputArtifactIds ?? {}).flatMap(([name, id]) => {
          const a = artifactById.get(id);
          return a ? [[name, serializeArtifact(a.artifact, { stage: a.stage, attempt: a.attempt })]] : [];
        }),
      ),
      cacheExplanation: s.cacheExplanation ?? null,
    })),
  };
}
