import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { migrateDatabase, migrationsDigest, openDatabase } from '@pipewright/db';
import pg from 'pg';
import { databaseUrlFor, quoteIdent } from './database-url.ts';

/** Advisory lock key (ASCII "pw-tmpl") that serializes template builds across vitest processes. */
const TEMPLATE_LOCK_KEY = 0x70772d746d706cn.toString();

/** Test databases are named `pw_test_<runId>_<random>`; the run id starts with its start time. */
const TEST_DATABASE_PREFIX = 'pw_test_';

/** Test databases of runs older than this are presumed abandoned (a killed vitest) and dropped. */
const STALE_AFTER_MS = 6 * 60 * 60 * 1000;

/** The template for the current migrations: its name changes whenever a migration file does. */
export function templateDatabaseName(): string {
  return `pw_template_${migrationsDigest().slice(0, 16)}`;
}

/**
 * Makes sure the migrated template database for the current migrations exists on the server
 * and returns its name. Built once and reused by later runs (graphile-worker's approach: cloning
 * a template is far cheaper than migrating a database per test file).
 *
 * Safe to call from several processes at once: a session advisory lock serializes builders, the
 * template is built under a temporary name and renamed only once migrated, so a crash mid-build
 * never leaves a half-migrated template under the real name. The template refuses connections,
 * because `CREATE DATABASE … TEMPLATE` fails while anyone is connected to the source.
 */
export async function ensureTemplateDatabase(serverUrl: string): Promise<string> {
  const name = templateDatabaseName();
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query('select pg_advisory_lock($1)', [TEMPLATE_LOCK_KEY]);
    if (await databaseExists(admin, name)) return name;

    const building = `${name}_building`;
    await admin.query(`drop database if exists ${quoteIdent(building)} with (force)`);
    await admin.query(`create database ${quoteIdent(building)}`);
    const handle = await openDatabase({ url: databaseUrlFor(serverUrl, building) }, { poolSize: 1 });
    try {
      await migrateDatabase(handle);
    } finally {
      await handle.close();
    }
    // The pool has closed its socket, but the server backend may take a moment to exit, and a
    // database with a session cannot be renamed.
    await retry(() => admin.query(`alter database ${quoteIdent(building)} rename to ${quoteIdent(name)}`));
    await admin.query(`alter database ${quoteIdent(name)} with is_template true allow_connections false`);
    return name;
  } finally {
    // Ending the session releases the advisory lock too.
    await admin.end();
  }
}

/** A fresh run id: base-36 start time then randomness, so stale runs can be recognized by age. */
export function newRunId(now = Date.now()): string {
  return `${now.toString(36).padStart(9, '0')}${randomBytes(3).toString('hex')}`;
}

/** The name for a new test database of this run. At most 63 bytes, Postgres' identifier limit. */
export function testDatabaseName(runId: string): string {
  return `${TEST_DATABASE_PREFIX}${runId}_${randomBytes(6).toString('hex')}`;
}

/**
 * Drops the test databases of `runId` (the ones whose test file did not drop them, e.g. after a
 * failure) and those of runs that started more than six hours ago (a vitest that was killed).
 */
export async function dropLeftoverTestDatabases(serverUrl: string, runId: string | undefined, now = Date.now()): Promise<string[]> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>(
      `select datname from pg_database where datname like 'pw\\_test\\_%'`,
    );
    const dropped: string[] = [];
    for (const { datname } of rows) {
      const match = /^pw_test_([0-9a-z]{9})([0-9a-f]{6})_[0-9a-f]+$/.exec(datname);
      if (match === null) continue;
      const started = Number.parseInt(match[1] ?? '', 36);
      const ours = runId !== undefined && `${match[1]}${match[2]}` === runId;
      if (!ours && now - started < STALE_AFTER_MS) continue;
      await admin.query(`drop database if exists ${quoteIdent(datname)} with (force)`);
      dropped.push(datname);
    }
    return dropped;
  } finally {
    await admin.end();
  }
}

async function databaseExists(client: pg.Client, name: string): Promise<boolean> {
  const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
  return (rowCount ?? 0) > 0;
}

async function retry<T>(fn: () => Promise<T>, attempts = 50, delayMs = 100): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (error) {
      // 55006 object_in_use: "database … is being accessed by other users".
      if (i >= attempts || (error as { code?: string }).code !== '55006') throw error;
      await sleep(delayMs);
    }
  }
}
