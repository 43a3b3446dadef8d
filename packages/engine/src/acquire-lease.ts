import { sql, executeRows, type Database } from '@pipewright/db';

/**
 * Takes or renews the lease `name` for `holder` for `ttlMs`, by the database's clock. Returns
 * whether `holder` holds it now. One statement: insert it, or take it over when it expired or is
 * already ours. A holder that stops renewing (killed) loses it after `ttlMs`.
 */
export async function acquireLease(db: Database, name: string, holder: string, ttlMs: number): Promise<boolean> {
  const rows = await executeRows<{ holder: string }>(
    db,
    sql`insert into leases (name, holder, expires_at)
        values (${name}, ${holder}, now() + make_interval(secs => ${ttlMs / 1000}))
        on conflict (name) do update
          set holder = excluded.holder, expires_at = excluded.expires_at
          where leases.expires_at < now() or leases.holder = excluded.holder
        returning holder`,
  );
  return rows.length === 1 && rows[0]?.holder === holder;
}

/** Gives the lease up at once (on shutdown), so another holder need not wait for expiry. */
export async function releaseLease(db: Database, name: string, holder: string): Promise<void> {
  await db.execute(sql`delete from leases where name = ${name} and holder = ${holder}`);
}
