import { executeRows, pipelines, sql } from '@pipewright/db';
import pg from 'pg';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './create-test-database.ts';

let a: TestDatabase;
let b: TestDatabase;
beforeAll(async () => {
  [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
});
afterAll(async () => {
  await Promise.all([a.drop(), b.drop()]);
});

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: inject('pwDatabaseUrl') });
  await client.connect();
  try {
    return ((await client.query('select 1 from pg_database where datname = $1', [name])).rowCount ?? 0) > 0;
  } finally {
    await client.end();
  }
}

it('gives each caller its own migrated, empty database', async () => {
  expect(a.name).not.toBe(b.name);
  expect(a.handle.kind).toBe('pg');
  expect(await a.handle.db.select().from(pipelines)).toEqual([]);
  const migrations = await executeRows<{ n: number }>(a.handle.db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
  expect(migrations[0]?.n).toBeGreaterThan(0);
});

it('isolates the databases from each other', async () => {
  await a.handle.db
    .insert(pipelines)
    .values({ id: crypto.randomUUID(), name: 'only-in-a', version: 1, specDigest: 'd', spec: {} });
  expect(await a.handle.db.select().from(pipelines)).toHaveLength(1);
  expect(await b.handle.db.select().from(pipelines)).toHaveLength(0);
});

it('exposes a URL that other connections (a service under test) can use', async () => {
  const client = new pg.Client({ connectionString: a.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ db: string }>('select current_database() as db');
    expect(rows[0]?.db).toBe(a.name);
  } finally {
    await client.end();
  }
});

it('drop() closes, drops even with other sessions open, and is idempotent', async () => {
  const c = await createTestDatabase();
  const intruder = new pg.Client({ connectionString: c.url });
  intruder.on('error', () => {}); // it is about to be terminated by DROP … WITH (FORCE)
  await intruder.connect();
  expect(await databaseExists(c.name)).toBe(true);
  await c.drop();
  await c.drop();
  expect(await databaseExists(c.name)).toBe(false);
  await expect(c.handle.ping()).rejects.toThrow();
  await intruder.end().catch(() => {});
});
