import { and, asc, attempts, eq, stageLogs, stageRuns, type Database } from '@pipewright/db';
import { getRunDetail } from './get-run-detail.ts';

/**
 * One stage of a run, as in the run detail, plus where each input comes from (with the artifact
 * bound to it, once the stage has been enqueued) and its cache key and components.
 */
export async function getStageDetail(db: Database, runId: string, stageKey: string) {
  const run = await getRunDetail(db, runId);
  if (!run) return { run: null, stage: null } as const;
  const stage = run.stages.find((s) => s.stage === stageKey);
  if (!stage) return { run, stage: null } as const;
  const [row] = await db.select().from(stageRuns).where(and(eq(stageRuns.runId, runId), eq(stageRuns.stageKey, stageKey)));
  if (!row) return { run, stage: null } as const;
  const inputs = Object.fromEntries(
    Object.entries(row.inputs).map(([name, binding]) => {
      const producer = run.stages.find((s) => s.stage === binding.stage);
      return [name, { from: { stage: binding.stage, output: binding.output }, type: binding.type, artifact: producer?.outputs[binding.output] ?? null }];
    }),
  );
  return {
    run,
    stage: {
      ...stage,
      runId,
      inputs,
      cacheKey: row.cacheKey,
      cacheComponents: row.cacheComponents ?? null,
      links: {
        self: `/v1/runs/${runId}/stages/${encodeURIComponent(stageKey)}`,
        logs: `/v1/runs/${runId}/stages/${encodeURIComponent(stageKey)}/logs`,
        run: `/v1/runs/${runId}`,
      },
    },
  } as const;
}

/** A stage's log lines across its attempts, oldest first (at most `limit`). */
export async function getStageLogs(db: Database, stageRunId: string, limit = 1000) {
  const rows = await db
    .select({ at: stageLogs.at, level: stageLogs.level, message: stageLogs.message, fields: stageLogs.fields, attempt: attempts.number })
    .from(stageLogs)
    .innerJoin(attempts, eq(attempts.id, stageLogs.attemptId))
    .where(eq(stageLogs.stageRunId, stageRunId))
    .orderBy(asc(stageLogs.id))
    .limit(limit);
  return { items: rows.map((r) => ({ ...r, at: r.at.toISOString(), fields: r.fields ?? null })) };
}
