import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';

/** The repository root (bench/support/ is two levels down). */
export const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** Postgres server (trust auth) and Redis the benchmarks use; override with BENCH_DATABASE_URL / BENCH_REDIS_URL. */
export const SERVER_URL = process.env['BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** One id per `npm run bench`: names every database and Redis prefix it creates. */
export const RUN_ID = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;

/** A row of the result table. Numbers are formatted by the table printer. */
export interface ResultRow {
  figure: string;
  pipewright: string;
  baseline: string;
  /** Pipewright / baseline (or the reverse for "higher is better" figures), as the goal is stated. */
  ratio?: number;
  goal: string;
  pass?: boolean;
  /** Extra lines printed under the table and written into docs/benchmarks.md. */
  notes?: string[];
}

export interface BenchOptions {
  quick: boolean;
  /** Where the Pipewright services run for hop and fan-out: one process, or one per service. */
  layout: 'inproc' | 'procs';
}

/**
 * Given to each benchmark: options, a deadline signal, and `defer` to register cleanup that runs
 * (last registered first) when the benchmark ends, fails or times out.
 */
export class BenchContext {
  private readonly cleanups: { label: string; fn: () => Promise<unknown> | unknown }[] = [];
  readonly controller = new AbortController();

  constructor(
    readonly name: string,
    readonly options: BenchOptions,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  defer(label: string, fn: () => Promise<unknown> | unknown): void {
    this.cleanups.push({ label, fn });
  }

  log(message: string): void {
    process.stderr.write(`  [${this.name}] ${message}\n`);
  }

  /** Throws when the benchmark's time is up, so long loops stop. */
  check(): void {
    this.signal.throwIfAborted();
  }

  async cleanup(): Promise<void> {
    while (this.cleanups.length > 0) {
      const { label, fn } = this.cleanups.pop()!;
      try {
        const t0 = Date.now();
        await withTimeout(Promise.resolve().then(fn), 30_000, `cleanup ${label}`);
        if (process.env['BENCH_DEBUG']) process.stderr.write(`  [${this.name}] cleanup ${label}: ${Date.now() - t0} ms\n`);
      } catch (error) {
        process.stderr.write(`  [${this.name}] cleanup "${label}" failed: ${String((error as Error)?.message ?? error)}\n`);
      }
    }
  }
}

export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${Math.round(ms / 1000)} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until `probe` returns a value, or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 50, signal?: AbortSignal): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}
