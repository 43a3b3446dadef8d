import type { Logger } from 'pino';
import type { Database } from '@pipewright/db';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { applyStageEvent, OutboxRelayLoop } from '@pipewright/engine';
import { RunEventCoalescer } from './run-event-coalescer.ts';
import { createRedisJobProbe, EventStreamConsumer, openRedis, QueueProducer } from '@pipewright/queue';
import { startReconcilerLoop } from './reconciler-loop.ts';

export interface StartOrchestratorOptions {
  db: Database;
  redisUrl: string;
  /** @defaultValue `{pw}` */
  prefix: string;
  logger: Logger;
  /** Events being applied at once (a run's results among them share a transaction). @defaultValue 512 */
  eventConcurrency?: number;
  /** @defaultValue 250 */
  relayIntervalMs?: number;
  /** @defaultValue 2000 */
  reconcileIntervalMs?: number;
  /** How long an anomaly must last before the reconciler acts. @defaultValue 5000 */
  reconcileGraceMs?: number;
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
    // Stage jobs an apply makes due are published by the apply itself; the timer takes only the
    // ones left behind (by a crash between commit and publish) and the rows of other writers.
    freshGraceMs: 2000,
    onError: (error) => logger.error({ err: error }, 'outbox relay pass failed'),
  }).start();

  const coalescer = new RunEventCoalescer(options.db, producer, (error) => {
    logger.warn({ err: error }, 'publishing after commit failed; the relay will');
    relay.kick();
  });
  const holder = `orchestrator-${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const events = new EventStreamConsumer({
    blockingConnection: openRedis(options.redisUrl),
    connection,
    prefix: options.prefix,
    consumer: holder,
    // Most of these wait on the coalescer (a run's results batch into one transaction), so many
    // can be in hand at once without as many database connections.
    maxInFlight: options.eventConcurrency ?? 512,
    async handle(event) {
      const result =
        event.type === 'stage.succeeded' || event.type === 'stage.failed' ? await coalescer.apply(event) : await applyStageEvent(options.db, event);
      // The stages a result made due were published by the coalescer after its commit.
      if (event.type !== 'stage.progress') {
        logger.debug({ runId: event.runId, attemptId: event.attemptId, type: event.type, outcome: result.outcome }, 'event applied');
      }
    },
    onError(error, context) {
      if (context === 'apply') logger.error({ err: error }, 'event could not be applied; it will be claimed again');
      else logger.error({ err: error, context }, 'events stream error');
    },
  }).start();
  const reconciler = startReconcilerLoop({
    db: options.db,
    probe: createRedisJobProbe(producer, connection, options.prefix),
    holder,
    logger,
    intervalMs: options.reconcileIntervalMs ?? 2000,
    graceMs: options.reconcileGraceMs ?? 5000,
    onOutboxWritten: () => relay.kick(),
  });
  logger.info('orchestrator started');

  return {
    kickRelay: () => relay.kick(),
    async close() {
      await reconciler.stop();
      await events.stop();
      await relay.stop();
      await producer.close();
      connection.disconnect();
    },
  };
}
