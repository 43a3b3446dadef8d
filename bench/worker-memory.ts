import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { workerKey } from '@pipewright/queue';
import { REDIS_URL, REPO_ROOT, sleep, waitFor, type BenchContext, type ResultRow } from './support/context.ts';
import { rssOf, spawnTs, type BenchProcess } from './support/processes.ts';
import { benchPrefix } from './support/redis.ts';
import { startPipewright, submit, waitRunEnded } from './support/stack.ts';
import { mb, ms } from './support/stats.ts';

const PROBE = 'bench/support/memory-probe.ts';

/**
 * Worker memory: a worker as its own process (services/worker/src/main.ts, serving every CPU
 * queue, TensorFlow.js backend as it picks by default), RSS after start, 3 s idle and a full GC.
 * Baseline (for scale, no goal): a bare Node process with one BullMQ Worker, measured the same
 * way. Then the demo MLP (train.mlp@1 on examples/data/breast_cancer.csv, after ingest, split and
 * scale) runs on that worker, submitted through an in-process API and orchestrator; RSS is sampled
 * from /proc every 20 ms, and the peak while the train stage ran is reported.
 */
export async function workerMemory(ctx: BenchContext): Promise<ResultRow[]> {
  const stack = await startPipewright(ctx, { label: 'mem', layout: 'inproc', workers: 0 });
  const artifactRoot = await mkdtemp(join(tmpdir(), 'pw-bench-mem-'));
  ctx.defer(`remove ${artifactRoot}`, () => rm(artifactRoot, { recursive: true, force: true }));

  const bare = spawnTs(ctx, 'bare-bullmq-worker', 'bench/support/bare-worker.ts', {
    nodeArgs: ['--expose-gc'],
    preload: [PROBE],
    ipc: true,
    env: { REDIS_URL, QUEUE_PREFIX: benchPrefix(ctx, 'membare') },
  });
  await bare.waitForOutput(/ready/, 60_000);
  await sleep(3000);
  const bareRss = await measure(bare);
  await bare.stop();

  const worker = spawnTs(ctx, 'worker', 'services/worker/src/main.ts', {
    nodeArgs: ['--expose-gc'],
    preload: [PROBE],
    ipc: true,
    env: { REDIS_URL, QUEUE_PREFIX: stack.prefix, ARTIFACT_ROOT: artifactRoot, DATA_ROOT: REPO_ROOT, WORKER_ID: 'bench-mem-worker', WORKER_QUEUES: 'cpu', LOG_LEVEL: 'warn' },
  });
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
  try {
    await waitFor('worker heartbeat', async () => ((await redis.exists(workerKey(stack.prefix, 'bench-mem-worker'))) ? true : undefined), 120_000, 100, ctx.signal);
  } finally {
    redis.disconnect();
  }
  await sleep(3000);
  const idle = await measure(worker);
  ctx.log(`idle worker RSS after GC ${mb(idle.rss)} (heap used ${mb(idle.heapUsed)}, external ${mb(idle.external)}); bare BullMQ worker ${mb(bareRss.rss)}`);

  // Train the demo MLP on it, sampling RSS.
  const samples: { at: number; rss: number }[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const rss = await rssOf(worker.pid);
      if (Number.isFinite(rss)) samples.push({ at: Date.now(), rss });
      await sleep(20);
    }
  })();
  const runId = await submit(stack.url, mlpSpec());
  const ended = await waitRunEnded(ctx, stack.pool, runId, 300_000, 100);
  sampling = false;
  await sampler;
  const { rows } = await stack.pool.query<{ started_at: Date; finished_at: Date; backend: string | null; peak: string | null; epochs: number | null }>(
    `select a.started_at, a.finished_at, a.backend, a.resource_use->>'peakRssBytes' as peak, (s.metrics->>'epochs')::int as epochs
       from stage_runs s join attempts a on a.stage_run_id = s.id and a.number = s.attempt_count where s.run_id = $1 and s.stage_key = 'train'`,
    [runId],
  );
  const train = rows[0];
  if (ended.status !== 'SUCCEEDED' || !train) throw new Error(`MLP run ${runId} ended ${ended.status}; the worker's log ends:\n${worker.output().slice(-3000)}`);
  const during = samples.filter((s) => s.at >= train.started_at.getTime() && s.at <= train.finished_at.getTime() + 20);
  const peakTrain = Math.max(...(during.length ? during : samples).map((s) => s.rss));
  const peakRun = Math.max(...samples.map((s) => s.rss));
  const trainMs = train.finished_at.getTime() - train.started_at.getTime();
  ctx.log(`peak RSS while training ${mb(peakTrain)} (${during.length} samples, backend ${train.backend}, ${ms(trainMs)})`);

  return [
    {
      figure: 'worker memory: idle RSS after GC',
      pipewright: mb(idle.rss),
      baseline: `${mb(bareRss.rss)} (bare BullMQ worker)`,
      ratio: idle.rss / bareRss.rss,
      goal: '<= 150 MB',
      pass: idle.rss <= 150 * 1024 * 1024,
      notes: [
        `worker memory: worker process serving every CPU queue; idle after start + 3 s + GC: RSS ${mb(idle.rss)}, V8 heap used ${mb(idle.heapUsed)} of ${mb(idle.heapTotal)}, external ${mb(idle.external)}, array buffers ${mb(idle.arrayBuffers)}; bare Node + one BullMQ Worker: RSS ${mb(bareRss.rss)}, heap used ${mb(bareRss.heapUsed)}`,
        `worker memory: training train.mlp@1 (breast cancer, backend ${train.backend ?? '?'}, ${train.epochs ?? '?'} epochs, ${ms(trainMs)}): peak RSS ${mb(peakTrain)} (sampled every 20 ms; the attempt's own peakRssBytes ${train.peak ? mb(Number(train.peak)) : 'n/a'}); peak over the whole 5-stage run ${mb(peakRun)}`,
      ],
    },
    { figure: 'worker memory: peak RSS training the demo MLP', pipewright: mb(peakTrain), baseline: '—', goal: '(reported)' },
  ];
}

async function measure(proc: BenchProcess): Promise<NodeJS.MemoryUsage> {
  const answer = new Promise<{ gc: boolean; usage: NodeJS.MemoryUsage }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${proc.name} did not answer the memory probe`)), 30_000);
    proc.child.once('message', (m: { type: string; gc: boolean; usage: NodeJS.MemoryUsage }) => {
      clearTimeout(timer);
      resolve(m);
    });
  });
  proc.child.send({ type: 'measure' });
  const { gc, usage } = await answer;
  if (!gc) throw new Error(`${proc.name}: gc() is not exposed`);
  // The probe's own reading, taken right after the GC; /proc agrees to within a page or two.
  return usage;
}

/** The demo pipeline with the MLP: ingest -> split -> scale -> train.mlp@1 -> evaluate. */
function mlpSpec() {
  return {
    apiVersion: 'pipewright/v1',
    name: 'bench-breast-cancer-mlp',
    stages: [
      { id: 'ingest', uses: 'ingest.csv@1', with: { path: 'examples/data/breast_cancer.csv', target: 'target' } },
      { id: 'split', uses: 'split.train_test@1', needs: ['ingest'], with: { testSize: 0.3, stratify: true, seed: 42 } },
      { id: 'scale', uses: 'preprocess.standardize@1', needs: ['split'] },
      { id: 'train', uses: 'train.mlp@1', needs: ['scale'], with: { hidden: [16], epochs: 50 } },
      { id: 'evaluate', uses: 'evaluate.classification@1', needs: ['train', 'scale'] },
    ],
  };
}
