import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dumpSchema } from './dump-schema.ts';
import { executeRows } from './execute-rows.ts';
import { and, desc, eq, pipelines, runs, schema, sql } from './index.ts';
import { migrateDatabase, migrationsFolder } from './migrate-database.ts';
import { openDatabase, type Database, type DatabaseHandle } from './open-database.ts';
import { readSchemaFile, renderSchemaFile, schemaDumpCommand } from './schema-file.ts';

/** A run of writes and reads every driver must round-trip identically. */
async function roundTrip(db: Database): Promise<void> {
  const pipelineId = randomUUID();
  const runId = randomUUID();
  await db.insert(pipelines).values({
    id: pipelineId,
    name: 'iris',
    version: 1,
    specDigest: 'sha256:abc',
    spec: { apiVersion: 'pipewright/v1', stages: [] },
  });
  await db.insert(runs).values({ id: runId, pipelineId, pipelineName: 'iris', status: 'QUEUED', params: { testSize: 0.3 } });

  const [row] = await db
    .select()
    .from(runs)
    .where(and(eq(runs.pipelineName, 'iris'), eq(runs.id, runId)))
    .orderBy(desc(runs.createdAt));
  expect(row).toMatchObject({ id: runId, pipelineId, status: 'QUEUED', params: { testSize: 0.3 }, error: null, startedAt: null });
  expect(row?.createdAt).toBeInstanceOf(Date);

  // The relational API sees the schema on both drivers.
  const pipeline = await db.query.pipelines.findFirst({ where: eq(schema.pipelines.id, pipelineId) });
  expect(pipeline?.spec).toEqual({ apiVersion: 'pipewright/v1', stages: [] });

  // A failed transaction leaves nothing behind.
  await expect(
    db.transaction(async (tx) => {
      await tx.update(runs).set({ status: 'RUNNING' }).where(eq(runs.id, runId));
      throw new Error('boom');
    }),
  ).rejects.toThrow('boom');
  const [after] = await db.select({ status: runs.status }).from(runs).where(eq(runs.id, runId));
  expect(after?.status).toBe('QUEUED');
}

describe('PGlite (in memory)', () => {
  let handle: DatabaseHandle;
  beforeAll(async () => {
    handle = await openDatabase({ inMemory: true });
  });
  afterAll(() => handle.close());

  it('applies the migrations, and applying them again is a no-op', async () => {
    expect(handle.kind).toBe('pglite');
    await migrateDatabase(handle);
    await migrateDatabase(handle);
    await handle.ping();
  });

  it('inserts and selects through drizzle', async () => {
    await roundTrip(handle.db);
  });
});

describe('node-postgres', () => {
  const serverUrl = inject('pwDatabaseUrl');
  const name = `pw_dbtest_${randomBytes(6).toString('hex')}`;
  const url = Object.assign(new URL(serverUrl), { pathname: `/${name}` }).toString();
  const handles: DatabaseHandle[] = [];

  async function admin(statement: string): Promise<void> {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    await admin(`create database "${name}"`);
    for (let i = 0; i < 3; i++) handles.push(await openDatabase({ url }, { poolSize: 2 }));
  });
  afterAll(async () => {
    await Promise.all(handles.map((h) => h.close()));
    await admin(`drop database if exists "${name}" with (force)`);
  });

  it('applies the migrations once when several processes migrate at the same time', async () => {
    await Promise.all(handles.map((h) => migrateDatabase(h)));
    const applied = await executeRows<{ n: number }>(handles[0]!.db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
    const journal = JSON.parse(readFileSync(join(migrationsFolder, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };
    expect(applied[0]?.n).toBe(journal.entries.length);
  });

  it('inserts and selects through drizzle', async () => {
    const handle = handles[0]!;
    expect(handle.kind).toBe('pg');
    await handle.ping();
    await roundTrip(handle.db);
  });

  it('produces the same schema as PGlite, the committed schema.sql', async () => {
    const dump = renderSchemaFile(await dumpSchema(handles[0]!.db));
    expect(dump, `packages/db/schema.sql is out of date; run \`${schemaDumpCommand}\``).toBe(readSchemaFile());
  });

  it('close() is idempotent and ping() fails afterwards', async () => {
    const handle = await openDatabase({ url }, { poolSize: 1 });
    await handle.close();
    await handle.close();
    await expect(handle.ping()).rejects.toThrow();
  });
});
