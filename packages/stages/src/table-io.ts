import {
  DataType,
  Field,
  Float64,
  makeBuilder,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  tableFromIPC,
  tableToIPC,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import type { Data, Vector } from 'apache-arrow';
import { StageError } from '@pipewright/core';
import type { ArtifactRef } from '@pipewright/core';
import type { ArtifactStore } from '@pipewright/artifacts';
import { readArtifactBytes } from './read-artifact.ts';

/** Media type of Arrow IPC in the file (random-access) format. */
export const ARROW_FILE_MEDIA_TYPE = 'application/vnd.apache.arrow.file';
/** Schema metadata key naming the target column, so a table is self-describing. */
export const TARGET_METADATA_KEY = 'pipewright.target';

/** One column to build a table from. `null` is a missing value. */
export type ColumnInput =
  | { name: string; kind: 'float64'; values: Float64Array | readonly (number | null)[] }
  | { name: string; kind: 'utf8'; values: readonly (string | null)[] };

/** Builds a table whose columns keep the given order (object keys would reorder `"1"`, `"2"`). */
export function tableFromColumns(columns: readonly ColumnInput[], target?: string): Table {
  const length = columns[0]?.values.length ?? 0;
  const fields: Field[] = [];
  const children: Data[] = [];
  for (const column of columns) {
    if (column.values.length !== length) {
      throw new Error(`column ${column.name} has ${column.values.length} values, expected ${length}`);
    }
    const type = column.kind === 'float64' ? new Float64() : new Utf8();
    fields.push(new Field(column.name, type, true));
    children.push(singleChunk(vectorFromArray(column.values as (number | string | null)[], type), type));
  }
  return assemble(fields, children, length, targetMetadata(target));
}

/** Returns `table` with `target` recorded in its schema metadata. */
export function withTarget(table: Table, target: string | undefined): Table {
  const metadata = new Map(table.schema.metadata);
  if (target === undefined) metadata.delete(TARGET_METADATA_KEY);
  else metadata.set(TARGET_METADATA_KEY, target);
  const schema = new Schema(table.schema.fields, metadata);
  return new Table(schema, table.batches.map((b) => new RecordBatch(schema, b.data)));
}

/** The target column recorded in the schema metadata, if any. */
export function tableTarget(table: Table): string | undefined {
  return table.schema.metadata.get(TARGET_METADATA_KEY);
}

/** Serialises `table` as Arrow IPC (file format) into the store. */
export async function writeTable(
  store: ArtifactStore,
  table: Table,
  options: { target?: string; metadata?: Record<string, unknown> } = {},
): Promise<ArtifactRef> {
  const target = options.target ?? tableTarget(table);
  if (target !== undefined && !table.schema.fields.some((f) => f.name === target)) {
    throw new Error(`target column ${target} is not in the table`);
  }
  const stored = await store.put(tableToIPC(withTarget(table, target), 'file'));
  return {
    ...stored,
    type: 'table',
    mediaType: ARROW_FILE_MEDIA_TYPE,
    metadata: {
      ...options.metadata,
      rows: table.numRows,
      columns: table.schema.fields.map((f) => f.name),
      ...(target === undefined ? {} : { target }),
    },
  };
}

/** Reads a table artifact written by writeTable (or any Arrow IPC file or stream). */
export async function readTable(store: ArtifactStore, ref: ArtifactRef): Promise<Table> {
  if (ref.type !== 'table') {
    throw StageError.nonRetryable('PW_ERR_BAD_DATA', `expected a table artifact, got ${ref.type} (${ref.uri})`);
  }
  return tableFromIPC(await readArtifactBytes(store, ref));
}

/** The table's target column: from the schema metadata, or the ref's metadata as a fallback. */
export function requireTarget(table: Table, ref?: ArtifactRef): string {
  const target = tableTarget(table) ?? (typeof ref?.metadata?.target === 'string' ? ref.metadata.target : undefined);
  if (target === undefined) {
    throw StageError.nonRetryable('PW_ERR_BAD_DATA', `the table names no target column (schema metadata ${TARGET_METADATA_KEY})`);
  }
  requireColumn(table, target);
  return target;
}

export function isNumericType(type: DataType): boolean {
  return DataType.isFloat(type) || DataType.isInt(type);
}

/** Names of the numeric columns, in table order, minus `exclude`. */
export function numericColumnNames(table: Table, exclude: readonly string[] = []): string[] {
  return table.schema.fields.filter((f) => isNumericType(f.type) && !exclude.includes(f.name)).map((f) => f.name);
}

/** Names of the columns that are not numeric. */
export function nonNumericColumnNames(table: Table): string[] {
  return table.schema.fields.filter((f) => !isNumericType(f.type)).map((f) => f.name);
}

export function requireColumn(table: Table, name: string): Vector {
  const column = table.getChild(name);
  if (!column) {
    throw StageError.nonRetryable('PW_ERR_BAD_DATA', `column ${name} is not in the table`, {
      column: name,
      columns: table.schema.names,
    });
  }
  return column;
}

/**
 * A numeric column as numbers, with `null` for missing values. Ints (including 64-bit) become
 * doubles.
 */
export function numericColumn(table: Table, name: string): (number | null)[] {
  const column = requireColumn(table, name);
  if (!isNumericType(column.type)) {
    throw StageError.nonRetryable('PW_ERR_BAD_DATA', `column ${name} is ${String(column.type)}, not numeric`, {
      column: name,
    });
  }
  const out = new Array<number | null>(column.length);
  for (let i = 0; i < column.length; i++) {
    const v: unknown = column.get(i);
    out[i] = v === null || v === undefined ? null : Number(v);
  }
  return out;
}

type FloatArrayConstructor = Float32ArrayConstructor | Float64ArrayConstructor;

/**
 * A dense numeric column, failing on missing values: training cannot use them, and an
 * imputation stage belongs before it.
 */
export function denseColumn<A extends FloatArrayConstructor>(table: Table, name: string, ArrayType: A): InstanceType<A> {
  const column = requireColumn(table, name);
  if (!isNumericType(column.type)) {
    throw StageError.nonRetryable('PW_ERR_BAD_DATA', `column ${name} is ${String(column.type)}, not numeric`, {
      column: name,
    });
  }
  if (column.nullCount > 0) {
    throw StageError.nonRetryable(
      'PW_ERR_BAD_DATA',
      `column ${name} has ${column.nullCount} missing values; impute them before this stage`,
      { column: name, missing: column.nullCount },
    );
  }
  const out = new ArrayType(column.length) as InstanceType<A>;
  if (DataType.isFloat(column.type)) {
    let offset = 0;
    for (const chunk of column.data) {
      const values = chunk.values as Float32Array | Float64Array;
      out.set(values.subarray(0, chunk.length), offset);
      offset += chunk.length;
    }
  } else {
    for (let i = 0; i < column.length; i++) out[i] = Number(column.get(i));
  }
  return out;
}

/** A row-major `rows x columns.length` matrix of the given columns, in the given order. */
export function featureMatrix<A extends FloatArrayConstructor>(
  table: Table,
  columns: readonly string[],
  ArrayType: A,
): { values: InstanceType<A>; rows: number; cols: number } {
  const rows = table.numRows;
  const cols = columns.length;
  const values = new ArrayType(rows * cols) as InstanceType<A>;
  columns.forEach((name, j) => {
    const column = denseColumn(table, name, Float64Array);
    for (let i = 0; i < rows; i++) values[i * cols + j] = column[i]!;
  });
  return { values, rows, cols };
}

/** The target as a numeric vector (binary labels 0/1, regression values). */
export function targetVector<A extends FloatArrayConstructor>(table: Table, target: string, ArrayType: A): InstanceType<A> {
  return denseColumn(table, target, ArrayType);
}

/** Class labels of a classification target, numeric or string; missing labels fail. */
export function labelColumn(table: Table, target: string): (number | string)[] {
  const column = requireColumn(table, target);
  const out = new Array<number | string>(column.length);
  const numeric = isNumericType(column.type);
  for (let i = 0; i < column.length; i++) {
    const v: unknown = column.get(i);
    if (v === null || v === undefined) {
      throw StageError.nonRetryable('PW_ERR_BAD_DATA', `target column ${target} has missing values (row ${i})`, {
        column: target,
        row: i,
      });
    }
    out[i] = numeric ? Number(v) : String(v);
  }
  return out;
}

/** Distinct labels, sorted (numbers ascending, strings by code unit), as scikit-learn orders classes. */
export function sortedClasses(labels: readonly (number | string)[]): (number | string)[] {
  const distinct = [...new Set(labels)];
  return distinct.sort((a, b) =>
    typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0,
  );
}

/** The rows at `indices`, in that order, with the same schema (and metadata). */
export function takeRows(table: Table, indices: readonly number[]): Table {
  const fields = table.schema.fields;
  const children: Data[] = [];
  for (const field of fields) {
    const column = table.getChild(field.name)!;
    const values = indices.map((i) => column.get(i) as unknown);
    children.push(singleChunk(vectorFromArray(values as never[], field.type), field.type));
  }
  return assemble(fields, children, indices.length, table.schema.metadata);
}

/** Replaces (or appends) Float64 columns, keeping the order and metadata of the rest. */
export function replaceColumns(table: Table, replacements: ReadonlyMap<string, Float64Array | readonly (number | null)[]>): Table {
  const fields: Field[] = [];
  const children: Data[] = [];
  for (const field of table.schema.fields) {
    const replacement = replacements.get(field.name);
    if (replacement === undefined) {
      fields.push(field);
      children.push(singleChunk(table.getChild(field.name)!, field.type));
    } else {
      const type = new Float64();
      fields.push(new Field(field.name, type, true, field.metadata));
      children.push(singleChunk(vectorFromArray(replacement as (number | null)[], type), type));
    }
  }
  for (const [name, values] of replacements) {
    if (table.schema.fields.some((f) => f.name === name)) continue;
    const type = new Float64();
    fields.push(new Field(name, type, true));
    children.push(singleChunk(vectorFromArray(values as (number | null)[], type), type));
  }
  return assemble(fields, children, table.numRows, table.schema.metadata);
}

function targetMetadata(target: string | undefined): Map<string, string> {
  return target === undefined ? new Map() : new Map([[TARGET_METADATA_KEY, target]]);
}

/** The column as one Data chunk; tables read from multi-batch IPC files hold several. */
function singleChunk(vector: Vector, type: DataType): Data {
  if (vector.data.length === 1) return vector.data[0]!;
  const builder = makeBuilder({ type, nullValues: [null, undefined] });
  for (const value of vector) builder.append(value);
  return builder.finish().flush();
}

/** One record batch holding one Data chunk per field. */
function assemble(fields: Field[], children: Data[], length: number, metadata: Map<string, string>): Table {
  const schema = new Schema(fields, metadata);
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length, nullCount: 0, children }));
  return new Table(schema, batch);
}
