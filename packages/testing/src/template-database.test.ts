import { migrationsDigest } from '@pipewright/db';
import pg from 'pg';
import { expect, inject, it } from 'vitest';
import { databaseUrlFor, quoteIdent } from './database-url.ts';
import { dropLeftoverTestDatabases, ensureTemplateDatabase, newRunId, templateDatabaseName, testDatabaseName } from './template-database.ts';

const serverUrl = inject('pwDatabaseUrl');

async function query<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

it('names the template after the migrations, as the global setup provided it', () => {
  expect(templateDatabaseName()).toBe(`pw_template_${migrationsDigest().slice(0, 16)}`);
  expect(inject('pwTemplateDatabase')).toBe(templateDatabaseName());
});

it('is idempotent and safe to call concurrently', async () => {
  const names = await Promise.all([1, 2, 3].map(() => ensureTemplateDatabase(serverUrl)));
  expect(new Set(names)).toEqual(new Set([templateDatabaseName()]));
  const rows = await query<{ datistemplate: boolean; datallowconn: boolean }>(
    'select datistemplate, datallowconn from pg_database where datname = $1',
    [templateDatabaseName()],
  );
  expect(rows).toEqual([{ datistemplate: true, datallowconn: false }]);
  expect(await query('select 1 from pg_database where datname = $1', [`${templateDatabaseName()}_building`])).toEqual([]);
});

it('makes test database names that fit in a Postgres identifier', () => {
  const name = testDatabaseName(newRunId());
  expect(name).toMatch(/^pw_test_[0-9a-z]{9}[0-9a-f]{6}_[0-9a-f]{12}$/);
  expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
});

it('drops test databases of runs abandoned long ago, and leaves recent ones', async () => {
  const stale = testDatabaseName(newRunId(Date.now() - 7 * 60 * 60 * 1000));
  const recent = testDatabaseName(newRunId());
  await query(`create database ${quoteIdent(stale)}`);
  await query(`create database ${quoteIdent(recent)}`);
  try {
    const dropped = await dropLeftoverTestDatabases(serverUrl, undefined);
    expect(dropped).toContain(stale);
    expect(dropped).not.toContain(recent);
    expect(await query('select datname from pg_database where datname = any($1)', [[stale, recent]])).toEqual([{ datname: recent }]);
  } finally {
    await query(`drop database if exists ${quoteIdent(stale)} with (force)`);
    await query(`drop database if exists ${quoteIdent(recent)} with (force)`);
  }
});

it('databaseUrlFor swaps only the database', () => {
  expect(databaseUrlFor('postgres://u:p@h:5433/test?sslmode=disable', 'other')).toBe('postgres://u:p@h:5433/other?sslmode=disable');
});
