/**
 * Diagnostic: where the machine's CPU goes, by process and thread, measured with `perf`
 * (system-wide `cpu-clock` samples) while something else runs, e.g. the throughput bench in
 * another shell. Unlike V8's CPU profiles (`PW_BENCH_PROFILE_DIR`), it counts only time on a core:
 * V8's sampler also samples a thread while it waits for a core, and on two saturated cores it
 * charged that wait to the system call the thread was in (`writev`, docs/performance.md, session 7).
 * Needs `perf` (Debian: `apt-get install -y linux-perf`) and root, or perf_event_paranoid <= 0.
 * `tsx bench/diagnose/system-cpu.ts [--seconds 20] [--delay 0] [--keep /tmp/perf.data]`
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '20' }, delay: { type: 'string', default: '0' }, keep: { type: 'string' } } });
const dir = mkdtempSync(join(tmpdir(), 'pw-perf-'));
const data = values.keep ?? join(dir, 'perf.data');
try {
  await new Promise((resolve) => setTimeout(resolve, Number(values.delay) * 1000));
  execFileSync('perf', ['record', '-e', 'cpu-clock', '-a', '-g', '-o', data, 'sleep', values.seconds], { stdio: ['ignore', 'ignore', 'inherit'] });
  // Which node process is which service: their command lines, read while they still run.
  const nodes = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => /\bnode\b/.test(line) && /services\/|bench\//.test(line));
  const report = (...args: string[]) =>
    execFileSync('perf', ['report', '-i', data, '--stdio', '--no-children', '-g', 'none', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 })
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'));
  console.log('share of all samples (2 cores = 100 %), by command:');
  console.log(report('--sort', 'comm').slice(0, 8).join('\n'));
  console.log('\nby process/thread (node: the orchestrator, API, workers and their helper threads):');
  console.log(report('--sort', 'comm,pid').slice(0, 16).join('\n'));
  console.log(nodes.map((line) => `  ${line.trim().slice(0, 160)}`).join('\n'));
  console.log('\nPostgres, by function:');
  console.log(report('--comm', 'postgres', '--sort', 'sym').slice(0, 20).join('\n'));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
