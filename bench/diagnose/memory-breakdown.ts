/**
 * Diagnostic: idle RSS after GC of variants of a worker process, to see what the worker's
 * memory is made of. `tsx bench/diagnose/memory-breakdown.ts`
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { workerKey } from '@pipewright/queue';
import { BenchContext, REDIS_URL, REPO_ROOT, sleep, waitFor } from '../support/context.ts';
import { spawnTs, type BenchProcess } from '../support/processes.ts';
import { benchPrefix } from '../support/redis.ts';
import { mb } from '../support/stats.ts';

const ctx = new BenchContext('mem-breakdown', { quick: true, layout: 'procs' });
const PROBE = 'bench/support/memory-probe.ts';
async function measure(proc: { child: BenchProcess['child'] }): Promise<NodeJS.MemoryUsage> {
  const answer = new Promise<{ usage: NodeJS.MemoryUsage }>((resolve) => proc.child.once('message', resolve as never));
  proc.child.send({ type: 'measure' });
  return (await answer).usage;
}
const line = (name: string, u: NodeJS.MemoryUsage) => console.log(`${name.padEnd(58)} rss ${mb(u.rss).padStart(7)}  heapUsed ${mb(u.heapUsed).padStart(6)}  heapTotal ${mb(u.heapTotal).padStart(6)}  external ${mb(u.external).padStart(6)}`);
try {
  const dir = await mkdtemp(join(tmpdir(), 'pw-mem-'));
  ctx.defer('rm', () => rm(dir, { recursive: true, force: true }));
  const prefix = benchPrefix(ctx, 'memdiag');
  // a. plain node (no tsx) + one BullMQ worker
  const plain = join(REPO_ROOT, 'bench', `.plain-worker-${process.pid}.mjs`);
  await writeFile(plain, `import { Worker } from 'bullmq'; import { Redis } from 'ioredis';
process.on('message', (m) => { if (m?.type === 'measure') { gc(); gc(); process.send({ type: 'memory', usage: process.memoryUsage() }); } });
const c = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: null }); const w = new Worker('bare', async () => 1, { connection: c, prefix: process.env.QUEUE_PREFIX });
await w.waitUntilReady(); console.log('ready');`);
  ctx.defer('rm plain', () => rm(plain, { force: true }));
  const child = spawn(process.execPath, ['--expose-gc', plain], { cwd: REPO_ROOT, env: { ...process.env, REDIS_URL, QUEUE_PREFIX: prefix }, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  ctx.defer('kill plain', () => child.kill('SIGKILL'));
  await new Promise((r) => child.stdout!.once('data', r));
  await sleep(2000);
  line('plain node + 1 BullMQ Worker (no tsx)', await measure({ child }));
  child.kill('SIGKILL');

  const variants: [string, string, Record<string, string>][] = [
    ['node --import tsx + 1 BullMQ Worker', 'bench/support/bare-worker.ts', {}],
    ['tsx, import bullmq + @pipewright/queue', 'bench/diagnose/import-only.ts', { IMPORTS: 'bullmq,@pipewright/queue' }],
    ['tsx, import @pipewright/worker (no TF loaded)', 'bench/diagnose/import-only.ts', { IMPORTS: '@pipewright/worker' }],
    ['tsx, import @pipewright/stages/lazy (main.ts)', 'bench/diagnose/import-only.ts', { IMPORTS: '@pipewright/stages/lazy' }],
    ['tsx, import @pipewright/stages (all stages)', 'bench/diagnose/import-only.ts', { IMPORTS: '@pipewright/stages' }],
    ['tsx, import @tensorflow/tfjs-core + tfjs-layers', 'bench/diagnose/import-only.ts', { IMPORTS: '@tensorflow/tfjs-core,@tensorflow/tfjs-layers' }],
    ['tsx, import apache-arrow', 'bench/diagnose/import-only.ts', { IMPORTS: 'apache-arrow' }],
    ['worker main.ts, TF_BACKEND=cpu', 'services/worker/src/main.ts', { TF_BACKEND: 'cpu' }],
    ['worker main.ts, default backend (TF loaded on first use)', 'services/worker/src/main.ts', {}],
    ['worker main.ts, WORKER_QUEUES=stage-util-cpu', 'services/worker/src/main.ts', { WORKER_QUEUES: 'stage-util-cpu' }],
    ['worker main.ts, WORKER_QUEUES=all (TF at start)', 'services/worker/src/main.ts', { WORKER_QUEUES: 'all' }],
  ];
  let n = 0;
  for (const [name, entry, env] of variants) {
    const id = `diag-${(n += 1)}`;
    const proc = spawnTs(ctx, name, entry, { nodeArgs: ['--expose-gc'], preload: [PROBE], ipc: true, env: { REDIS_URL, QUEUE_PREFIX: prefix, ARTIFACT_ROOT: dir, WORKER_ID: id, WORKER_QUEUES: 'cpu', ...env } });
    if (entry.includes('bare') || entry.includes('import-only')) await proc.waitForOutput(/ready/, 60_000);
    else {
      const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
      await waitFor('heartbeat', async () => ((await redis.exists(workerKey(prefix, id))) ? true : undefined), 60_000, 100);
      redis.disconnect();
    }
    await sleep(3000);
    line(name, await measure(proc));
    await proc.stop();
  }
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  await ctx.cleanup();
  process.exit();
}
