import type { StageFailure } from '@pipewright/core';
import { executeRows, sql, type Database } from '@pipewright/db';

/**
 * Attempts that failed (or were lost with their worker) in the last `minutes`, newest first, at
 * most `limit`, and how many there were per error code. Reads failed attempts through
 * attempts_status_idx: they are few next to the succeeded ones.
 */
export async function recentFailures(db: Database, minutes: number, limit: number, now: Date = new Date()) {
  const since = new Date(now.getTime() - minutes * 60_000);
  /*
   * In: since, limit. Out: the newest failed/lost attempts finished since then, with their
   * stage and run. Locks nothing.
   */
  const rows = await executeRows<{
    attempt_id: string;
    run_id: string;
    pipeline: string;
    stage: string;
    uses: string;
    number: number;
    status: string;
    worker_id: string | null;
    host: string | null;
    error: StageFailure | null;
    finished_at: string;
  }>(
    db,
    sql`select a.id as attempt_id, a.run_id, r.pipeline_name as pipeline, s.stage_key as stage, s.uses, a.number, a.status,
               a.worker_id, a.host, a.error, to_char(a.finished_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as finished_at
          from attempts a
          join stage_runs s on s.id = a.stage_run_id
          join runs r on r.id = a.run_id
         where a.status in ('FAILED', 'LOST') and a.finished_at >= ${since}
         order by a.finished_at desc, a.id desc
         limit ${limit + 1}`,
  );
  const [counted] = await executeRows<{ codes: Record<string, number> | null; total: number }>(
    db,
    sql`select coalesce(jsonb_object_agg(code, n), '{}'::jsonb) as codes, coalesce(sum(n), 0)::int as total
          from (select coalesce(error->>'code', 'none') as code, count(*)::int as n
                  from attempts
                 where status in ('FAILED', 'LOST') and finished_at >= ${since}
                 group by 1) c`,
  );
  const page = rows.slice(0, limit);
  return {
    minutes,
    since: since.toISOString(),
    total: counted?.total ?? page.length,
    byCode: counted?.codes ?? {},
    truncated: rows.length > limit,
    items: page.map((r) => ({
      runId: r.run_id,
      pipeline: r.pipeline,
      stage: r.stage,
      uses: r.uses,
      attempt: r.number,
      attemptId: r.attempt_id,
      status: r.status,
      code: r.error?.code ?? null,
      message: r.error?.message ?? null,
      retryable: r.error?.retryable ?? null,
      workerId: r.worker_id,
      host: r.host,
      at: r.finished_at,
    })),
  };
}
