import type { IngestCsvOptions } from './builtin/ingest-csv.ts';
import type { IngestHttpOptions } from './builtin/ingest-http.ts';
import type { IngestPostgresOptions } from './builtin/ingest-postgres.ts';

export interface BuiltinStagesOptions {
  /**
   * Directory that ingest stages read their `path` params from, and may not leave.
   * @defaultValue the process' working directory when a stage runs
   */
  dataDir?: string;
  /**
   * ingest.http@1: hosts it may fetch although they resolve to private, loopback, link-local or
   * unique-local addresses (`allowHosts`), and its size and time caps.
   * @defaultValue public addresses only
   */
  http?: IngestHttpOptions;
  /**
   * ingest.postgres@1: the named connections pipelines may query (`connections`), whether a spec
   * may pass a URL instead, and its row and timeout caps.
   * @defaultValue no connections (every query fails until the worker names some)
   */
  postgres?: IngestPostgresOptions;
}

/** What the file-reading ingest stages (csv, json) take from BuiltinStagesOptions. */
export function fileIngestOptions(options: BuiltinStagesOptions): IngestCsvOptions {
  return options.dataDir === undefined ? {} : { baseDir: options.dataDir };
}
