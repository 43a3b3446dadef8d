import { asc, attempts, eq, metrics, stageRuns, type Database } from '@pipewright/db';

/** Metric series per stage attempt (live while it runs) and each stage's final metrics. */
export async function getRunMetrics(db: Database, runId: string) {
  const rows = await db
    .select({
      stage: stageRuns.stageKey,
      attempt: attempts.number,
      attemptId: metrics.attemptId,
      kind: metrics.kind,
      name: metrics.name,
      step: metrics.step,
      value: metrics.value,
      recordedAt: metrics.recordedAt,
    })
    .from(metrics)
    .innerJoin(stageRuns, eq(stageRuns.id, metrics.stageRunId))
    .innerJoin(attempts, eq(attempts.id, metrics.attemptId))
    .where(eq(metrics.runId, runId))
    .orderBy(asc(stageRuns.position), asc(attempts.number), asc(metrics.name), asc(metrics.step));
  const series = new Map<string, { stage: string; attempt: number; attemptId: string; name: string; points: { step: number; value: number; recordedAt: string }[] }>();
  const final: Record<string, Record<string, number>> = {};
  for (const r of rows) {
    if (r.kind === 'final') {
      (final[r.stage] ??= {})[r.name] = r.value;
      continue;
    }
    const key = `${r.attemptId}/${r.name}`;
    let s = series.get(key);
    if (!s) {
      s = { stage: r.stage, attempt: r.attempt, attemptId: r.attemptId, name: r.name, points: [] };
      series.set(key, s);
    }
    s.points.push({ step: r.step, value: r.value, recordedAt: r.recordedAt.toISOString() });
  }
  return { runId, series: [...series.values()], final };
}
