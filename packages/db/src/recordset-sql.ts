import { getTableColumns, getTableName, sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';

/**
 * Many rows written by ONE statement: the rows travel as a single jsonb parameter and
 * `jsonb_to_recordset` turns them back into typed columns. Unlike a multi-row VALUES list it
 * needs one bind parameter whatever the row count, and unlike one statement per row it costs one
 * round trip — which is what bounds the orchestrator's hot path (see docs/performance.md). The
 * fragments compose into one `WITH … SELECT` statement (sibling data-modifying CTEs; foreign keys
 * are checked at the end of the statement, so a row may reference one inserted beside it).
 */

type Row = Record<string, unknown>;

/** The type a recordset column is declared with: the column's own, minus serial's implicit default. */
function recordType(column: PgColumn): string {
  const type = column.getSQLType();
  if (type === 'bigserial') return 'bigint';
  if (type === 'serial') return 'integer';
  return type;
}

/** A JSON-safe cell: non-finite floats travel as the strings Postgres' float input reads. */
function cell(column: PgColumn, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value) && (column.getSQLType() === 'double precision' || column.getSQLType() === 'real')) {
    return String(value); // 'NaN', 'Infinity', '-Infinity'
  }
  return value === undefined ? null : value;
}

/** The columns named by `props` (the table's property names), in that order. */
function columnsOf(table: PgTable, props: readonly string[]): PgColumn[] {
  const all = getTableColumns(table) as Record<string, PgColumn>;
  return props.map((p) => {
    const column = all[p];
    if (!column) throw new Error(`${getTableName(table)} has no column property ${p}`);
    return column;
  });
}

/** `jsonb_to_recordset($1::jsonb) as v("a" type, …)` over the given rows and properties. */
function recordset(table: PgTable, props: readonly string[], rows: readonly Row[]): SQL {
  const columns = columnsOf(table, props);
  const json = JSON.stringify(rows.map((row) => Object.fromEntries(columns.map((c, i) => [c.name, cell(c, row[props[i] as string])]))));
  const definition = sql.join(
    columns.map((c) => sql`${sql.identifier(c.name)} ${sql.raw(recordType(c))}`),
    sql`, `,
  );
  return sql`jsonb_to_recordset(${json}::jsonb) as v(${definition})`;
}

/** The union of the properties of `rows` (every row should carry the same ones). */
function propsOf(rows: readonly Row[]): string[] {
  const props = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row)) props.add(key);
  return [...props];
}

export interface InsertRowsOptions {
  onConflictDoNothing?: boolean;
  /** A `returning …` clause body, e.g. sql`id`. */
  returning?: SQL;
}

/** `insert into t (…) select … from jsonb_to_recordset(…)`: the rows given, in one statement. */
export function insertRowsSql(table: PgTable, rows: readonly Row[], options: InsertRowsOptions = {}): SQL {
  const props = propsOf(rows);
  const names = sql.join(
    columnsOf(table, props).map((c) => sql.identifier(c.name)),
    sql`, `,
  );
  const values = sql.join(
    columnsOf(table, props).map((c) => sql`v.${sql.identifier(c.name)}`),
    sql`, `,
  );
  return sql`insert into ${sql.identifier(getTableName(table))} (${names}) select ${values} from ${recordset(table, props, rows)}${
    options.onConflictDoNothing ? sql` on conflict do nothing` : sql``
  }${options.returning ? sql` returning ${options.returning}` : sql``}`;
}

/**
 * `update t set … from jsonb_to_recordset(…) where t.<key> = v.<key>`: each row sets the
 * properties it carries (all rows must carry the same ones) on the row with its `key`.
 */
export function updateRowsSql(table: PgTable, rows: readonly Row[], key = 'id'): SQL {
  const props = propsOf(rows);
  if (!props.includes(key)) throw new Error(`updateRowsSql: rows of ${getTableName(table)} lack their key ${key}`);
  const [keyColumn] = columnsOf(table, [key]) as [PgColumn];
  const target = sql.identifier(getTableName(table));
  const assignments = sql.join(
    columnsOf(
      table,
      props.filter((p) => p !== key),
    ).map((c) => sql`${sql.identifier(c.name)} = v.${sql.identifier(c.name)}`),
    sql`, `,
  );
  return sql`update ${target} set ${assignments} from ${recordset(table, props, rows)} where ${target}.${sql.identifier(keyColumn.name)} = v.${sql.identifier(keyColumn.name)}`;
}
