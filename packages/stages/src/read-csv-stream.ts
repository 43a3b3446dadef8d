import type { Readable } from 'node:stream';
import type { Table } from 'apache-arrow';
import { CsvError, parse } from 'csv-parse';
import { StageError } from '@pipewright/core';
import { TableAccumulator } from './table-accumulator.ts';

/** Cells read as missing values, in numeric and text columns alike (as pandas' defaults). */
export const CSV_MISSING = new Set(['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL']);
/** Decimal numbers only: Number() would also take `0x1f`, `Infinity` and whitespace. */
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export interface ReadCsvStreamOptions {
  /** Field delimiter. @defaultValue `,` */
  delimiter?: string;
  signal: AbortSignal;
  /** A wider header is refused. @defaultValue 100,000 */
  maxColumns?: number;
}

/**
 * Parses CSV with a header row from `source` as it arrives, typing each column on the way:
 * a column whose every present cell is a decimal number becomes Float64, any other Utf8; empty,
 * NA and NaN cells are missing. Cells go straight into column buffers (column-accumulator.ts),
 * so memory holds the typed columns, never the file or its cells as strings.
 */
export async function readCsvStream(source: Readable, options: ReadCsvStreamOptions): Promise<{ table: Table; header: string[] }> {
  const parser = source.pipe(
    parse({
      bom: true,
      trim: true,
      skip_empty_lines: true,
      // One runaway quoted field must not buffer the rest of the file.
      max_record_size: 16 * 1024 * 1024,
      ...(options.delimiter === undefined ? {} : { delimiter: options.delimiter }),
    }),
  );
  source.on('error', (error) => parser.destroy(error));
  let header: string[] | undefined;
  const maxColumns = options.maxColumns ?? 100_000;
  const table = new TableAccumulator(maxColumns);
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!header) {
        header = record;
        checkHeader(header, maxColumns);
        for (const name of header) table.column(name);
        continue;
      }
      for (let j = 0; j < record.length; j++) {
        const cell = record[j]!;
        const column = table.at(j);
        if (CSV_MISSING.has(cell)) column.pushNull();
        else if (column.kind !== 'text' && NUMBER.test(cell)) column.pushNumber(Number(cell), cell);
        else column.pushText(cell);
      }
      table.endRow();
      if (table.rows % 10_000 === 0) options.signal.throwIfAborted();
    }
  } catch (error) {
    source.destroy();
    if (error instanceof CsvError) {
      throw StageError.nonRetryable('PW_ERR_BAD_DATA', `malformed CSV: ${error.message}`, { code: error.code }, error);
    }
    throw error;
  }
  if (!header || table.rows === 0) {
    throw StageError.nonRetryable('PW_ERR_BAD_DATA', 'the CSV data has no data rows');
  }
  return { table: table.finish(), header };
}

function checkHeader(header: string[], maxColumns: number): void {
  if (header.length > maxColumns) {
    throw StageError.nonRetryable('PW_ERR_BAD_DATA', `the CSV header has ${header.length} columns, more than ${maxColumns}`);
  }
  const seen = new Set<string>();
  header.forEach((name, j) => {
    if (name === '') throw StageError.nonRetryable('PW_ERR_BAD_DATA', `header column ${j + 1} has no name`);
    if (seen.has(name)) throw StageError.nonRetryable('PW_ERR_BAD_DATA', `header names column ${name} twice`);
    seen.add(name);
  });
}
