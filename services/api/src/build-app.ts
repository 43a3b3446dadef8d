import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { StageCatalog } from '@pipewright/core';
import type { ArtifactStore } from '@pipewright/artifacts';
import type { Database } from '@pipewright/db';
import type { PendingJob } from '@pipewright/engine';
import type { Redis } from 'ioredis';
import { registerErrorHandling } from './error-handler.ts';
import { registerArtifactRoutes } from './routes/artifacts.ts';
import { registerArtifactLineageRoutes } from './routes/artifact-lineage.ts';
import { registerDashboardRoutes } from './routes/dashboard-ui.ts';
import { registerEventRoutes } from './routes/events.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerPipelineRoutes } from './routes/pipelines.ts';
import { registerQueueRoutes } from './routes/queues.ts';
import { registerStatsRoutes } from './routes/stats.ts';
import { registerRunActionRoutes } from './routes/run-actions.ts';
import { registerRunRoutes } from './routes/runs.ts';
import { registerSystemRoutes } from './routes/system.ts';

export interface ApiDeps {
  db: Database;
  /** Checks Postgres answers (for /readyz). */
  pingDatabase(): Promise<void>;
  redis: Redis;
  queuePrefix: string;
  store: ArtifactStore;
  catalog: StageCatalog;
  /**
   * Called after a run's transaction committed with outbox rows: publish them now. `jobs`, when
   * given, are exactly the stage jobs that transaction made due (a submit's); without them, every
   * due row is looked for (a retry's, a cancel's).
   */
  onRunSubmitted?(runId: string, jobs?: PendingJob[]): void;
  logger?: FastifyBaseLogger;
  /** @defaultValue 5 MiB */
  bodyLimitBytes?: number;
  /** The dashboard build served at /ui. @defaultValue services/dashboard/dist */
  dashboardDir?: string;
}

export type App = FastifyInstance;

/** Builds the REST API (not listening). Tests drive it with `app.inject()`. */
export async function buildApp(deps: ApiDeps): Promise<App> {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    bodyLimit: deps.bodyLimitBytes ?? 5 * 1024 * 1024,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandling(app);

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Pipewright API',
        version: '0.1.0',
        description: 'Submit ML pipelines as DAGs, watch them run, and read their lineage, metrics and artifacts.',
      },
      tags: [
        { name: 'runs', description: 'Pipeline runs' },
        { name: 'artifacts', description: 'Content-addressed artifacts' },
        { name: 'pipelines', description: 'Submitted pipelines, their versions, and spec validation' },
        { name: 'system', description: 'Health, workers, stage types, queues, statistics' },
      ],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  registerHealthRoutes(app, deps);
  registerRunRoutes(app, deps);
  registerRunActionRoutes(app, deps);
  registerArtifactRoutes(app, deps);
  registerSystemRoutes(app, deps);
  registerEventRoutes(app, deps);
  registerQueueRoutes(app, deps);
  registerStatsRoutes(app, deps);
  registerPipelineRoutes(app, deps);
  registerArtifactLineageRoutes(app, deps);
  await registerDashboardRoutes(app, deps.dashboardDir ? { dir: deps.dashboardDir } : {});
  await app.ready();
  return app;
}
