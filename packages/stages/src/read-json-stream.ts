import type { Readable } from 'node:stream';
import type { Table } from 'apache-arrow';
import { StageError } from '@pipewright/core';
import { TableAccumulator } from './table-accumulator.ts';

export type JsonFormat = 'auto' | 'json' | 'jsonl';

export interface ReadJsonStreamOptions {
  /**
   * `json`: one array of objects; `jsonl`: one object per line (JSON Lines, NDJSON); `auto`:
   * `json` when the first non-blank character is `[`, else `jsonl`.
   * @defaultValue `auto`
   */
  format?: JsonFormat;
  signal: AbortSignal;
  /** @defaultValue 10,000 */
  maxColumns?: number;
  /** Largest single record, in bytes: a record is parsed whole. @defaultValue 16 MiB */
  maxRecordBytes?: number;
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const NEWLINE = 0x0a;

function isBlank(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/**
 * Reads records (JSON objects) from `source` as they arrive into an Arrow table. A top-level
 * array is split into its elements by a byte scanner that tracks strings and nesting, and each
 * element is parsed alone, so neither the file nor the whole parsed array is ever in memory.
 *
 * Columns appear in the order their keys are first seen. Numbers become Float64 (booleans 1/0,
 * as numpy casts them), strings Utf8; a column holding both becomes Utf8. Nested objects and
 * arrays are kept as their JSON text. `null` and absent keys are missing values.
 */
export async function readJsonStream(source: Readable, options: ReadJsonStreamOptions): Promise<{ table: Table; format: 'json' | 'jsonl' }> {
  const table = new TableAccumulator(options.maxColumns);
  const maxRecordBytes = options.maxRecordBytes ?? 16 * 1024 * 1024;
  let format: 'json' | 'jsonl' | undefined = options.format === 'auto' || options.format === undefined ? undefined : options.format;

  // Scanner state, kept across chunks.
  let started = false; // past the BOM and leading blanks
  let arrayState: 'before' | 'inside' | 'after' = 'before';
  let depth = 0;
  let inString = false;
  let escaped = false;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let line = 1;

  const addRecord = (bytes: Buffer): void => {
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      throw StageError.nonRetryable('PW_ERR_BAD_DATA', `malformed JSON in record ${table.rows + 1}${format === 'jsonl' ? ` (line ${line})` : ''}: ${(error as Error).message}`, { record: table.rows + 1 }, error);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw StageError.nonRetryable('PW_ERR_BAD_DATA', `record ${table.rows + 1} is not a JSON object`, { record: table.rows + 1 });
    }
    const record = value as Record<string, unknown>;
    for (const key in record) {
      const cell = record[key];
      if (cell === null || cell === undefined) continue;
      const column = table.column(key);
      switch (typeof cell) {
        case 'number':
          column.pushNumber(cell);
          break;
        case 'string':
          column.pushText(cell);
          break;
        case 'boolean':
          column.pushNumber(cell ? 1 : 0);
          break;
        default:
          column.pushText(JSON.stringify(cell));
      }
    }
    table.endRow();
    if (table.rows % 10_000 === 0) options.signal.throwIfAborted();
  };

  const take = (chunk: Buffer, start: number, end: number): void => {
    if (end <= start) return;
    pending.push(chunk.subarray(start, end));
    pendingBytes += end - start;
    if (pendingBytes > maxRecordBytes) {
      throw StageError.nonRetryable('PW_ERR_BAD_DATA', `record ${table.rows + 1} is larger than ${maxRecordBytes} bytes`, { maxRecordBytes });
    }
  };
  const flush = (): void => {
    const bytes = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    let blank = true;
    for (let i = 0; i < bytes.length; i++) if (!isBlank(bytes[i]!)) { blank = false; break; }
    if (!blank) addRecord(bytes);
  };

  const scanJsonl = (chunk: Buffer, from: number): void => {
    let start = from;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) {
        take(chunk, start, chunk.length);
        return;
      }
      take(chunk, start, nl);
      flush();
      line++;
      start = nl + 1;
    }
  };

  const scanArray = (chunk: Buffer, from: number): void => {
    let start = from;
    for (let i = from; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (arrayState === 'after') {
        if (!isBlank(byte)) throw StageError.nonRetryable('PW_ERR_BAD_DATA', 'unexpected data after the top-level JSON array');
        continue;
      }
      if (arrayState === 'before') {
        if (isBlank(byte)) continue;
        if (byte !== OPEN_BRACKET) throw StageError.nonRetryable('PW_ERR_BAD_DATA', 'the JSON document is not an array of records');
        arrayState = 'inside';
        start = i + 1;
        continue;
      }
      if (inString) {
        if (escaped) escaped = false;
        else if (byte === BACKSLASH) escaped = true;
        else if (byte === QUOTE) inString = false;
        continue;
      }
      if (byte === QUOTE) inString = true;
      else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth++;
      else if (byte === CLOSE_BRACE || (byte === CLOSE_BRACKET && depth > 0)) depth--;
      else if (depth === 0 && (byte === COMMA || byte === CLOSE_BRACKET)) {
        take(chunk, start, i);
        const empty = pendingBytes === 0 || pending.every((p) => p.every(isBlank));
        if (byte === COMMA && empty) throw StageError.nonRetryable('PW_ERR_BAD_DATA', `malformed JSON: empty element ${table.rows + 1}`);
        if (!empty) flush();
        else {
          pending = [];
          pendingBytes = 0;
        }
        start = i + 1;
        if (byte === CLOSE_BRACKET) arrayState = 'after';
      }
    }
    if (arrayState === 'inside') take(chunk, start, chunk.length);
  };

  try {
    for await (const raw of source as AsyncIterable<Buffer | string>) {
      const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
      let from = 0;
      if (!started) {
        if (chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) from = 3;
        while (from < chunk.length && isBlank(chunk[from]!)) {
          if (chunk[from] === NEWLINE) line++;
          from++;
        }
        if (from === chunk.length) continue;
        started = true;
        format ??= chunk[from] === OPEN_BRACKET ? 'json' : 'jsonl';
      }
      if (format === 'jsonl') scanJsonl(chunk, from);
      else scanArray(chunk, from);
    }
  } catch (error) {
    source.destroy();
    throw error;
  }
  if (format === 'jsonl') flush();
  else if (started && (arrayState as string) !== 'after') throw StageError.nonRetryable('PW_ERR_BAD_DATA', 'the JSON array is not closed (truncated data?)');
  if (table.rows === 0) throw StageError.nonRetryable('PW_ERR_BAD_DATA', 'the JSON data has no records');
  return { table: table.finish(), format: format ?? 'jsonl' };
}
