import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createLocalArtifactStore } from '@pipewright/artifacts';
import { runService } from '@pipewright/process';
import { expandQueueSelection } from '@pipewright/queue';
// The light entry: the stages' implementations (TensorFlow.js, Arrow, parsers) are imported by
// the first job of each type, so a worker that idles, or never trains, stays small.
import { lazyBuiltinStages, loadTensorflow, preferTensorflowBackend, stageFamily } from '@pipewright/stages/lazy';
import { loadWorkerEnv } from './env.ts';
import { startWorker } from './start-worker.ts';

/** `npm run start -w services/worker -- --queues cpu` (or `--queues stage-train-gpu,stage-ingest-cpu`). */
runService(async () => {
  const env = loadWorkerEnv();
  const { values } = parseArgs({ options: { queues: { type: 'string' }, concurrency: { type: 'string' } }, allowPositionals: false });
  const logger = pino({ level: env.LOG_LEVEL, base: { service: 'worker' } });
  const stages = lazyBuiltinStages({ dataDir: env.DATA_ROOT, http: { allowHosts: env.HTTP_ALLOW_HOSTS }, postgres: { connections: env.PG_CONNECTIONS } });
  const families = [...new Set(stages.types().map(stageFamily))];
  const queues = expandQueueSelection((values.queues ?? env.WORKER_QUEUES).split(','), families);
  const tensorflow = env.TF_BACKEND ? { prefer: env.TF_BACKEND } : {};
  preferTensorflowBackend(tensorflow);
  // A GPU worker is there to train: it loads TensorFlow.js now, so its heartbeat shows the
  // backend and the GPU from the start. A CPU worker reports the backend once a stage loaded it.
  const backend = queues.some((q) => q.endsWith('-gpu')) ? (await loadTensorflow(tensorflow)).backend : undefined;
  return startWorker({
    redisUrl: env.REDIS_URL,
    prefix: env.QUEUE_PREFIX,
    queues,
    store: createLocalArtifactStore({ root: env.ARTIFACT_ROOT }),
    findStage: (type) => stages.load(type),
    logger,
    concurrency: values.concurrency ? Number(values.concurrency) : env.WORKER_CONCURRENCY,
    ...(env.WORKER_ID ? { workerId: env.WORKER_ID } : {}),
    ...(backend ? { backend } : {}),
    heartbeatMs: env.WORKER_HEARTBEAT_MS,
    gpuCount: backend === 'tensorflow-gpu' ? 1 : 0,
  });
});
