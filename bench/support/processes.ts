export { freePort } from '@pipewright/testing';
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT, type BenchContext } from './context.ts';

/** A child process the benchmark started, stopped by its cleanup. */
export interface BenchProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  output(): string;
  /** Resolves with the first output line matching, or rejects when the process exits first. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<string>;
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  env?: Record<string, string>;
  args?: string[];
  nodeArgs?: string[];
  /** TypeScript modules to load (`--import`) after tsx, before the entry. */
  preload?: string[];
  ipc?: boolean;
}

/** Starts a TypeScript entry with `node --import tsx`, as the services run in production. */
export function spawnTs(ctx: BenchContext, name: string, entry: string, options: SpawnOptions = {}): BenchProcess {
  const stdio: StdioOptions = options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'];
  // PW_BENCH_PROFILE_DIR: each service writes a V8 CPU profile there when it exits (a diagnostic;
  // NODE_OPTIONS may not carry --cpu-prof).
  const profileDir = process.env.PW_BENCH_PROFILE_DIR;
  const child = spawn(process.execPath, [
    ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', `${profileDir}/${name}`] : []),
    ...(options.nodeArgs ?? []),
    '--import',
    'tsx',
    ...(options.preload ?? []).flatMap((p) => ['--import', pathToFileURL(resolve(REPO_ROOT, p)).href]),
    resolve(REPO_ROOT, entry),
    ...(options.args ?? []),
  ], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...options.env },
    stdio,
  });
  let output = '';
  const waiters: { pattern: RegExp; resolve(line: string): void }[] = [];
  const keep = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output += text;
    if (output.length > 200_000) output = output.slice(-100_000);
    for (const w of [...waiters]) {
      const line = text.split('\n').find((l) => w.pattern.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const proc: BenchProcess = {
    name,
    child,
    pid: child.pid ?? -1,
    output: () => output,
    waitForOutput(pattern, timeoutMs) {
      const existing = output.split('\n').find((l) => pattern.test(l));
      if (existing !== undefined) return Promise.resolve(existing);
      return new Promise<string>((resolveLine, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no output matching ${pattern} in ${timeoutMs} ms:\n${output.slice(-2000)}`)), timeoutMs);
        waiters.push({
          pattern,
          resolve: (line) => {
            clearTimeout(timer);
            resolveLine(line);
          },
        });
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${output.slice(-2000)}`));
        });
      });
    },
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  ctx.defer(`stop ${name} (pid ${proc.pid})`, () => proc.stop());
  return proc;
}


/** Resident set size of a process from /proc (bytes), or NaN when it is gone. */
export async function rssOf(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** CPU time (user+system, ms) a process has used so far, from /proc/<pid>/stat. */
export async function cpuMsOf(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / 100; // CLK_TCK is 100 on Linux
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU time used so far by every Postgres and Redis server process on this machine, in ms (from
 * /proc; a backend that exits between two readings takes its share with it).
 */
export async function serverCpuMs(): Promise<{ postgres: number; redis: number }> {
  const { readdir, readFile } = await import('node:fs/promises');
  const out = { postgres: 0, redis: 0 };
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
      if (name === 'postgres') out.postgres += ms;
      else if (name.startsWith('redis-server')) out.redis += ms;
    } catch {
      // gone
    }
  }
  return out;
}
