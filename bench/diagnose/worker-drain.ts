/**
 * Diagnostic: how fast one worker drains a deep queue of no-op stage jobs, with no orchestrator:
 * `N` jobs are added first, then a worker (concurrency `C`) starts; the time until `N` results are
 * in the events stream is the worker's own ceiling. `tsx bench/diagnose/worker-drain.ts [--jobs 2000] [--concurrency 4]`
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createLocalArtifactStore } from '@pipewright/artifacts';
import { eventStreamKey, openRedis, QueueProducer } from '@pipewright/queue';
import { builtinStages, createStageRegistry } from '@pipewright/stages';
import { randomUUID } from 'node:crypto';
import { startWorker } from '../../services/worker/src/start-worker.ts';

const { values } = parseArgs({ options: { jobs: { type: 'string', default: '2000' }, concurrency: { type: 'string', default: '4' } } });
const jobs = Number(values.jobs);
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const prefix = `{pw-drain-${randomUUID().slice(0, 8)}}`;
const connection = openRedis(redisUrl);
const producer = new QueueProducer({ connection, prefix });
const root = await mkdtemp(join(tmpdir(), 'pw-drain-'));
try {
  const registry = createStageRegistry(builtinStages);
  await producer.publishStageJobs(
    Array.from({ length: jobs }, (_, i) => ({
      queue: 'stage-util-cpu',
      job: { runId: 'r', stageRunId: `s${i}`, attemptId: `a${i}`, attempt: 1, stageKey: `s${i}`, uses: 'util.noop@1', params: {}, inputs: {}, timeoutMs: 60_000 },
    })),
  );
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const worker = await startWorker({ redisUrl, prefix, queues: ['stage-util-cpu'], store: createLocalArtifactStore({ root }), findStage: (t) => registry.getDefinition(t), logger: pino({ level: 'warn' }), concurrency: Number(values.concurrency) });
  while ((await connection.xlen(eventStreamKey(prefix))) < jobs) await new Promise((r) => setTimeout(r, 20));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  console.log(`${jobs} no-op jobs, concurrency ${values.concurrency}: ${ms.toFixed(0)} ms = ${((jobs / ms) * 1000).toFixed(0)} jobs/s; CPU ${((cpu.user + cpu.system) / 1000 / jobs).toFixed(2)} ms per job`);
  await worker.close();
} finally {
  const keys = await connection.keys(`${prefix}*`);
  if (keys.length) await connection.unlink(...keys);
  connection.disconnect();
  await rm(root, { recursive: true, force: true });
}
