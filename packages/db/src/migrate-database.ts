import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { driverOf, type DatabaseHandle } from './open-database.ts';

/** The committed drizzle-kit output, next to `src/`; resolved from this file so any cwd works. */
export const migrationsFolder = fileURLToPath(new URL('../migrations', import.meta.url));

/**
 * Key of the session advisory lock that serializes migrations across processes. A fixed
 * constant (ASCII "pw-migr") so every Pipewright process agrees on it.
 */
export const MIGRATION_LOCK_KEY = 0x70772d6d696772n;

/**
 * Applies every committed migration not yet applied. Safe to call from many processes at once
 * against the same Postgres: drizzle's migrator creates its bookkeeping schema and table outside
 * its transaction, so two unserialized runs can collide; we hold a session advisory lock on one
 * dedicated connection for the whole run, and the second process finds nothing left to do.
 * PGlite is a single in-process connection, so it needs no lock.
 */
export async function migrateDatabase(handle: DatabaseHandle): Promise<void> {
  const driver = driverOf(handle);
  if (driver.kind === 'pglite') {
    await migratePglite(drizzlePglite({ client: driver.client }), { migrationsFolder });
    return;
  }
  // One PoolClient for lock, migration and unlock: drizzle on a PoolClient runs its transaction
  // on that same connection, so the lock really covers it.
  const client = await driver.pool.connect();
  let broken = false;
  try {
    // Contract: blocks until no other process is migrating; held until the unlock below or until
    // this connection ends, so a crashed migrator cannot wedge the others.
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    try {
      await migrateNodePg(drizzleNodePg({ client }), { migrationsFolder });
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]);
    }
  } catch (error) {
    broken = true;
    throw error;
  } finally {
    // A connection in an unknown state is destroyed rather than returned, which also frees the lock.
    client.release(broken);
  }
}

/**
 * A digest of the migration files (journal and SQL). Equal digests mean equal migrated schemas,
 * which is what lets test fixtures reuse a template database across runs.
 */
export function migrationsDigest(): string {
  const hash = createHash('sha256');
  const files = [
    'meta/_journal.json',
    ...readdirSync(migrationsFolder)
      .filter((name) => name.endsWith('.sql'))
      .sort(),
  ];
  for (const file of files) {
    hash.update(file).update('\0').update(readFileSync(join(migrationsFolder, file))).update('\0');
  }
  return hash.digest('hex');
}
