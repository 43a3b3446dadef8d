import type { Logger } from 'pino';
import type { StageCatalog } from '@pipewright/core';
import type { ArtifactStore } from '@pipewright/artifacts';
import type { DatabaseHandle } from '@pipewright/db';
import { AfterCommitPublisher, OutboxRelayLoop, type PendingJob } from '@pipewright/engine';
import { openRedis, QueueProducer } from '@pipewright/queue';
import { builtinStages, createStageRegistry } from '@pipewright/stages';
import { buildApp, type App } from './build-app.ts';

export interface StartApiOptions {
  database: DatabaseHandle;
  redisUrl: string;
  /** @defaultValue `{pw}` */
  prefix: string;
  store: ArtifactStore;
  logger: Logger;
  host: string;
  /** 0 picks a free port. */
  port: number;
  bodyLimitBytes?: number;
  /** Stage types accepted at submit. @defaultValue the built-in stages */
  catalog?: StageCatalog;
  /**
   * Publish a submitted run's first stages from this process right after the commit, instead
   * of waiting for an orchestrator's next relay pass. @defaultValue true
   */
  relayOnSubmit?: boolean;
}

export interface RunningApi {
  app: App;
  url: string;
  close(): Promise<void>;
}

export async function startApi(options: StartApiOptions): Promise<RunningApi> {
  const redis = openRedis(options.redisUrl);
  const producer = new QueueProducer({ connection: redis, prefix: options.prefix });
  // No timer: orchestrators poll; this relay only runs when a submit kicks it.
  const relay = options.relayOnSubmit === false
    ? undefined
    : new OutboxRelayLoop({ db: options.database.db, producer, onError: (error) => options.logger.warn({ err: error }, 'relay after submit failed; an orchestrator will publish') });
  const publisher = relay
    ? new AfterCommitPublisher(options.database.db, producer, (error) => {
        options.logger.warn({ err: error }, 'publish after submit failed; the relay will');
        relay.kick();
      })
    : undefined;
  const app = await buildApp({
    db: options.database.db,
    pingDatabase: () => options.database.ping(),
    redis,
    queuePrefix: options.prefix,
    store: options.store,
    catalog: options.catalog ?? createStageRegistry(builtinStages),
    logger: options.logger,
    ...(options.bodyLimitBytes ? { bodyLimitBytes: options.bodyLimitBytes } : {}),
    ...(relay && publisher
      ? {
          // A submit publishes just its own jobs (coalesced with concurrent submits'). A relay
          // pass would also take the rows an orchestrator committed a moment ago and is
          // publishing itself: two publishers of one row.
          onRunSubmitted: (_runId: string, jobs?: PendingJob[]) => (jobs ? publisher.publish(jobs) : relay.kick()),
        }
      : {}),
  });
  const address = await app.listen({ host: options.host, port: options.port });
  const url = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
  return {
    app,
    url,
    async close() {
      await app.close();
      await publisher?.idle();
      await relay?.stop();
      await producer.close();
      redis.disconnect();
    },
  };
}
