import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { StageTestEnvironment } from '../testing/stage-test-environment.ts';
import { numericColumn, readTable, tableTarget } from '../table-io.ts';
import { createIngestPostgresStage, parseIsoTimestamp } from './ingest-postgres.ts';

// Provided by packages/testing/src/global-setup.ts (the ProvidedContext type lives there).
const databaseUrl = (inject as (key: string) => unknown)('pwDatabaseUrl') as string;
const schema = `pw_ingest_${randomBytes(6).toString('hex')}`;
let admin: pg.Client;
let env: StageTestEnvironment;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.query(`
    CREATE TABLE ${schema}.readings (
      id int8 PRIMARY KEY, sensor text, temp float8, pressure numeric(8,3), ok boolean, small int2,
      day date, at timestamp, at_tz timestamptz, extra jsonb)`);
  await admin.query(`
    INSERT INTO ${schema}.readings VALUES
      (1, 'a', 20.5, 1013.250, true, 3, '2024-02-29', '2024-02-29 13:14:15.123', '2024-02-29 13:14:15.5+02', '{"k": [1, 2]}'),
      (2, 'b', NULL, 999.001, false, -1, '1999-12-31', '1999-12-31 23:59:59', '1999-12-31 23:59:59-05', NULL),
      (3, NULL, -4.25, NULL, NULL, NULL, NULL, NULL, NULL, '"s"')`);
  await admin.query(`CREATE TABLE ${schema}.many AS SELECT g AS i, g % 2 AS y FROM generate_series(1, 2500) g`);
  await admin.query(`CREATE SEQUENCE ${schema}.seq`);
  env = await StageTestEnvironment.create();
});
afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
  await env.dispose();
});

const stage = (options: Parameters<typeof createIngestPostgresStage>[0] = {}) =>
  createIngestPostgresStage({ connections: { test: databaseUrl }, ...options });

describe('ingest.postgres@1', () => {
  it('reads a query into typed columns: numbers, booleans, text, timestamps as UTC', async () => {
    const run = await env.run(stage(), {
      params: { connection: 'test', query: `SELECT * FROM ${schema}.readings ORDER BY id`, target: 'ok' },
    });
    const table = await readTable(env.store, run.outputs.data!);
    expect(table.schema.names).toEqual(['id', 'sensor', 'temp', 'pressure', 'ok', 'small', 'day', 'at', 'at_tz', 'extra']);
    expect(numericColumn(table, 'id')).toEqual([1, 2, 3]);
    expect(numericColumn(table, 'temp')).toEqual([20.5, null, -4.25]);
    expect(numericColumn(table, 'pressure')).toEqual([1013.25, 999.001, null]);
    expect(numericColumn(table, 'ok')).toEqual([1, 0, null]);
    expect(numericColumn(table, 'small')).toEqual([3, -1, null]);
    expect(table.getChild('sensor')!.toArray()).toEqual(['a', 'b', null]);
    expect(table.getChild('extra')!.toArray()).toEqual(['{"k": [1, 2]}', null, '"s"']);
    expect(String(table.getChild('at_tz')!.type)).toBe('Timestamp<MILLISECOND, UTC>');
    expect([...table.getChild('day')!]).toEqual([Date.UTC(2024, 1, 29), Date.UTC(1999, 11, 31), null]);
    expect([...table.getChild('at')!]).toEqual([Date.UTC(2024, 1, 29, 13, 14, 15, 123), Date.UTC(1999, 11, 31, 23, 59, 59), null]);
    expect([...table.getChild('at_tz')!]).toEqual([Date.UTC(2024, 1, 29, 11, 14, 15, 500), Date.UTC(2000, 0, 1, 4, 59, 59), null]);
    expect(tableTarget(table)).toBe('ok');
    expect(run.outputs.data!.metadata).toMatchObject({ rows: 3, source: { connection: 'test' } });
  });

  it('streams through the cursor in fetchSize batches and binds $n params', async () => {
    const run = await env.run(stage(), {
      params: { connection: 'test', query: `SELECT i, y FROM ${schema}.many WHERE i > $1 ORDER BY i;`, params: [500], target: 'y', fetchSize: 300 },
    });
    const table = await readTable(env.store, run.outputs.data!);
    expect(table.numRows).toBe(2000);
    const i = numericColumn(table, 'i');
    expect(i[0]).toBe(501);
    expect(i[1999]).toBe(2500);
  });

  it('fails rather than truncates past maxRows', async () => {
    await expect(
      env.run(stage(), { params: { connection: 'test', query: `SELECT * FROM ${schema}.many`, target: 'y', maxRows: 2499, fetchSize: 1000 } }),
    ).rejects.toMatchObject({ code: 'PW_ERR_BAD_DATA', retryable: false, message: expect.stringMatching(/maxRows/) });
  });

  it('cannot write: statements other than SELECT, stacked statements, writing CTEs and functions are refused', async () => {
    const attempts = [
      `DELETE FROM ${schema}.many RETURNING *`,
      `SELECT 1 AS y; DELETE FROM ${schema}.many`,
      `SELECT 1 AS y; COMMIT; DELETE FROM ${schema}.many`,
      `WITH d AS (DELETE FROM ${schema}.many RETURNING *) SELECT * FROM d`,
      `SELECT nextval('${schema}.seq') AS y`,
      `SELECT * FROM ${schema}.many FOR UPDATE`,
    ];
    for (const query of attempts) {
      await expect(env.run(stage(), { params: { connection: 'test', query, target: 'y' } }), query).rejects.toMatchObject({
        code: 'PW_ERR_BAD_PARAMS',
        retryable: false,
      });
    }
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.many`);
    expect(rows[0].n).toBe(2500);
    const seq = await admin.query(`SELECT last_value, is_called FROM ${schema}.seq`);
    expect(seq.rows[0].is_called).toBe(false);
  });

  it('applies the statement timeout', async () => {
    const started = Date.now();
    await expect(
      env.run(stage(), { params: { connection: 'test', query: 'SELECT pg_sleep(5) AS y', target: 'y', statementTimeoutMs: 200 } }),
    ).rejects.toMatchObject({ code: 'PW_ERR_BAD_PARAMS', message: expect.stringMatching(/statement timeout/) });
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('takes URLs only when the worker allows them, and names only configured connections', async () => {
    await expect(env.run(stage(), { params: { url: databaseUrl, query: 'SELECT 1 AS y', target: 'y' } })).rejects.toMatchObject({
      code: 'PW_ERR_BAD_PARAMS',
    });
    await expect(env.run(stage(), { params: { connection: 'prod', query: 'SELECT 1 AS y', target: 'y' } })).rejects.toMatchObject({
      code: 'PW_ERR_BAD_PARAMS',
    });
    const run = await env.run(stage({ allowUrls: true }), { params: { url: databaseUrl, query: 'SELECT 1 AS y, 2 AS x', target: 'y' } });
    expect(run.metrics).toEqual({ rows: 1, columns: 2 });
    expect(stage().params.safeParse({ query: 'SELECT 1', target: 'y' }).success).toBe(false);
    expect(stage().params.safeParse({ connection: 'test', url: databaseUrl, query: 'SELECT 1', target: 'y' }).success).toBe(false);
  });

  it('reports an unreachable server as retryable, a missing target or no rows as bad data', async () => {
    const down = createIngestPostgresStage({ connections: { down: 'postgres://postgres@127.0.0.1:1/none' } });
    await expect(env.run(down, { params: { connection: 'down', query: 'SELECT 1 AS y', target: 'y' } })).rejects.toMatchObject({
      retryable: true,
    });
    await expect(env.run(stage(), { params: { connection: 'test', query: 'SELECT 1 AS x', target: 'y' } })).rejects.toMatchObject({
      code: 'PW_ERR_BAD_DATA',
    });
    await expect(env.run(stage(), { params: { connection: 'test', query: 'SELECT 1 AS y WHERE false', target: 'y' } })).rejects.toMatchObject({
      code: 'PW_ERR_BAD_DATA',
    });
    await expect(env.run(stage(), { params: { connection: 'test', query: 'SELECT 1 AS y, 2 AS y', target: 'y' } })).rejects.toMatchObject({
      code: 'PW_ERR_BAD_DATA',
    });
  });

  it('parses Postgres ISO timestamps, BC years and infinity', () => {
    expect(parseIsoTimestamp('2024-01-02')).toBe(Date.UTC(2024, 0, 2));
    expect(parseIsoTimestamp('2024-01-02 03:04:05.678+05:30')).toBe(Date.UTC(2024, 0, 1, 21, 34, 5, 678));
    expect(parseIsoTimestamp('0044-03-15 BC')).toBe(new Date('-000043-03-15T00:00:00Z').getTime());
    expect(parseIsoTimestamp('0099-01-01')).toBe(new Date('0099-01-01T00:00:00Z').getTime());
    expect(parseIsoTimestamp('infinity')).toBeNaN();
  });
});
