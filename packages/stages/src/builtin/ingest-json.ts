import { z } from 'zod';
import { StageError } from '@pipewright/core';
import { defineStage } from '../define-stage.ts';
import { openSourceFile } from '../open-source-file.ts';
import { readJsonStream } from '../read-json-stream.ts';
import { writeTable } from '../table-io.ts';

export interface IngestJsonOptions {
  /**
   * Directory that `path` params resolve against; a path that leaves it is refused.
   * @defaultValue the process' working directory when the stage runs
   */
  baseDir?: string;
}

const params = z.strictObject({
  /** JSON or JSON Lines file, relative to the stage's base directory. */
  path: z.string().min(1),
  /** Name of the column to predict. */
  target: z.string().min(1),
  /** `json` (an array of objects), `jsonl` (an object per line) or `auto` (by the first character). */
  format: z.enum(['auto', 'json', 'jsonl']).default('auto'),
});

/** `ingest.json@1` with a chosen base directory. */
export function createIngestJsonStage(options: IngestJsonOptions = {}) {
  return defineStage({
    type: 'ingest.json@1',
    description:
      'Reads a JSON array of records or a JSON Lines file into an Arrow table, streaming record by record. ' +
      'Numbers (and booleans, as 1/0) become Float64, strings Utf8, nested values their JSON text; null and ' +
      'absent keys are missing values.',
    inputs: {},
    outputs: { data: 'table' },
    params,
    defaultTimeoutMs: 10 * 60_000,
    async run(ctx) {
      const { source, sha256: sourceDigest } = await openSourceFile(options.baseDir ?? process.cwd(), ctx.params.path);
      const { table, format } = await readJsonStream(source, { format: ctx.params.format, signal: ctx.signal });
      const columns = table.schema.names;
      if (!columns.includes(ctx.params.target)) {
        throw StageError.nonRetryable(
          'PW_ERR_BAD_DATA',
          `target column ${ctx.params.target} is not in ${ctx.params.path} (columns: ${columns.join(', ')})`,
          { target: ctx.params.target, columns },
        );
      }
      ctx.logger.info('ingested json', { path: ctx.params.path, format, rows: table.numRows, columns: columns.length });
      const data = await writeTable(ctx.store, table, {
        target: ctx.params.target,
        metadata: { source: { path: ctx.params.path, format, sha256: `sha256:${sourceDigest()}` } },
      });
      return { outputs: { data }, metrics: { rows: table.numRows, columns: columns.length } };
    },
  });
}

/** `ingest.json@1` reading paths relative to the working directory. */
export const ingestJsonStage = createIngestJsonStage();
