import { DataType, Field, Float32, Float64, makeBuilder, makeData, RecordBatch, Schema, Struct, Table, Utf8, Vector } from 'apache-arrow';
import type { Data } from 'apache-arrow';

/**
 * Building blocks for stages that rewrite tables column by column. Columns are built straight
 * from typed arrays (no per-cell `append`), so a transform over a million rows costs a few
 * typed-array passes, not a million builder calls.
 *
 * Convention shared by the preprocessing stages: in a Float64 or Float32 column, NaN and null
 * both mean "missing" (scikit-learn's `missing_values=np.nan`), and the columns written here
 * store a missing value as null.
 */

/** One output column: a name and its single Data chunk. */
export interface NamedColumn {
  name: string;
  data: Data;
  /** Field metadata to keep (e.g. from the input field). */
  metadata?: Map<string, string>;
}

/** A Float64 column; NaN becomes null. Takes ownership of `values`. */
export function float64Data(values: Float64Array): Data<Float64> {
  return floatData(new Float64(), values);
}

/** A Float32 column; NaN becomes null. Takes ownership of `values`. */
export function float32Data(values: Float32Array): Data<Float32> {
  return floatData(new Float32(), values);
}

function floatData<T extends Float32 | Float64>(type: T, values: T['TArray']): Data<T> {
  const length = values.length;
  let nullCount = 0;
  for (let i = 0; i < length; i++) if (values[i] !== values[i]) nullCount++;
  if (nullCount === 0) return makeData({ type, length, nullCount: 0, data: values }) as Data<T>;
  const bitmap = new Uint8Array((length + 7) >> 3);
  for (let i = 0; i < length; i++) {
    if (values[i] === values[i]) bitmap[i >> 3]! |= 1 << (i & 7);
    else values[i] = 0;
  }
  return makeData({ type, length, nullCount, nullBitmap: bitmap, data: values }) as Data<T>;
}

/** A Utf8 column from strings, `null` for missing. */
export function utf8Data(values: readonly (string | null)[]): Data<Utf8> {
  const length = values.length;
  const offsets = new Int32Array(length + 1);
  let capacity = 0;
  for (const v of values) if (v !== null) capacity += v.length * 3;
  const bytes = Buffer.allocUnsafe(Math.max(capacity, 1));
  const bitmap = new Uint8Array((length + 7) >> 3);
  let nullCount = 0;
  let end = 0;
  for (let i = 0; i < length; i++) {
    const v = values[i];
    if (v === null || v === undefined) nullCount++;
    else {
      bitmap[i >> 3]! |= 1 << (i & 7);
      end += bytes.write(v, end, 'utf8');
    }
    offsets[i + 1] = end;
  }
  const data = new Uint8Array(bytes.buffer, bytes.byteOffset, end);
  return makeData({ type: new Utf8(), length, nullCount, ...(nullCount > 0 ? { nullBitmap: bitmap } : {}), valueOffsets: offsets, data });
}

/** The named column of `table` as one Data chunk (tables read from multi-batch files hold several). */
export function columnData(table: Table, name: string): Data {
  const vector = table.getChild(name);
  if (!vector) throw new Error(`column ${name} is not in the table`);
  if (vector.data.length === 1) return vector.data[0]!;
  const builder = makeBuilder({ type: vector.type as DataType, nullValues: [null, undefined] });
  for (const value of vector) builder.append(value);
  return builder.finish().flush();
}

/** The input column, kept as it is (data and field metadata). */
export function keptColumn(table: Table, name: string): NamedColumn {
  const field = table.schema.fields.find((f) => f.name === name);
  return { name, data: columnData(table, name), ...(field && field.metadata.size > 0 ? { metadata: field.metadata } : {}) };
}

/**
 * A one-batch table of `columns`, in order, with the given schema metadata (pass the input's to
 * keep the target). Refuses duplicate names: a generated column must not shadow another.
 */
export function buildTable(columns: readonly NamedColumn[], metadata: Map<string, string> = new Map(), rows?: number): Table {
  const length = rows ?? columns[0]?.data.length ?? 0;
  const seen = new Set<string>();
  const fields: Field[] = [];
  for (const column of columns) {
    if (seen.has(column.name)) throw new Error(`duplicate column ${column.name}`);
    seen.add(column.name);
    if (column.data.length !== length) throw new Error(`column ${column.name} has ${column.data.length} rows, expected ${length}`);
    fields.push(new Field(column.name, column.data.type, true, column.metadata));
  }
  const schema = new Schema(fields, new Map(metadata));
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length, nullCount: 0, children: columns.map((c) => c.data) }));
  return new Table(schema, batch);
}

/**
 * The rows at `indices` (repeats allowed), in that order, same schema and metadata. Fixed-width
 * columns are gathered from their buffers and Utf8 columns byte-wise, without decoding a cell;
 * other types fall back to Arrow's builders.
 */
export function gatherRows(table: Table, indices: Int32Array): Table {
  const columns = table.schema.fields.map((field): NamedColumn => {
    const data = columnData(table, field.name);
    return { name: field.name, data: gatherData(data, indices), ...(field.metadata.size > 0 ? { metadata: field.metadata } : {}) };
  });
  return buildTable(columns, table.schema.metadata, indices.length);
}

function gatherData(data: Data, indices: Int32Array): Data {
  const n = indices.length;
  const valid = (i: number): boolean => data.nullCount === 0 || data.getValid(i);
  let nullCount = 0;
  const bitmap = new Uint8Array((n + 7) >> 3);
  for (let k = 0; k < n; k++) {
    if (valid(indices[k]!)) bitmap[k >> 3]! |= 1 << (k & 7);
    else nullCount++;
  }
  const nulls = nullCount > 0 ? { nullBitmap: bitmap } : {};
  const values: unknown = data.values;
  if (DataType.isUtf8(data.type)) {
    const offsets = data.valueOffsets as Int32Array;
    const bytes = data.values as Uint8Array;
    let total = 0;
    for (let k = 0; k < n; k++) total += offsets[indices[k]! + 1]! - offsets[indices[k]!]!;
    const outOffsets = new Int32Array(n + 1);
    const outBytes = new Uint8Array(total);
    let end = 0;
    for (let k = 0; k < n; k++) {
      const i = indices[k]!;
      const from = offsets[i]!;
      const to = offsets[i + 1]!;
      outBytes.set(bytes.subarray(from, to), end);
      end += to - from;
      outOffsets[k + 1] = end;
    }
    return makeData({ type: data.type, length: n, nullCount, ...nulls, valueOffsets: outOffsets, data: outBytes });
  }
  const stride = (data as { stride?: number }).stride ?? 1;
  if (ArrayBuffer.isView(values) && !(values instanceof DataView) && !DataType.isBool(data.type) && !DataType.isDictionary(data.type) && data.children.length === 0) {
    const source = values as unknown as Float64Array;
    const out = new (source.constructor as Float64ArrayConstructor)(n * stride);
    for (let k = 0; k < n; k++) {
      const i = indices[k]!;
      for (let s = 0; s < stride; s++) out[k * stride + s] = source[i * stride + s]!;
    }
    return makeData({ type: data.type, length: n, nullCount, ...nulls, data: out } as never);
  }
  const builder = makeBuilder({ type: data.type, nullValues: [null, undefined] });
  const vector = new Vector([data]);
  for (let k = 0; k < n; k++) builder.append(vector.get(indices[k]!));
  return builder.finish().flush();
}
