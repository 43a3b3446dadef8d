import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { RUN_STATUSES } from '@pipewright/core';
import type { ApiDeps } from '../build-app.ts';
import { errorSchema } from '../api-schemas.ts';
import { recentFailures } from '../queries/recent-failures.ts';
import { runStatsByHour } from '../queries/run-stats.ts';

const countsByStatus = z.object(Object.fromEntries(RUN_STATUSES.map((s) => [s, z.number()])) as Record<(typeof RUN_STATUSES)[number], z.ZodNumber>);

const runStatsSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    bucketMinutes: z.number(),
    buckets: z.array(z.object({ start: z.string(), counts: countsByStatus, total: z.number() })),
    totals: countsByStatus,
  })
  .meta({ id: 'RunStats' });

const failureSchema = z
  .object({
    runId: z.string(),
    pipeline: z.string(),
    stage: z.string(),
    uses: z.string(),
    attempt: z.number(),
    attemptId: z.string(),
    status: z.string().describe('FAILED, or LOST when its worker vanished'),
    code: z.string().nullable(),
    message: z.string().nullable(),
    retryable: z.boolean().nullable(),
    workerId: z.string().nullable(),
    host: z.string().nullable(),
    at: z.string(),
  })
  .meta({ id: 'RecentFailure' });

const failuresSchema = z
  .object({
    minutes: z.number(),
    since: z.string(),
    total: z.number(),
    byCode: z.record(z.string(), z.number()),
    truncated: z.boolean(),
    items: z.array(failureSchema),
  })
  .meta({ id: 'RecentFailures' });

export function registerStatsRoutes(root: FastifyInstance, deps: ApiDeps): void {
  const app = root.withTypeProvider<ZodTypeProvider>();

  app.get(
    '/v1/stats/runs',
    {
      schema: {
        tags: ['system'],
        summary: 'Runs created per hour, by their status now',
        querystring: z.object({ hours: z.coerce.number().int().min(1).max(24 * 14).default(24) }),
        response: { 200: runStatsSchema, 400: errorSchema },
      },
    },
    async (request) => runStatsByHour(deps.db, request.query.hours),
  );

  app.get(
    '/v1/stats/failures',
    {
      schema: {
        tags: ['system'],
        summary: 'Attempts that failed recently, with their error codes',
        querystring: z.object({
          minutes: z.coerce.number().int().min(1).max(7 * 24 * 60).default(60),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
        response: { 200: failuresSchema, 400: errorSchema },
      },
    },
    async (request) => recentFailures(deps.db, request.query.minutes, request.query.limit),
  );
}
