import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createLocalArtifactStore } from '@pipewright/artifacts';
import { runService } from '@pipewright/process';
import { expandQueueSelection } from '@pipewright/queue';
import { createBuiltinStages, createStageRegistry, loadTensorflow } from '@pipewright/stages';
import { loadWorkerEnv } from './env.ts';
import { startWorker } from './start-worker.ts';

/** `npm run start -w services/worker -- --queues cpu` (or `--queues stage-train-gpu,stage-ingest-cpu`). */
runService(async () => {
  const env = loadWorkerEnv();
  const { values } = parseArgs({ options: { queues: { type: 'string' }, concurrency: { type: 'string' } }, allowPositionals: false });
  const logger = pino({ level: env.LOG_LEVEL, base: { service: 'worker' } });
  const registry = createStageRegistry(
    createBuiltinStages({ dataDir: env.DATA_ROOT, http: { allowHosts: env.HTTP_ALLOW_HOSTS }, postgres: { connections: env.PG_CONNECTIONS } }),
  );
  const families = [...new Set(registry.list().map((d) => d.family))];
  const queues = expandQueueSelection((values.queues ?? env.WORKER_QUEUES).split(','), families);
  const { backend } = await loadTensorflow(env.TF_BACKEND ? { prefer: env.TF_BACKEND } : {});
  return startWorker({
    redisUrl: env.REDIS_URL,
    prefix: env.QUEUE_PREFIX,
    queues,
    store: createLocalArtifactStore({ root: env.ARTIFACT_ROOT }),
    findStage: (type) => registry.getDefinition(type),
    logger,
    concurrency: values.concurrency ? Number(values.concurrency) : env.WORKER_CONCURRENCY,
    ...(env.WORKER_ID ? { workerId: env.WORKER_ID } : {}),
    backend,
    heartbeatMs: env.WORKER_HEARTBEAT_MS,
    gpuCount: backend === 'tensorflow-gpu' ? 1 : 0,
  });
});
