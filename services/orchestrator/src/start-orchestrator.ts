import { Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { Database } from '@pipewright/db';
import { applyStageEvent, OutboxRelayLoop } from '@pipewright/engine';
import { EVENTS_QUEUE, openRedis, QueueProducer, stageEventSchema } from '@pipewright/queue';

export interface StartOrchestratorOptions {
  db: Database;
  redisUrl: string;
  /** @defaultValue `{pw}` */
  prefix: string;
  logger: Logger;
  /** @defaultValue 8 */
  eventConcurrency?: number;
  /** @defaultValue 250 */
  relayIntervalMs?: number;
}

export interface RunningOrchestrator {
  /** Publishes due outbox rows now (after a submit in the same process, say). */
  kickRelay(): void;
  close(): Promise<void>;
}

/**
 * The orchestrator: applies worker events (each in one idempotent transaction) and relays the
 * outbox to BullMQ. Several can run against one database: event application is serialised per
 * run by the run's row lock, and the relay shares rows with SKIP LOCKED.
 */
export async function startOrchestrator(options: StartOrchestratorOptions): Promise<RunningOrchestrator> {
  const logger = options.logger;
  const connection = openRedis(options.redisUrl);
  const producer = new QueueProducer({ connection, prefix: options.prefix });
  const relay = new OutboxRelayLoop({
    db: options.db,
    producer,
    intervalMs: options.relayIntervalMs ?? 250,
    onError: (error) => logger.error({ err: error }, 'outbox relay pass failed'),
  }).start();

  const events = new Worker(
    EVENTS_QUEUE,
    async (job) => {
      const event = stageEventSchema.parse(job.data);
      const result = await applyStageEvent(options.db, event);
      if (result.enqueued > 0) relay.kick();
      if (event.type !== 'stage.progress') {
        logger.debug({ runId: event.runId, attemptId: event.attemptId, type: event.type, outcome: result.outcome }, 'event applied');
      }
      return result.outcome;
    },
    { connection: openRedis(options.redisUrl), prefix: options.prefix, concurrency: options.eventConcurrency ?? 8 },
  );
  events.on('error', (error) => logger.error({ err: error }, 'events worker error'));
  events.on('failed', (job, error) => logger.error({ err: error, jobId: job?.id }, 'event could not be applied'));
  logger.info('orchestrator started');

  return {
    kickRelay: () => relay.kick(),
    async close() {
      await events.close();
      await relay.stop();
      await producer.close();
      connection.disconnect();
    },
  };
}
