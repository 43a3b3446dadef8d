import { createHash } from 'node:crypto';
import pg from 'pg';
import { z } from 'zod';
import { StageError } from '@pipewright/core';
import { defineStage } from '../define-stage.ts';
import type { StageContext } from '../define-stage.ts';
import { sourceUnavailable } from '../source-unavailable.ts';
import { TableAccumulator } from '../table-accumulator.ts';
import { writeTable } from '../table-io.ts';

export interface IngestPostgresOptions {
  /**
   * Named databases a pipeline may query, as a connection string or a `pg` client config. Specs
   * name one (`connection: warehouse`), so no password ever sits in a spec, the run's params or a
   * cache key. Give the workers a role that can only read what pipelines should see.
   * @defaultValue none
   */
  connections?: Readonly<Record<string, string | pg.ClientConfig>>;
  /**
   * Whether a spec may pass a `url` instead of a connection name. Off by default: any submitter
   * could then reach every database the workers can reach, and the URL (with its password) is
   * stored with the run.
   * @defaultValue false
   */
  allowUrls?: boolean;
  /** Largest `maxRows` a pipeline may ask for. @defaultValue 10,000,000 */
  maxRowsLimit?: number;
  /** Longest `statementTimeoutMs` a pipeline may ask for. @defaultValue 1 hour */
  statementTimeoutMsLimit?: number;
}

/** Type OIDs read as numbers (booleans as 1/0). int8 and numeric lose precision past 2^53. */
const NUMERIC_OIDS = new Set([16, 20, 21, 23, 26, 700, 701, 1700]);
/** date, timestamp, timestamptz: read as UTC milliseconds. */
const TIMESTAMP_OIDS = new Set([1082, 1114, 1184]);

const CURSOR = 'pw_ingest';

/**
 * The session's text output parsed once per cell: numbers by Number(), booleans to 1/0,
 * date and time stamps by a small ISO parser (the session runs with TimeZone UTC and
 * DateStyle ISO), everything else (json, arrays, intervals, …) kept as Postgres' text.
 */
const TYPES = {
  getTypeParser(oid: number): (value: string) => unknown {
    if (oid === 16) return (v) => (v === 't' ? 1 : 0);
    if (NUMERIC_OIDS.has(oid)) return Number;
    if (TIMESTAMP_OIDS.has(oid)) return parseIsoTimestamp;
    return (v) => v;
  },
} as unknown as pg.CustomTypesConfig;

const ISO = /^(\d{4,})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d):(\d\d)(\.\d+)?)?(?:([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?)?( BC)?$/;

/** Postgres' ISO output (`2024-01-02`, `2024-01-02 03:04:05.123456+00`, `… BC`) as UTC ms; NaN for infinity. */
export function parseIsoTimestamp(text: string): number {
  const m = ISO.exec(text);
  if (!m) return Number.NaN;
  let year = Number(m[1]);
  if (m[12]) year = 1 - year;
  const date = new Date(0);
  date.setUTCFullYear(year, Number(m[2]) - 1, Number(m[3]));
  date.setUTCHours(Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), 0);
  let ms = date.getTime() + (m[7] ? Number(m[7]) * 1000 : 0);
  if (m[8]) {
    const offset = (Number(m[9]) * 3600 + Number(m[10] ?? 0) * 60 + Number(m[11] ?? 0)) * 1000;
    ms -= m[8] === '+' ? offset : -offset;
  }
  return ms;
}

/** `ingest.postgres@1` with the given named connections and limits. */
export function createIngestPostgresStage(options: IngestPostgresOptions = {}) {
  const connections = options.connections ?? {};
  const maxRowsLimit = options.maxRowsLimit ?? 10_000_000;
  const timeoutLimit = options.statementTimeoutMsLimit ?? 60 * 60_000;

  const params = z
    .strictObject({
      /** Name of a connection the worker was configured with. */
      connection: z.string().min(1).optional(),
      /** A postgres:// URL; only when the worker allows URLs. */
      url: z.string().regex(/^postgres(ql)?:\/\//, { error: 'must be a postgres:// or postgresql:// URL' }).optional(),
      /** One SELECT (or VALUES, or WITH … SELECT) statement; `$1`, `$2`… bind `params`. */
      query: z.string().min(1).max(100_000),
      /** Values for the query's `$n` placeholders. */
      params: z.array(z.union([z.string(), z.number(), z.boolean(), z.null()])).max(1000).default([]),
      /** Name of the column to predict. */
      target: z.string().min(1),
      /** The stage fails (rather than silently truncating) when the query returns more rows. */
      maxRows: z.int().min(1).max(maxRowsLimit).default(Math.min(1_000_000, maxRowsLimit)),
      /** Postgres statement_timeout of every statement, the cursor's fetches included. */
      statementTimeoutMs: z.int().min(1).max(timeoutLimit).default(Math.min(5 * 60_000, timeoutLimit)),
      /** Rows per FETCH from the server-side cursor. */
      fetchSize: z.int().min(1).max(100_000).default(10_000),
    })
    .refine((p) => (p.connection === undefined) !== (p.url === undefined), { error: 'give exactly one of connection and url' });

  return defineStage({
    type: 'ingest.postgres@1',
    description:
      'Runs one SELECT against Postgres in a READ ONLY transaction with a statement timeout, streams the rows ' +
      'through a server-side cursor into an Arrow table, and fails when there are more than maxRows. Numbers and ' +
      'booleans become Float64, date and time stamps UTC timestamps, everything else text.',
    inputs: {},
    outputs: { data: 'table' },
    params,
    defaultTimeoutMs: 60 * 60_000,
    async run(ctx) {
      const { config, label } = resolveConnection(ctx.params, connections, options.allowUrls ?? false);
      const table = await readQuery(ctx, config);
      const columns = table.schema.names;
      const { target } = ctx.params;
      if (!columns.includes(target)) {
        throw StageError.nonRetryable('PW_ERR_BAD_DATA', `target column ${target} is not in the query result (columns: ${columns.join(', ')})`, {
          target,
          columns,
        });
      }
      const source = {
        connection: label,
        querySha256: `sha256:${createHash('sha256').update(ctx.params.query).digest('hex')}`,
      };
      ctx.logger.info('ingested postgres', { ...source, rows: table.numRows, columns: columns.length });
      const data = await writeTable(ctx.store, table, { target, metadata: { source } });
      return { outputs: { data }, metrics: { rows: table.numRows, columns: columns.length } };
    },
  });
}

/** `ingest.postgres@1` with no named connections and URLs refused: configure it with createIngestPostgresStage. */
export const ingestPostgresStage = createIngestPostgresStage();

function resolveConnection(
  params: { connection?: string | undefined; url?: string | undefined },
  connections: Readonly<Record<string, string | pg.ClientConfig>>,
  allowUrls: boolean,
): { config: pg.ClientConfig; label: string } {
  if (params.url !== undefined) {
    if (!allowUrls) {
      throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', 'this worker does not accept connection URLs; name a configured connection instead', {
        connections: Object.keys(connections),
      });
    }
    const url = new URL(params.url);
    url.password = '';
    return { config: { connectionString: params.url }, label: url.toString() };
  }
  const name = params.connection!;
  const configured = Object.hasOwn(connections, name) ? connections[name] : undefined;
  if (configured === undefined) {
    throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', `no connection named ${name} is configured on this worker`, {
      connection: name,
      connections: Object.keys(connections),
    });
  }
  return { config: typeof configured === 'string' ? { connectionString: configured } : configured, label: name };
}

type Params = { query: string; params: (string | number | boolean | null)[]; maxRows: number; statementTimeoutMs: number; fetchSize: number };

async function readQuery(ctx: StageContext<Params>, config: pg.ClientConfig): Promise<ReturnType<TableAccumulator['finish']>> {
  const { maxRows, statementTimeoutMs, fetchSize } = ctx.params;
  const client = new pg.Client({
    connectionTimeoutMillis: 15_000,
    application_name: 'pipewright-ingest',
    ...config,
    types: TYPES,
  });
  // An error on an idle client (the server going away) must not crash the worker.
  client.on('error', () => undefined);
  const abort = (): void => void client.end().catch(() => undefined);
  ctx.signal.addEventListener('abort', abort, { once: true });
  try {
    try {
      await client.connect();
    } catch (error) {
      throw mapError(error, 'connecting failed');
    }
    const table = new TableAccumulator();
    try {
      await client.query('BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      // SET LOCAL takes no bind parameters; the value is an integer checked by the schema.
      await client.query(`SET LOCAL statement_timeout = ${Math.trunc(statementTimeoutMs)}`);
      await client.query("SET LOCAL TimeZone = 'UTC'");
      await client.query("SET LOCAL DateStyle = 'ISO, YMD'");
      // The extended protocol refuses more than one statement, so `…; COMMIT; DELETE …` cannot
      // end the read-only transaction; DECLARE itself accepts only SELECT and VALUES.
      await client.query({
        text: `DECLARE ${CURSOR} NO SCROLL CURSOR FOR ${ctx.params.query.trim().replace(/;+\s*$/, '')}`,
        values: ctx.params.params,
        queryMode: 'extended',
      } as pg.QueryConfig);
      let kinds: ('number' | 'text' | 'timestamp')[] | undefined;
      for (;;) {
        ctx.signal.throwIfAborted();
        const result = await client.query<unknown[]>({ text: `FETCH FORWARD ${fetchSize} FROM ${CURSOR}`, rowMode: 'array' });
        if (kinds === undefined) {
          kinds = result.fields.map((field) => {
            const kind = NUMERIC_OIDS.has(field.dataTypeID) ? 'number' : TIMESTAMP_OIDS.has(field.dataTypeID) ? 'timestamp' : 'text';
            if (table.columnNames.includes(field.name)) {
              throw StageError.nonRetryable('PW_ERR_BAD_DATA', `the query returns two columns named ${field.name}; alias one`, { column: field.name });
            }
            table.column(field.name, kind);
            return kind;
          });
        }
        if (table.rows + result.rows.length > maxRows) {
          throw StageError.nonRetryable('PW_ERR_BAD_DATA', `the query returns more than maxRows ${maxRows} rows; narrow it or add a LIMIT`, {
            maxRows,
          });
        }
        for (const row of result.rows) {
          for (let j = 0; j < kinds.length; j++) {
            const cell = row[j];
            const column = table.at(j);
            if (cell === null || cell === undefined) column.pushNull();
            else if (kinds[j] === 'number') column.pushNumber(cell as number);
            else if (kinds[j] === 'timestamp') column.pushTimestamp(cell as number);
            else column.pushText(cell as string);
          }
          table.endRow();
        }
        if (result.rows.length < fetchSize) break;
      }
      await client.query('ROLLBACK');
    } catch (error) {
      if (error instanceof StageError) throw error;
      ctx.signal.throwIfAborted();
      throw mapError(error, 'the query failed');
    }
    if (table.rows === 0) throw StageError.nonRetryable('PW_ERR_BAD_DATA', 'the query returned no rows');
    return table.finish();
  } finally {
    ctx.signal.removeEventListener('abort', abort);
    await client.end().catch(() => undefined);
  }
}

/**
 * SQLSTATE classes that may pass: connection exceptions (08), insufficient resources (53),
 * operator intervention (57P01-57P03), serialization failure and deadlock (40).
 */
function isTransient(code: string): boolean {
  return code.startsWith('08') || code.startsWith('53') || code.startsWith('40') || ['57P01', '57P02', '57P03'].includes(code);
}

function mapError(error: unknown, what: string): StageError {
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  const message = `${what}: ${typeof e.message === 'string' ? e.message : String(error)}`;
  // pg's DatabaseError carries a five-character SQLSTATE; socket errors carry E… codes.
  if (error instanceof pg.DatabaseError && code !== undefined) {
    if (code === '57014') {
      return StageError.nonRetryable('PW_ERR_BAD_PARAMS', `${message} (statementTimeoutMs exceeded?)`, { sqlstate: code }, error);
    }
    if (isTransient(code)) return sourceUnavailable(message, { sqlstate: code }, error);
    return StageError.nonRetryable('PW_ERR_BAD_PARAMS', message, { sqlstate: code }, error);
  }
  return sourceUnavailable(message, code === undefined ? undefined : { code }, error);
}
