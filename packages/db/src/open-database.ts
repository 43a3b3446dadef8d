import { PGlite } from '@electric-sql/pglite';
import type { Logger } from 'drizzle-orm';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import type { ExtractTablesWithRelations } from 'drizzle-orm/relations';
import pg from 'pg';
import * as schema from './schema.ts';

/**
 * The database every repository and service takes. Both drivers (node-postgres and PGlite)
 * satisfy it, so code written against it runs unchanged on either. The query-result kind is the
 * drivers' common supertype: raw `db.execute()` results are `unknown`; use the query builder, or
 * read `.rows`, which both drivers return.
 */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

/** The `tx` a `db.transaction(async (tx) => …)` callback receives. It is also a {@link Database}. */
export type DatabaseTransaction = PgTransaction<PgQueryResultHKT, typeof schema, ExtractTablesWithRelations<typeof schema>>;

/** Where the database lives. */
export type DatabaseLocation =
  /** A real PostgreSQL server, e.g. `postgres://user@host:5432/db`. */
  | { url: string }
  /** An embedded PGlite database persisted in this directory (created when absent). */
  | { pgliteDir: string }
  /** An embedded PGlite database in memory, gone when closed. For tests and demos. */
  | { inMemory: true };

export interface OpenDatabaseOptions {
  /**
   * Maximum connections in the node-postgres pool. Ignored for PGlite, which has one.
   * @defaultValue 10
   */
  poolSize?: number;
  /**
   * drizzle query logging: `true` logs every query to the console, or pass a drizzle `Logger`.
   * @defaultValue false
   */
  logger?: boolean | Logger;
}

/** An open database and the means to check and release it. */
export interface DatabaseHandle {
  db: Database;
  kind: 'pg' | 'pglite';
  /** Ends the pool or closes PGlite. Idempotent. */
  close(): Promise<void>;
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
}

/**
 * What `migrateDatabase` needs beyond the public handle: the raw client, so that it can hold an
 * advisory lock on one dedicated connection. Kept off the handle so nobody else reaches around
 * drizzle.
 */
export type DatabaseDriver = { kind: 'pg'; pool: pg.Pool } | { kind: 'pglite'; client: PGlite };

const drivers = new WeakMap<DatabaseHandle, DatabaseDriver>();

/** @internal The driver behind a handle opened by {@link openDatabase}. */
export function driverOf(handle: DatabaseHandle): DatabaseDriver {
  const driver = drivers.get(handle);
  if (driver === undefined) throw new Error('not a DatabaseHandle returned by openDatabase()');
  return driver;
}

/**
 * Set on every connection (unless the URL brings its own `options`). Pipewright's statements are
 * short and index-driven. When a young or fast-growing table's statistics are stale, Postgres'
 * cost estimates can pass `jit_above_cost` or the parallel-plan thresholds: in the throughput
 * benchmark a dependents read of 5 ms spent 80 ms compiling itself (JIT), and others 10 ms
 * starting a parallel worker.
 */
export const OLTP_SESSION_OPTIONS = '-c jit=off -c max_parallel_workers_per_gather=0';

/**
 * Opens a database: node-postgres for a URL, PGlite for a directory or in memory. It does not
 * migrate; call `migrateDatabase(handle)` for that.
 */
export async function openDatabase(location: DatabaseLocation, opts: OpenDatabaseOptions = {}): Promise<DatabaseHandle> {
  const logger = opts.logger ?? false;
  let handle: DatabaseHandle;
  let driver: DatabaseDriver;

  if ('url' in location) {
    const ownOptions = /[?&]options=/.test(location.url);
    const pool = new pg.Pool({ connectionString: location.url, max: opts.poolSize ?? 10, ...(ownOptions ? {} : { options: OLTP_SESSION_OPTIONS }) });
    // An idle client whose connection dies (server restart, a test dropping its database WITH
    // (FORCE)) makes the pool emit 'error'; unhandled, that kills the process. pg has already
    // evicted the client, and the next query opens a fresh connection or fails with the cause.
    pool.on('error', () => {});
    const db: Database = drizzleNodePg({ client: pool, schema, logger });
    let closed: Promise<void> | undefined;
    handle = {
      db,
      kind: 'pg',
      close: () => (closed ??= pool.end()),
      ping: async () => {
        await pool.query('select 1');
      },
    };
    driver = { kind: 'pg', pool };
  } else {
    const client = 'pgliteDir' in location ? new PGlite(location.pgliteDir) : new PGlite();
    await client.waitReady;
    const db: Database = drizzlePglite({ client, schema, logger });
    let closed: Promise<void> | undefined;
    handle = {
      db,
      kind: 'pglite',
      close: () => (closed ??= client.closed ? Promise.resolve() : client.close()),
      ping: async () => {
        await client.query('select 1');
      },
    };
    driver = { kind: 'pglite', client };
  }

  drivers.set(handle, driver);
  return handle;
}
