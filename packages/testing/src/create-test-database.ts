import { openDatabase, type DatabaseHandle, type OpenDatabaseOptions } from '@pipewright/db';
import pg from 'pg';
import { databaseUrlFor, quoteIdent } from './database-url.ts';
import { provided } from './provided.ts';
import { testDatabaseName } from './template-database.ts';

/** A migrated database of its own for one test file. */
export interface TestDatabase {
  /** Connection URL, for code under test that opens its own connections (a service, a child process). */
  url: string;
  name: string;
  /** An open handle on it (node-postgres). */
  handle: DatabaseHandle;
  /** Closes the handle and drops the database, ending any other session on it. Idempotent. */
  drop(): Promise<void>;
}

/**
 * Creates a fresh database cloned from the migrated template the global setup built, and opens
 * it. Cloning takes tens of milliseconds, so give each test file (or each test that needs a clean
 * slate) its own: tests then run in parallel without seeing each other's rows.
 *
 * ```ts
 * let testDb: TestDatabase;
 * beforeAll(async () => { testDb = await createTestDatabase(); });
 * afterAll(() => testDb.drop());
 * ```
 * A database a test forgets to drop is dropped when the vitest run ends.
 */
export async function createTestDatabase(opts: OpenDatabaseOptions = {}): Promise<TestDatabase> {
  const serverUrl = provided('pwDatabaseUrl');
  const template = provided('pwTemplateDatabase');
  const name = testDatabaseName(provided('pwRunId'));
  await adminQuery(serverUrl, `create database ${quoteIdent(name)} template ${quoteIdent(template)}`);
  const url = databaseUrlFor(serverUrl, name);
  let handle: DatabaseHandle;
  try {
    handle = await openDatabase({ url }, { poolSize: 5, ...opts });
  } catch (error) {
    await adminQuery(serverUrl, `drop database if exists ${quoteIdent(name)} with (force)`);
    throw error;
  }
  let dropped: Promise<void> | undefined;
  const drop = () =>
    (dropped ??= (async () => {
      await handle.close();
      await adminQuery(serverUrl, `drop database if exists ${quoteIdent(name)} with (force)`);
    })());
  return { url, name, handle, drop };
}

async function adminQuery(serverUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
