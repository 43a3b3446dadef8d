import pg from 'pg';
import { migrateDatabase, openDatabase, type DatabaseHandle, type OpenDatabaseOptions } from '@pipewright/db';
import { RUN_ID, SERVER_URL, type BenchContext } from './context.ts';

export interface BenchDatabase {
  name: string;
  url: string;
}

/** The same server URL pointing at another database. */
export function databaseUrlFor(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(statement: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
  const client = new pg.Client({ connectionString: SERVER_URL });
  await client.connect();
  try {
    return await client.query<R>(statement, params);
  } finally {
    await client.end();
  }
}

/**
 * Creates `pw_bench_<run>_<label>` (optionally migrated with migrateDatabase) and registers its
 * DROP … WITH (FORCE) with the benchmark's cleanup.
 */
export async function createBenchDatabase(ctx: BenchContext, label: string, options: { migrate?: boolean } = {}): Promise<BenchDatabase> {
  const name = `pw_bench_${RUN_ID}_${label}`.toLowerCase();
  await adminQuery(`create database ${quoteIdent(name)}`);
  ctx.defer(`drop database ${name}`, () => adminQuery(`drop database if exists ${quoteIdent(name)} with (force)`));
  const url = databaseUrlFor(SERVER_URL, name);
  if (options.migrate !== false) {
    const handle = await openDatabase({ url }, { poolSize: 1 });
    try {
      await migrateDatabase(handle);
    } finally {
      await handle.close();
    }
  }
  return { name, url };
}

/** Opens a drizzle handle on a bench database; closed by the benchmark's cleanup. */
export async function openBenchDatabase(ctx: BenchContext, db: BenchDatabase, options: OpenDatabaseOptions = {}): Promise<DatabaseHandle> {
  const handle = await openDatabase({ url: db.url }, options);
  ctx.defer(`close pool on ${db.name}`, () => handle.close());
  return handle;
}

/** A plain node-postgres pool on a bench database; ended by the benchmark's cleanup. */
export function benchPool(ctx: BenchContext, db: BenchDatabase, max = 4): pg.Pool {
  const pool = new pg.Pool({ connectionString: db.url, max });
  pool.on('error', () => {});
  ctx.defer(`end pool on ${db.name}`, () => pool.end());
  return pool;
}

/** Drops bench databases left by runs that were killed (older than an hour). */
export async function dropStaleBenchDatabases(): Promise<string[]> {
  const { rows } = await adminQuery<{ datname: string }>(`select datname from pg_database where datname like 'pw\\_bench\\_%'`);
  const dropped: string[] = [];
  for (const { datname } of rows) {
    const match = /^pw_bench_([0-9a-z]+?)([0-9a-f]{4})_/.exec(datname);
    const started = match ? Number.parseInt(match[1]!, 36) : Number.NaN;
    if (!Number.isFinite(started) || Date.now() - started < 3600_000) continue;
    await adminQuery(`drop database if exists ${quoteIdent(datname)} with (force)`);
    dropped.push(datname);
  }
  return dropped;
}
