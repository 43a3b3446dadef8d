import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { canonicalJson, PipewrightError, planPipeline } from '@pipewright/core';
import { and, desc, eq, gte, inArray, lte, pipelines, runs, sql, stageRuns, type Database } from '@pipewright/db';
import { cancelRun, retryRun } from '@pipewright/engine';
import type { ApiDeps } from '../build-app.ts';
import {
  bulkCancelBodySchema,
  bulkResultSchema,
  bulkRetryBodySchema,
  cancelResultSchema,
  errorSchema,
  idParamsSchema,
  retriedRunSchema,
  retryBodySchema,
  stageDetailSchema,
  stageLogsSchema,
  stageParamsSchema,
} from '../api-schemas.ts';
import { getStageDetail, getStageLogs } from '../queries/get-stage-detail.ts';
import { runLinks } from '../queries/serialize.ts';

/** Longest Idempotency-Key accepted. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

const idempotencyHeaders = z.object({
  'idempotency-key': z.string().min(1).max(MAX_IDEMPOTENCY_KEY_LENGTH).optional().describe('Repeat a request safely: the same key with the same body replays the first answer'),
});

/** The Idempotency-Key of a request with the hash of what it asks (method, path, body). */
export function idempotencyOf(request: FastifyRequest, body: unknown): { key: string; requestHash: string } | undefined {
  const key = request.headers['idempotency-key'];
  if (typeof key !== 'string' || key === '') return undefined;
  // Checked here, not only by the route's header schema: the submit route skips schema
  // validation (planPipeline validates its body), and this is where every route reads the key.
  if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    const problems = [{ field: 'headers.idempotency-key', message: `must be at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters, got ${key.length}` }];
    throw new PipewrightError('PW_ERR_VALIDATION', `headers.idempotency-key: ${problems[0]?.message}`, { problems });
  }
  const path = request.url.split('?')[0] ?? '';
  const requestHash = createHash('sha256').update(`${request.method} ${path} ${canonicalJson(body ?? null)}`).digest('hex');
  return { key, requestHash };
}

export function registerRunActionRoutes(root: FastifyInstance, deps: ApiDeps): void {
  const app = root.withTypeProvider<ZodTypeProvider>();

  async function retryOne(runId: string, body: z.infer<typeof retryBodySchema>, idem?: { key: string; requestHash: string }) {
    let replanned: { params: Record<string, unknown>; stages: import('@pipewright/core').PlannedStage[] } | undefined;
    if (body.params) {
      const [row] = await deps.db
        .select({ spec: pipelines.spec, params: runs.params })
        .from(runs)
        .innerJoin(pipelines, eq(pipelines.id, runs.pipelineId))
        .where(eq(runs.id, runId));
      if (!row) throw new PipewrightError('PW_ERR_RUN_NOT_FOUND', `run ${runId} does not exist`);
      const result = planPipeline(row.spec, deps.catalog, { params: { ...row.params, ...body.params } });
      if (!result.ok) {
        throw new PipewrightError('PW_ERR_SPEC_INVALID', 'the param overrides do not fit the pipeline', { problems: result.problems });
      }
      replanned = { params: result.plan.params, stages: result.plan.stages };
    }
    const retried = await retryRun(deps.db, {
      runId,
      ...(body.fromStage !== undefined ? { fromStage: body.fromStage } : {}),
      ...(replanned ? { replanned } : {}),
      ...(idem ? { idempotency: idem } : {}),
    });
    deps.onRunSubmitted?.(runId);
    const [run] = await deps.db.select({ status: runs.status }).from(runs).where(eq(runs.id, runId));
    return { id: runId, status: run?.status ?? 'RUNNING', reset: retried.reset, replayed: retried.replayed, links: runLinks(runId) };
  }

  app.post(
    '/v1/runs/:id/retry',
    {
      schema: {
        tags: ['runs'],
        summary: 'Retry an ended run from where it failed',
        description:
          'Re-runs the failed, canceled and skipped stages and everything downstream of them; every stage that succeeded keeps its outputs and does not run again. `fromStage` re-runs that stage and its descendants; `params` re-plans with overrides and re-runs only the stages whose params change (and their descendants).',
        params: idParamsSchema,
        headers: idempotencyHeaders,
        body: retryBodySchema.optional(),
        response: { 200: retriedRunSchema, 400: errorSchema, 404: errorSchema, 409: errorSchema },
      },
      // Fastify validates a missing body as null, which `.optional()` refuses: without this a bare
      // POST (the common "retry this run") would answer 400.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request) => retryOne(request.params.id, request.body ?? {}, idempotencyOf(request, request.body ?? {})),
  );

  app.post(
    '/v1/runs/retry',
    {
      schema: {
        tags: ['runs'],
        summary: 'Retry every run matching a filter',
        description: 'For recovery after an incident: e.g. every run that FAILED between two times with a given error code. Each run is retried in its own transaction.',
        body: bulkRetryBodySchema,
        response: { 200: bulkResultSchema, 400: errorSchema },
      },
    },
    async (request) => {
      const ids = await matchingRuns(deps.db, request.body.filter, request.body.limit);
      return forEachRun(ids, (id) => retryOne(id, {}));
    },
  );

  app.post(
    '/v1/runs/:id/cancel',
    {
      schema: {
        tags: ['runs'],
        summary: 'Cancel a run',
        description: 'Stages not started end CANCELED at once and their jobs are removed; running handlers get their AbortSignal, and the run ends CANCELED when they stop.',
        params: idParamsSchema,
        response: { 202: cancelResultSchema, 400: errorSchema, 404: errorSchema, 409: errorSchema },
      },
    },
    async (request, reply) => {
      const result = await cancelRun(deps.db, request.params.id);
      deps.onRunSubmitted?.(request.params.id);
      return reply.status(202).send(result as z.infer<typeof cancelResultSchema>);
    },
  );

  app.post(
    '/v1/runs/cancel',
    {
      schema: { tags: ['runs'], summary: 'Cancel several runs', body: bulkCancelBodySchema, response: { 200: bulkResultSchema, 400: errorSchema } },
    },
    async (request) => {
      const result = await forEachRun(request.body.runIds, (id) => cancelRun(deps.db, id));
      if (result.done.length) deps.onRunSubmitted?.(result.done[0] ?? '');
      return result;
    },
  );

  app.post(
    '/v1/runs/:id/stages/:stage/cancel',
    {
      schema: {
        tags: ['runs'],
        summary: 'Cancel one stage',
        description: 'The stage ends CANCELED (at once, or when its running handler stops) and the stages that need it are SKIPPED; the rest of the run goes on.',
        params: stageParamsSchema,
        response: { 202: cancelResultSchema, 400: errorSchema, 404: errorSchema, 409: errorSchema },
      },
    },
    async (request, reply) => {
      const result = await cancelRun(deps.db, request.params.id, request.params.stage);
      deps.onRunSubmitted?.(request.params.id);
      return reply.status(202).send(result as z.infer<typeof cancelResultSchema>);
    },
  );

  app.get(
    '/v1/runs/:id/stages/:stage',
    {
      schema: {
        tags: ['runs'],
        summary: 'One stage: attempts, inputs and outputs, and why the cache hit or missed',
        params: stageParamsSchema,
        response: { 200: stageDetailSchema, 400: errorSchema, 404: errorSchema },
      },
    },
    async (request) => {
      const { run, stage } = await getStageDetail(deps.db, request.params.id, request.params.stage);
      if (!run) throw new PipewrightError('PW_ERR_RUN_NOT_FOUND', `run ${request.params.id} does not exist`);
      if (!stage) throw new PipewrightError('PW_ERR_STAGE_NOT_FOUND', `run ${request.params.id} has no stage "${request.params.stage}"`);
      return stage;
    },
  );

  app.get(
    '/v1/runs/:id/stages/:stage/logs',
    {
      schema: {
        tags: ['runs'],
        summary: "A stage's log lines, across its attempts",
        params: stageParamsSchema,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(10_000).default(1000) }),
        response: { 200: stageLogsSchema, 400: errorSchema, 404: errorSchema },
      },
    },
    async (request) => {
      const [row] = await deps.db
        .select({ id: stageRuns.id })
        .from(stageRuns)
        .where(and(eq(stageRuns.runId, request.params.id), eq(stageRuns.stageKey, request.params.stage)));
      if (!row) {
        // Answer like GET /v1/runs/{id}/stages/{stage}: an unknown run is not a missing stage.
        const [run] = await deps.db.select({ id: runs.id }).from(runs).where(eq(runs.id, request.params.id));
        if (!run) throw new PipewrightError('PW_ERR_RUN_NOT_FOUND', `run ${request.params.id} does not exist`);
        throw new PipewrightError('PW_ERR_STAGE_NOT_FOUND', `run ${request.params.id} has no stage "${request.params.stage}"`);
      }
      return getStageLogs(deps.db, row.id, request.query.limit);
    },
  );
}

/**
 * Runs a bulk action one run at a time (each in its own transaction): a run the action refuses
 * (already ended, not found) is reported as skipped with its code; anything else stops the batch.
 */
async function forEachRun(ids: string[], act: (id: string) => Promise<unknown>): Promise<{ done: string[]; skipped: { id: string; code: string; message: string }[] }> {
  const done: string[] = [];
  const skipped: { id: string; code: string; message: string }[] = [];
  for (const id of ids) {
    try {
      await act(id);
      done.push(id);
    } catch (error) {
      if (!(error instanceof PipewrightError)) throw error;
      skipped.push({ id, code: error.code, message: error.message });
    }
  }
  return { done, skipped };
}

async function matchingRuns(db: Database, filter: z.infer<typeof bulkRetryBodySchema>['filter'], limit: number): Promise<string[]> {
  const conditions = [
    inArray(runs.status, filter.status ? [filter.status] : ['FAILED', 'CANCELED']),
    filter.pipeline ? eq(runs.pipelineName, filter.pipeline) : undefined,
    filter.createdAfter ? gte(runs.createdAt, new Date(filter.createdAfter)) : undefined,
    filter.createdBefore ? lte(runs.createdAt, new Date(filter.createdBefore)) : undefined,
    filter.errorCode
      ? sql`exists (select 1 from ${stageRuns} where ${stageRuns.runId} = ${runs.id} and ${stageRuns.error}->>'code' = ${filter.errorCode})`
      : undefined,
  ].filter((c) => c !== undefined);
  const rows = await db.select({ id: runs.id }).from(runs).where(and(...conditions)).orderBy(desc(runs.createdAt)).limit(limit);
  return rows.map((r) => r.id);
}
