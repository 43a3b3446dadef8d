import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { CsvError, parse } from 'csv-parse';
import { z } from 'zod';
import { StageError } from '@pipewright/core';
import { defineStage } from '../define-stage.ts';
import { tableFromColumns, writeTable } from '../table-io.ts';
import type { ColumnInput } from '../table-io.ts';

export interface IngestCsvOptions {
  /**
   * Directory that `path` params resolve against; a path that leaves it (`..`, an absolute path
   * elsewhere, a symlink pointing out) is refused, so a submitted pipeline cannot read arbitrary
   * files of the worker.
   * @defaultValue the process' working directory when the stage runs
   */
  baseDir?: string;
}

/** Cells read as missing values, in numeric and text columns alike (as pandas' defaults). */
const MISSING = new Set(['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL']);
/** Decimal numbers only: Number() would also take `0x1f`, `Infinity` and whitespace. */
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

const params = z.strictObject({
  /** CSV file, relative to the stage's base directory. */
  path: z.string().min(1),
  /** Name of the column to predict. */
  target: z.string().min(1),
  /** Field delimiter. */
  delimiter: z.string().min(1).optional(),
});

/** `ingest.csv@1` with a chosen base directory. */
export function createIngestCsvStage(options: IngestCsvOptions = {}) {
  return defineStage({
    type: 'ingest.csv@1',
    description:
      'Reads a CSV file with a header row into an Arrow table. Columns whose every present value is a ' +
      'decimal number become Float64, the others Utf8; empty, NA and NaN cells are missing values.',
    inputs: {},
    outputs: { data: 'table' },
    params,
    defaultTimeoutMs: 10 * 60_000,
    async run(ctx) {
      const file = await resolveInside(options.baseDir ?? process.cwd(), ctx.params.path);
      const { header, cells, sha256 } = await readCsv(file, ctx.params.delimiter, ctx.signal);
      if (!header.includes(ctx.params.target)) {
        throw StageError.nonRetryable(
          'PW_ERR_BAD_DATA',
          `target column ${ctx.params.target} is not in ${ctx.params.path} (columns: ${header.join(', ')})`,
          { target: ctx.params.target, columns: header },
        );
      }
      const columns = header.map((name, j) => toColumn(name, cells[j]!));
      const table = tableFromColumns(columns, ctx.params.target);
      ctx.logger.info('ingested csv', { path: ctx.params.path, rows: table.numRows, columns: header.length });
      const data = await writeTable(ctx.store, table, {
        target: ctx.params.target,
        // The file is outside the artifact store; its digest is what identifies the data read.
        metadata: { source: { path: ctx.params.path, sha256: `sha256:${sha256}` } },
      });
      return { outputs: { data }, metrics: { rows: table.numRows, columns: header.length } };
    },
  });
}

/** `ingest.csv@1` reading paths relative to the working directory. */
export const ingestCsvStage = createIngestCsvStage();

async function resolveInside(baseDir: string, path: string): Promise<string> {
  const base = await realpath(resolve(baseDir)).catch((error: unknown) => {
    throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', `data directory ${baseDir} does not exist`, undefined, error);
  });
  const escapes = (p: string): boolean => {
    const rel = relative(base, p);
    return rel === '' || rel.startsWith('..') || isAbsolute(rel);
  };
  const candidate = resolve(base, path);
  if (escapes(candidate)) {
    throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', `path ${path} leaves the data directory`, { path });
  }
  const real = await realpath(candidate).catch((error: unknown) => {
    throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', `no file at ${path}`, { path }, error);
  });
  // Checked again after resolving symlinks: a link inside may point outside.
  if (escapes(real)) {
    throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', `path ${path} leaves the data directory`, { path });
  }
  return real;
}

async function readCsv(
  file: string,
  delimiter: string | undefined,
  signal: AbortSignal,
): Promise<{ header: string[]; cells: string[][]; sha256: string }> {
  const hash = createHash('sha256');
  const source = createReadStream(file);
  source.on('data', (chunk) => hash.update(chunk));
  const parser = source.pipe(
    parse({ bom: true, trim: true, skip_empty_lines: true, ...(delimiter === undefined ? {} : { delimiter }) }),
  );
  source.on('error', (error) => parser.destroy(error));
  let header: string[] | undefined;
  const cells: string[][] = [];
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!header) {
        header = record;
        checkHeader(header);
        for (let j = 0; j < header.length; j++) cells.push([]);
        continue;
      }
      for (let j = 0; j < record.length; j++) cells[j]!.push(record[j]!);
      if (cells[0]!.length % 10_000 === 0) signal.throwIfAborted();
    }
  } catch (error) {
    source.destroy();
    if (error instanceof CsvError) {
      throw StageError.nonRetryable('PW_ERR_BAD_DATA', `malformed CSV: ${error.message}`, { code: error.code }, error);
    }
    throw error;
  }
  if (!header || cells[0]!.length === 0) {
    throw StageError.nonRetryable('PW_ERR_BAD_DATA', 'the CSV file has no data rows');
  }
  return { header, cells, sha256: hash.digest('hex') };
}

function checkHeader(header: string[]): void {
  const seen = new Set<string>();
  header.forEach((name, j) => {
    if (name === '') throw StageError.nonRetryable('PW_ERR_BAD_DATA', `header column ${j + 1} has no name`);
    if (seen.has(name)) throw StageError.nonRetryable('PW_ERR_BAD_DATA', `header names column ${name} twice`);
    seen.add(name);
  });
}

function toColumn(name: string, raw: string[]): ColumnInput {
  let present = 0;
  let numeric = true;
  for (const cell of raw) {
    if (MISSING.has(cell)) continue;
    present++;
    if (!NUMBER.test(cell)) {
      numeric = false;
      break;
    }
  }
  if (numeric && present > 0) {
    return { name, kind: 'float64', values: raw.map((cell) => (MISSING.has(cell) ? null : Number(cell))) };
  }
  return { name, kind: 'utf8', values: raw.map((cell) => (MISSING.has(cell) ? null : cell)) };
}
