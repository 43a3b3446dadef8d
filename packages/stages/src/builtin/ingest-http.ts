import { createHash } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupAllOptions, LookupOneOptions } from 'node:dns';
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import type { Table } from 'apache-arrow';
import { z } from 'zod';
import { StageError } from '@pipewright/core';
import { defineStage } from '../define-stage.ts';
import { nonPublicReason } from '../private-address.ts';
import { readCsvStream } from '../read-csv-stream.ts';
import { readJsonStream } from '../read-json-stream.ts';
import { sourceUnavailable } from '../source-unavailable.ts';
import { writeTable } from '../table-io.ts';

export interface IngestHttpOptions {
  /**
   * Hosts (names or IP literals, compared case-insensitively with the URL's host) that may be
   * fetched even though they are or resolve to private, loopback, link-local or unique-local
   * addresses: an internal data service the workers are meant to reach. Every other host must
   * resolve only to public addresses.
   * @defaultValue none
   */
  allowHosts?: readonly string[];
  /** Largest `maxBytes` a pipeline may ask for. @defaultValue 1 GiB */
  maxBytesLimit?: number;
  /** Longest `timeoutMs` a pipeline may ask for. @defaultValue 30 minutes */
  timeoutMsLimit?: number;
}

const FORMAT_MEDIA_TYPES = {
  csv: ['text/csv', 'application/csv', 'text/comma-separated-values', 'text/tab-separated-values', 'text/plain'],
  json: ['application/json', 'text/json'],
  jsonl: ['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines', 'application/jsonlines', 'text/plain'],
} as const;
type Format = keyof typeof FORMAT_MEDIA_TYPES;

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Raised inside the DNS hook; turned into a non-retryable StageError. */
class RefusedAddressError extends Error {
  constructor(
    readonly host: string,
    readonly address: string,
    readonly reason: string,
  ) {
    super(`${host} resolves to ${address} (${reason})`);
  }
}

/** `ingest.http@1` with the given allow-list and limits. */
export function createIngestHttpStage(options: IngestHttpOptions = {}) {
  const allowHosts = new Set((options.allowHosts ?? []).map(normalizeHost));
  const maxBytesLimit = options.maxBytesLimit ?? 1024 ** 3;
  const timeoutMsLimit = options.timeoutMsLimit ?? 30 * 60_000;

  const params = z.strictObject({
    /** http or https URL of a CSV, JSON or JSON Lines document. */
    url: z.url({ protocol: /^https?$/ }),
    /** Name of the column to predict. */
    target: z.string().min(1),
    /** `auto` picks the format from the response's Content-Type. */
    format: z.enum(['auto', 'csv', 'json', 'jsonl']).default('auto'),
    /** CSV field delimiter. */
    delimiter: z.string().min(1).optional(),
    /** The download fails when the body is larger. @defaultValue 100 MiB */
    maxBytes: z.int().min(1).max(maxBytesLimit).default(Math.min(100 * 1024 ** 2, maxBytesLimit)),
    /** The download (all redirects and the whole body) fails when it takes longer. @defaultValue 60 s */
    timeoutMs: z.int().min(1).max(timeoutMsLimit).default(Math.min(60_000, timeoutMsLimit)),
  });

  return defineStage({
    type: 'ingest.http@1',
    description:
      'Downloads a CSV, JSON or JSON Lines document over HTTP(S) and streams it into an Arrow table, with a ' +
      'size limit, a time limit and a Content-Type check. Refuses hosts that are or resolve to private, ' +
      'loopback, link-local or unique-local addresses unless the worker allow-lists them. Set `cache: false` ' +
      'on the stage when the document changes under the same URL.',
    inputs: {},
    outputs: { data: 'table' },
    params,
    defaultTimeoutMs: 30 * 60_000,
    async run(ctx) {
      const { target, maxBytes, timeoutMs } = ctx.params;
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = AbortSignal.any([ctx.signal, timeout]);
      const url = new URL(ctx.params.url);
      if (url.username !== '' || url.password !== '') {
        throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', 'the url carries credentials; params are stored with the run, so they may not hold secrets');
      }
      let response: IncomingMessage | undefined;
      try {
        const opened = await open(url, { allowHosts, signal, maxBytes });
        response = opened.response;
        const finalUrl = opened.finalUrl;
        const contentType = (response.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        let format = pickFormat(ctx.params.format, contentType);
        const hash = createHash('sha256');
        const limiter = new ByteLimit(maxBytes, hash);
        response.on('error', (error) => limiter.destroy(error));
        // A reader that fails part-way leaves the body unread: the finally below closes it.
        const body = response.pipe(limiter);
        let table: Table;
        if (format === 'csv') {
          ({ table } = await readCsvStream(body, { signal, ...(ctx.params.delimiter === undefined ? {} : { delimiter: ctx.params.delimiter }) }));
        } else {
          // Servers label JSON Lines application/json often enough: under auto, the body decides.
          ({ table, format } = await readJsonStream(body, { format: ctx.params.format === 'auto' ? 'auto' : format, signal }));
        }
        const columns = table.schema.names;
        if (!columns.includes(target)) {
          throw StageError.nonRetryable('PW_ERR_BAD_DATA', `target column ${target} is not in the downloaded data (columns: ${columns.join(', ')})`, {
            target,
            columns,
          });
        }
        const source = { url: redact(finalUrl), contentType, format, bytes: limiter.bytes, sha256: `sha256:${hash.digest('hex')}` };
        ctx.logger.info('ingested http', { ...source, rows: table.numRows, columns: columns.length });
        const data = await writeTable(ctx.store, table, { target, metadata: { source } });
        return { outputs: { data }, metrics: { rows: table.numRows, columns: columns.length, bytes: limiter.bytes } };
      } catch (error) {
        if (timeout.aborted && !ctx.signal.aborted && !(error instanceof StageError)) {
          throw sourceUnavailable(`the download of ${redact(url)} took longer than ${timeoutMs} ms`, { timeoutMs }, error);
        }
        throw error;
      } finally {
        response?.destroy();
      }
    },
  });
}

/** `ingest.http@1` with no allow-list: only public addresses. */
export const ingestHttpStage = createIngestHttpStage();

function normalizeHost(host: string): string {
  return host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
}

function redact(url: URL): string {
  const copy = new URL(url);
  copy.username = '';
  copy.password = '';
  return copy.toString();
}

/** Follows redirects (re-checking every hop) to a 2xx response whose body has not been read. */
async function open(
  start: URL,
  options: { allowHosts: ReadonlySet<string>; signal: AbortSignal; maxBytes: number },
): Promise<{ response: IncomingMessage; finalUrl: URL }> {
  let url = start;
  for (let hop = 0; ; hop++) {
    const response = await get(url, options);
    const status = response.statusCode ?? 0;
    if (REDIRECTS.has(status) && response.headers.location) {
      response.resume();
      if (hop >= MAX_REDIRECTS) throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', `more than ${MAX_REDIRECTS} redirects from ${redact(start)}`);
      const next = new URL(response.headers.location, url);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', `${redact(url)} redirects to a ${next.protocol} URL`);
      }
      url = next;
      continue;
    }
    if (status >= 200 && status < 300) {
      const length = Number(response.headers['content-length']);
      if (Number.isFinite(length) && length > options.maxBytes) {
        response.destroy();
        throw StageError.nonRetryable('PW_ERR_BAD_DATA', `${redact(url)} is ${length} bytes, more than maxBytes ${options.maxBytes}`, {
          contentLength: length,
          maxBytes: options.maxBytes,
        });
      }
      const encoding = response.headers['content-encoding'];
      if (encoding !== undefined && encoding !== 'identity') {
        response.destroy();
        throw StageError.nonRetryable('PW_ERR_BAD_DATA', `${redact(url)} answered with Content-Encoding ${encoding}, though identity was asked for`);
      }
      return { response, finalUrl: url };
    }
    response.resume();
    const message = `GET ${redact(url)} answered HTTP ${status}`;
    if (status >= 500 || status === 408 || status === 429) throw sourceUnavailable(message, { status });
    throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', message, { status });
  }
}

/** One GET, connecting only to addresses that passed the check (no DNS rebinding window). */
function get(url: URL, options: { allowHosts: ReadonlySet<string>; signal: AbortSignal }): Promise<IncomingMessage> {
  const host = normalizeHost(url.hostname);
  const allowed = options.allowHosts.has(host);
  if (!allowed && isIP(host) !== 0) {
    // Literal addresses never reach the lookup hook.
    const reason = nonPublicReason(host);
    if (reason !== undefined) throw refused(new RefusedAddressError(host, host, reason));
  }
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? https : http).request(url, {
      method: 'GET',
      agent: false,
      signal: options.signal,
      headers: {
        accept: 'text/csv, application/json, application/x-ndjson, text/plain;q=0.5',
        'accept-encoding': 'identity',
        'user-agent': 'pipewright-ingest-http/1',
      },
      ...(allowed ? {} : { lookup: publicOnlyLookup }),
    });
    request.on('response', (response) => {
      // Tie the body to the signal too: aborting must stop a body that is still arriving.
      const abort = (): void => {
        response.destroy(options.signal.reason instanceof Error ? options.signal.reason : new Error('aborted'));
      };
      options.signal.addEventListener('abort', abort, { once: true });
      response.once('close', () => options.signal.removeEventListener('abort', abort));
      resolve(response);
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof RefusedAddressError) reject(refused(error));
      else if (options.signal.aborted) reject(error);
      else if (error.code === 'ENOTFOUND') {
        reject(StageError.nonRetryable('PW_ERR_BAD_PARAMS', `host ${host} does not resolve`, { host }, error));
      } else reject(sourceUnavailable(`GET ${redact(url)} failed: ${error.message}`, { code: error.code }, error));
    });
    request.end();
  });
}

function refused(error: RefusedAddressError): StageError {
  return StageError.nonRetryable(
    'PW_ERR_BAD_PARAMS',
    `refusing to fetch from ${error.host}: ${error.address} is a ${error.reason} address (the worker may allow-list the host)`,
    { host: error.host, address: error.address, reason: error.reason },
    error,
  );
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** dns.lookup for http.request that fails unless every address of the host is public. */
function publicOnlyLookup(hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    for (const { address } of addresses) {
      const reason = nonPublicReason(address);
      if (reason !== undefined) return callback(new RefusedAddressError(hostname, address, reason), []);
    }
    if (options.all) return callback(null, addresses);
    const first = addresses[0];
    if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
    callback(null, first.address, first.family);
  });
}

function pickFormat(requested: 'auto' | Format, contentType: string): Format {
  const accepts = (format: Format): boolean =>
    (FORMAT_MEDIA_TYPES[format] as readonly string[]).includes(contentType) || (format === 'json' && /^application\/[\w.-]+\+json$/.test(contentType));
  if (requested !== 'auto') {
    if (!accepts(requested)) {
      throw StageError.nonRetryable('PW_ERR_BAD_DATA', `the response is ${contentType || 'untyped'}, not ${requested}`, {
        contentType,
        accepted: FORMAT_MEDIA_TYPES[requested],
      });
    }
    return requested;
  }
  if (contentType === 'text/plain' || !(['csv', 'json', 'jsonl'] as const).some(accepts)) {
    throw StageError.nonRetryable(
      'PW_ERR_BAD_DATA',
      `cannot tell the format from Content-Type ${contentType || '(none)'}; set format to csv, json or jsonl if it is one`,
      { contentType },
    );
  }
  return (['csv', 'json', 'jsonl'] as const).find(accepts)!;
}

/** Counts and hashes the body, failing once it passes the limit (Content-Length can lie or be absent). */
class ByteLimit extends Transform {
  bytes = 0;
  constructor(
    private readonly limit: number,
    private readonly hash: ReturnType<typeof createHash>,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      callback(StageError.nonRetryable('PW_ERR_BAD_DATA', `the response is larger than maxBytes ${this.limit}`, { maxBytes: this.limit }));
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }
}
