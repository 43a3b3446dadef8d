import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ArtifactStore } from '@pipewright/artifacts';
import { openRedis, QueueProducer, stageJobSchema, workerKey, type StageEvent } from '@pipewright/queue';
import type { StageDefinition } from '@pipewright/stages';
import type { Logger } from 'pino';
import { CancelWatcher } from './cancel-watcher.ts';
import { runStageJob } from './run-stage-job.ts';

export interface StartWorkerOptions {
  redisUrl: string;
  /** @defaultValue `{pw}` */
  prefix: string;
  /** Queue names this worker serves (see expandQueueSelection). */
  queues: string[];
  store: ArtifactStore;
  /** The definition of a stage type, or a promise of it when it is imported on first use. */
  findStage(type: string): StageDefinition | undefined | Promise<StageDefinition | undefined>;
  logger: Logger;
  /** Jobs run at once per queue. @defaultValue 1 */
  concurrency?: number;
  /** @defaultValue a random id */
  workerId?: string;
  /**
   * Reported in the heartbeat (the TensorFlow backend this worker loads).
   * @defaultValue the backend a stage last reported with `ctx.setBackend`; null before any did
   */
  backend?: string;
  gpuCount?: number;
  /** Heartbeat period; the record expires after three missed beats. @defaultValue 5000 */
  heartbeatMs?: number;
  /** How long an aborted (canceled, timed-out) handler may take to stop. @defaultValue 5000 */
  abortGraceMs?: number;
  /** Announce a stage's start only once it has run this long (0: at once). @defaultValue 200 */
  startEventDelayMs?: number;
}

export interface RunningWorker {
  id: string;
  queues: string[];
  close(): Promise<void>;
}

/**
 * Starts a worker: one BullMQ Worker per queue, a producer for events, and a heartbeat key in
 * Redis that lists it (id, host, queues, backend, GPU count, version). It needs only Redis and
 * the artifact store, never Postgres.
 */
export async function startWorker(options: StartWorkerOptions): Promise<RunningWorker> {
  const id = options.workerId ?? `worker-${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const logger = options.logger.child({ workerId: id });
  const connection: Redis = openRedis(options.redisUrl);
  const producer = new QueueProducer({ connection, prefix: options.prefix });
  const heartbeatMs = options.heartbeatMs ?? 5000;
  const cancels = new CancelWatcher(openRedis(options.redisUrl), connection, options.prefix);
  // A worker loads TensorFlow.js with the first stage that needs it; the engine is one per
  // process, so the backend any stage reports is the worker's.
  let reportedBackend: string | undefined;

  const beat = async () => {
    const info = {
      id,
      host: hostname(),
      pid: process.pid,
      queues: options.queues,
      backend: options.backend ?? reportedBackend ?? null,
      gpuCount: options.gpuCount ?? 0,
      version: '0.1.0',
      lastHeartbeatAt: new Date().toISOString(),
    };
    // Expires after three missed beats: a SIGKILLed worker disappears from the list by itself.
    await connection.set(workerKey(options.prefix, id), JSON.stringify(info), 'PX', heartbeatMs * 3);
  };
  await beat();
  const heartbeat = setInterval(() => {
    beat().catch((error: unknown) => logger.warn({ err: error }, 'heartbeat failed'));
  }, heartbeatMs);
  heartbeat.unref();

  // BullMQ does not close a connection it was handed; these are closed in close().
  const workerConnections: Redis[] = [];
  const workers = options.queues.map((queue) => {
    const jobConnection = track(workerConnections, openRedis(options.redisUrl));
    // The result goes out on the connection BullMQ completes the job on, and the job does not
    // wait for its reply: Redis runs a connection's commands in order, so the result is in the
    // events stream before the job is completed, as when it waited, at one round trip fewer.
    const results = new QueueProducer({ connection: jobConnection, prefix: options.prefix });
    const sendResult = (event: StageEvent) => {
      results.publishEvent(event).catch((error: unknown) => logger.error({ err: error, attemptId: event.attemptId }, 'result event not sent; the reconciler will run the attempt again'));
    };
    return new Worker(
      queue,
      async (job) => {
        const payload = stageJobSchema.parse(job.data);
        return runStageJob(payload, {
          workerId: id,
          producer,
          sendResult,
          store: options.store,
          findStage: options.findStage,
          logger,
          watchCancel: (attemptId, onCancel) => cancels.watch(attemptId, onCancel),
          abortGraceMs: options.abortGraceMs ?? 5000,
          ...(options.startEventDelayMs !== undefined ? { startEventDelayMs: options.startEventDelayMs } : {}),
          noteBackend: (name) => {
            reportedBackend = name;
          },
        });
      },
      {
        connection: jobConnection,
        prefix: options.prefix,
        concurrency: options.concurrency ?? 1,
        // A job whose worker died is not handed to another worker by BullMQ: it fails (and is
        // removed), and the reconciler retries the attempt as a new one, by the stage's policy.
        // The lock (renewed every half period) outlasts any single synchronous TensorFlow op;
        // a dead worker's job is gone within lockDuration + stalledInterval.
        lockDuration: 15_000,
        stalledInterval: 5_000,
        maxStalledCount: 0,
      },
    );
  });
  for (const w of workers) {
    w.on('error', (error) => logger.error({ err: error, queue: w.name }, 'queue worker error'));
  }
  logger.info({ queues: options.queues }, 'worker started');

  return {
    id,
    queues: options.queues,
    async close() {
      clearInterval(heartbeat);
      await Promise.all(workers.map((w) => w.close()));
      for (const c of workerConnections) c.disconnect();
      await cancels.close();
      await connection.del(workerKey(options.prefix, id)).catch(() => undefined);
      await producer.close();
      connection.disconnect();
    },
  };
}

function track(list: Redis[], connection: Redis): Redis {
  list.push(connection);
  return connection;
}
