import { RUN_STATUSES, type RunStatus } from '@pipewright/core';
import { executeRows, sql, type Database } from '@pipewright/db';

const HOUR_MS = 3_600_000;

/**
 * Runs created in each of the last `hours` hours (UTC, the current hour last), counted by their
 * status now. Every hour is present, with zeros. Reads the window by the runs_created_idx range.
 */
export async function runStatsByHour(db: Database, hours: number, now: Date = new Date()) {
  const last = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
  const from = new Date(last - (hours - 1) * HOUR_MS);
  /*
   * In: from (an hour boundary). Out: one row per (hour, status) with runs created in it.
   * Locks nothing.
   */
  const rows = await executeRows<{ hour: string; status: RunStatus; n: number }>(
    db,
    sql`select to_char(date_trunc('hour', created_at at time zone 'UTC'), 'YYYY-MM-DD"T"HH24:00:00.000"Z"') as hour,
               status, count(*)::int as n
          from runs
         where created_at >= ${from}
         group by 1, 2`,
  );
  const zero = () => Object.fromEntries(RUN_STATUSES.map((s) => [s, 0])) as Record<RunStatus, number>;
  const buckets = Array.from({ length: hours }, (_, i) => ({ start: new Date(from.getTime() + i * HOUR_MS).toISOString(), counts: zero(), total: 0 }));
  const byStart = new Map(buckets.map((b) => [b.start, b]));
  const totals = zero();
  for (const row of rows) {
    const bucket = byStart.get(row.hour);
    if (!bucket) continue;
    bucket.counts[row.status] = (bucket.counts[row.status] ?? 0) + row.n;
    bucket.total += row.n;
    totals[row.status] = (totals[row.status] ?? 0) + row.n;
  }
  return { from: from.toISOString(), to: new Date(last + HOUR_MS).toISOString(), bucketMinutes: 60, buckets, totals };
}
