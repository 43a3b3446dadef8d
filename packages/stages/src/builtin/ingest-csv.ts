import { z } from 'zod';
import { StageError } from '@pipewright/core';
import { defineStage } from '../define-stage.ts';
import { openSourceFile } from '../open-source-file.ts';
import { readCsvStream } from '../read-csv-stream.ts';
import { writeTable } from '../table-io.ts';

export interface IngestCsvOptions {
  /**
   * Directory that `path` params resolve against; a path that leaves it (`..`, an absolute path
   * elsewhere, a symlink pointing out) is refused, so a submitted pipeline cannot read arbitrary
   * files of the worker.
   * @defaultValue the process' working directory when the stage runs
   */
  baseDir?: string;
}

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
      'Reads a CSV file with a header row into an Arrow table, streaming. Columns whose every present value ' +
      'is a decimal number become Float64, the others Utf8; empty, NA and NaN cells are missing values.',
    inputs: {},
    outputs: { data: 'table' },
    params,
    defaultTimeoutMs: 10 * 60_000,
    async run(ctx) {
      const { source, sha256: sourceDigest } = await openSourceFile(options.baseDir ?? process.cwd(), ctx.params.path);
      const { table, header } = await readCsvStream(source, {
        signal: ctx.signal,
        ...(ctx.params.delimiter === undefined ? {} : { delimiter: ctx.params.delimiter }),
      });
      const sha256 = sourceDigest();
      if (!header.includes(ctx.params.target)) {
        throw StageError.nonRetryable(
          'PW_ERR_BAD_DATA',
          `target column ${ctx.params.target} is not in ${ctx.params.path} (columns: ${header.join(', ')})`,
          { target: ctx.params.target, columns: header },
        );
      }
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
