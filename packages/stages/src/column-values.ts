import { DataType } from 'apache-arrow';
import type { Data, Table } from 'apache-arrow';
import { StageError } from '@pipewright/core';
import { requireColumn } from './table-io.ts';

/** Whether the column holds numbers the numeric stages accept (floats, ints, booleans as 0/1). */
export function isNumericColumnType(type: DataType): boolean {
  return DataType.isFloat(type) || DataType.isInt(type) || DataType.isBool(type);
}

/** Whether the column holds text (Utf8 or LargeUtf8, possibly dictionary-encoded). */
export function isTextColumnType(type: DataType): boolean {
  if (DataType.isDictionary(type)) return isTextColumnType(type.dictionary);
  return DataType.isUtf8(type) || DataType.isLargeUtf8(type);
}

/**
 * A numeric column as a fresh Float64Array, missing values (null or NaN) as NaN. Reads the
 * chunks' buffers directly: no per-cell boxing for float and 8-32 bit int columns.
 */
export function readNumeric(table: Table, name: string): Float64Array {
  const column = requireColumn(table, name);
  if (!isNumericColumnType(column.type)) {
    throw StageError.nonRetryable('PW_ERR_BAD_DATA', `column ${name} is ${String(column.type)}, not numeric`, {
      column: name,
      type: String(column.type),
    });
  }
  const out = new Float64Array(column.length);
  let offset = 0;
  for (const chunk of column.data as Data[]) {
    copyChunk(chunk, out, offset);
    offset += chunk.length;
  }
  return out;
}

function copyChunk(chunk: Data, out: Float64Array, at: number): void {
  const { length, type } = chunk;
  const values: unknown = chunk.values;
  const plainTyped =
    values instanceof Float64Array ||
    values instanceof Float32Array ||
    values instanceof Int32Array ||
    values instanceof Int16Array ||
    values instanceof Int8Array ||
    values instanceof Uint32Array ||
    values instanceof Uint16Array ||
    values instanceof Uint8Array;
  if (plainTyped && !DataType.isBool(type) && !(DataType.isFloat(type) && type.precision === 0)) {
    const typed = values as Float64Array;
    for (let i = 0; i < length; i++) out[at + i] = typed[i]!;
  } else if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
    for (let i = 0; i < length; i++) out[at + i] = Number(values[i]!);
  } else {
    // Booleans (bit-packed) and half floats: rare, so the boxed accessor is fine.
    for (let i = 0; i < length; i++) {
      out[at + i] = chunk.getValid(i) ? bitOrHalfFloat(chunk, i) : Number.NaN;
    }
    return;
  }
  if (chunk.nullCount > 0 && chunk.nullBitmap) {
    for (let i = 0; i < length; i++) if (!chunk.getValid(i)) out[at + i] = Number.NaN;
  }
}

function bitOrHalfFloat(chunk: Data, i: number): number {
  if (DataType.isBool(chunk.type)) {
    const bit = chunk.offset + i;
    return ((chunk.values as Uint8Array)[bit >> 3]! >> (bit & 7)) & 1;
  }
  // Half floats: decode the IEEE 754 binary16 bits.
  const h = (chunk.values as Uint16Array)[i]!;
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? Number.NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** A text column's values, `null` for missing. Non-text columns are refused. */
export function readText(table: Table, name: string): (string | null)[] {
  const column = requireColumn(table, name);
  if (!isTextColumnType(column.type)) {
    throw StageError.nonRetryable('PW_ERR_BAD_DATA', `column ${name} is ${String(column.type)}, not text`, {
      column: name,
      type: String(column.type),
    });
  }
  const out = new Array<string | null>(column.length);
  if (!DataType.isUtf8(column.type)) {
    for (let i = 0; i < column.length; i++) {
      const v: unknown = column.get(i);
      out[i] = v === null || v === undefined ? null : String(v);
    }
    return out;
  }
  let at = 0;
  for (const chunk of column.data as Data[]) {
    decodeUtf8Chunk(chunk, out, at);
    at += chunk.length;
  }
  return out;
}

/**
 * Decodes a Utf8 chunk's cells into `out`. An all-ASCII buffer (most categorical data) is
 * decoded once and sliced, which costs far less than one decoder call per cell.
 */
function decodeUtf8Chunk(chunk: Data, out: (string | null)[], at: number): void {
  const bytes = chunk.values as Uint8Array;
  const offsets = chunk.valueOffsets as Int32Array;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const start = offsets[0]!;
  const end = offsets[chunk.length]!;
  let ascii = true;
  for (let k = start; k < end; k++) {
    if (bytes[k]! > 0x7f) {
      ascii = false;
      break;
    }
  }
  const whole = ascii ? buffer.toString('latin1', start, end) : undefined;
  const bitmap = chunk.nullCount > 0 ? chunk.nullBitmap : undefined;
  for (let i = 0; i < chunk.length; i++) {
    const bit = chunk.offset + i;
    if (bitmap && !((bitmap[bit >> 3]! >> (bit & 7)) & 1)) out[at + i] = null;
    else if (whole !== undefined) out[at + i] = whole.slice(offsets[i]! - start, offsets[i + 1]! - start);
    else out[at + i] = buffer.toString('utf8', offsets[i]!, offsets[i + 1]!);
  }
}

/**
 * A categorical column's values: text as strings, numbers as numbers; missing (null, NaN) as
 * `null`. For encoders and validation, which accept either kind.
 */
export function readCategorical(table: Table, name: string): (string | number | null)[] {
  const column = requireColumn(table, name);
  if (isNumericColumnType(column.type)) {
    const values = readNumeric(table, name);
    const out = new Array<number | null>(values.length);
    for (let i = 0; i < values.length; i++) out[i] = Number.isNaN(values[i]!) ? null : values[i]!;
    return out;
  }
  return readText(table, name);
}
