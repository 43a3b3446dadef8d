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

/** The SQL text around the rows, which depends only on the table and the properties. */
interface Shape {
  columns: PgColumn[];
  /** `"a", "b"` */
  names: string;
  /** `v."a", v."b"` */
  values: string;
  /** `"a" type, "b" type` */
  definition: string;
}

// Built once per (table, properties): drizzle's per-chunk work showed in the orchestrator's
// profile when every flush rebuilt the same column lists.
const shapes = new WeakMap<PgTable, Map<string, Shape>>();
const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

function shapeOf(table: PgTable, props: readonly string[]): Shape {
  const byProps = shapes.get(table) ?? new Map<string, Shape>();
  shapes.set(table, byProps);
  const key = props.join(',');
  let shape = byProps.get(key);
  if (!shape) {
    const columns = columnsOf(table, props);
    shape = {
      columns,
      names: columns.map((c) => quote(c.name)).join(', '),
      values: columns.map((c) => `v.${quote(c.name)}`).join(', '),
      definition: columns.map((c) => `${quote(c.name)} ${recordType(c)}`).join(', '),
    };
    byProps.set(key, shape);
  }
  return shape;
}

/**
 * `(select * from jsonb_to_recordset($1::jsonb) as r("a" type, …) limit $2) as v` over the given
 * rows and properties. The limit (the row count) is there for the planner: it assumes a set
 * function returns 100 rows, which made an update of a few attempts hash-join a sequential scan
 * of the whole attempts table (6 ms per apply at 6,000 attempts, growing with the table); with
 * the real count it probes the primary key.
 */
function recordset(shape: Shape, props: readonly string[], rows: readonly Row[]): SQL {
  const { columns } = shape;
  // A key left out reads as NULL, like a null: leaving them out made a stage row a quarter smaller.
  const json = JSON.stringify(
    rows.map((row) => {
      const record: Row = {};
      columns.forEach((c, i) => {
        const value = cell(c, row[props[i] as string]);
        if (value !== null) record[c.name] = value;
      });
      return record;
    }),
  );
  return sql`(select * from jsonb_to_recordset(${json}::jsonb) as r(${sql.raw(shape.definition)}) limit ${rows.length}) as v`;
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

/** `insert into t (…) select … from (jsonb_to_recordset(…))`: the rows given, in one statement. */
export function insertRowsSql(table: PgTable, rows: readonly Row[], options: InsertRowsOptions = {}): SQL {
  const props = propsOf(rows);
  const shape = shapeOf(table, props);
  return sql`insert into ${sql.raw(quote(getTableName(table)))} (${sql.raw(shape.names)}) select ${sql.raw(shape.values)} from ${recordset(shape, props, rows)}${
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
  const shape = shapeOf(table, props);
  const keyName = quote((columnsOf(table, [key])[0] as PgColumn).name);
  const target = quote(getTableName(table));
  const assignments = shape.columns
    .filter((_, i) => props[i] !== key)
    .map((c) => `${quote(c.name)} = v.${quote(c.name)}`)
    .join(', ');
  return sql`update ${sql.raw(target)} set ${sql.raw(assignments)} from ${recordset(shape, props, rows)} where ${sql.raw(`${target}.${keyName} = v.${keyName}`)}`;
}
