import type { SQL } from 'drizzle-orm';
import type { Database } from './open-database.ts';

/**
 * Runs raw SQL and returns its rows, on either driver. `db.execute()` is typed `unknown` on the
 * common {@link Database} type because the drivers' result objects differ; both carry `rows`
 * (objects keyed by column name), which is all this reads. The row type is the caller's claim:
 * cast in SQL (`::text`, `::int`) where drivers could disagree (bigint is a string on
 * node-postgres).
 */
export async function executeRows<TRow extends Record<string, unknown>>(db: Database, query: SQL): Promise<TRow[]> {
  const result = (await db.execute(query)) as { rows?: TRow[] };
  if (!Array.isArray(result.rows)) throw new Error('database driver returned no rows array');
  return result.rows;
}
