import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { parseSpecText, PipewrightError, planPipeline, type SpecProblem } from '@pipewright/core';
import { eq, runs } from '@pipewright/db';
import type { ApiDeps } from '../build-app.ts';
import { SubmitBatcher } from '../submit-batcher.ts';
import {
  errorSchema,
  idParamsSchema,
  lineageSchema,
  metricsSchema,
  runDetailSchema,
  runListQuerySchema,
  runListSchema,
  submittedRunSchema,
} from '../api-schemas.ts';
import { getRunDetail } from '../queries/get-run-detail.ts';
import { getRunLineage } from '../queries/get-run-lineage.ts';
import { getRunMetrics } from '../queries/get-run-metrics.ts';
import { listRuns } from '../queries/list-runs.ts';
import { runLinks } from '../queries/serialize.ts';
import { idempotencyOf } from './run-actions.ts';

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml', 'text/plain'];

const submitBodyDoc = z
  .union([
    z.record(z.string(), z.unknown()).describe('A pipeline spec as JSON (see the YAML example in the README).'),
    z.object({ spec: z.unknown(), params: z.record(z.string(), z.unknown()).optional() }).describe('A spec (object or YAML text) with run param overrides.'),
  ])
  .meta({ id: 'SubmitRunBody', description: 'A pipeline spec (JSON, or YAML with Content-Type application/yaml), or `{ spec, params }`.' });

function specInvalid(problems: SpecProblem[]): PipewrightError {
  const first = problems[0];
  const summary = problems.length === 1 && first ? `${first.path}: ${first.message}` : `${problems.length} problems; see details.problems`;
  return new PipewrightError('PW_ERR_SPEC_INVALID', `the pipeline spec is invalid: ${summary}`, { problems });
}

/** Splits a request body into the spec and its param overrides; a string is YAML or JSON text. */
function readSubmission(body: unknown): { spec: unknown; params?: Record<string, unknown> } {
  let value = body;
  if (typeof value === 'string') {
    const parsed = parseSpecText(value);
    if (!parsed.ok) throw specInvalid(parsed.problems);
    value = parsed.value;
  }
  if (value === null || value === undefined || typeof value !== 'object' || Array.isArray(value)) {
    throw specInvalid([{ path: '', code: 'PW_SPEC_SCHEMA', message: 'the body must be a pipeline spec object (JSON or YAML)' }]);
  }
  const record = value as Record<string, unknown>;
  if ('spec' in record && !('apiVersion' in record)) {
    const params = record.params;
    if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) {
      throw specInvalid([{ path: 'params', code: 'PW_SPEC_SCHEMA', message: 'params must be an object of run param overrides' }]);
    }
    const inner = readSubmission(record.spec);
    return { spec: inner.spec, ...(params ? { params: params as Record<string, unknown> } : {}) };
  }
  return { spec: value };
}

export function registerRunRoutes(root: FastifyInstance, deps: ApiDeps): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const submits = new SubmitBatcher(deps.db);

  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.post(
    '/v1/runs',
    {
      schema: {
        tags: ['runs'],
        summary: 'Submit a pipeline run',
        description:
          'Validates the spec (schema, acyclic, every `needs` and input bound, stage types registered, artifact types match, params type-check) and stores the run with its stages in one transaction. A bad spec answers 400 with every problem and stores nothing.',
        body: submitBodyDoc,
        headers: z.object({
          'idempotency-key': z.string().min(1).max(200).optional().describe('The same key with the same body returns the original run (200); with another body, 409'),
        }),
        response: { 200: submittedRunSchema, 201: submittedRunSchema, 400: errorSchema, 409: errorSchema, 413: errorSchema, 415: errorSchema },
      },
      // The body schema documents the endpoint; validation is planPipeline's, which reports
      // every problem (cycles, bindings, params) in one answer instead of stopping at the shape.
      validatorCompiler: () => (data: unknown) => ({ value: data }),
      // The answers are built here from typed values (the type provider checks their shape at
      // compile time); re-validating each with zod on the hottest write path is wasted work.
      serializerCompiler: () => (data: unknown) => JSON.stringify(data),
    },
    async (request, reply) => {
      const submission = readSubmission(request.body);
      const result = planPipeline(submission.spec, deps.catalog, submission.params ? { params: submission.params } : {});
      if (!result.ok) throw specInvalid(result.problems);
      const idempotency = idempotencyOf(request, request.body);
      const submitted = await submits.submit({ plan: result.plan, spec: submission.spec, ...(idempotency ? { idempotency } : {}) });
      if (!submitted.replayed) {
        deps.onRunSubmitted?.(submitted.runId, submitted.jobs);
        request.log.info({ runId: submitted.runId, pipeline: result.plan.name }, 'run submitted');
      }
      return reply
        .status(submitted.replayed ? 200 : 201)
        .header('location', `/v1/runs/${submitted.runId}`)
        .send({
          id: submitted.runId,
          status: submitted.status,
          pipeline: { id: submitted.pipelineId, name: result.plan.name, version: submitted.pipelineVersion },
          stages: result.plan.stages.map((s) => ({ id: s.id, uses: s.uses, needs: s.needs })),
          links: runLinks(submitted.runId),
        });
    },
  );

  app.get(
    '/v1/runs',
    {
      schema: {
        tags: ['runs'],
        summary: 'List runs, newest first',
        querystring: runListQuerySchema,
        response: { 200: runListSchema, 400: errorSchema },
      },
    },
    async (request) => listRuns(deps.db, request.query),
  );

  app.get(
    '/v1/runs/:id',
    { schema: { tags: ['runs'], summary: 'A run with its stages, attempts, timings and outputs', params: idParamsSchema, response: { 200: runDetailSchema, 400: errorSchema, 404: errorSchema } } },
    async (request) => {
      const run = await getRunDetail(deps.db, request.params.id);
      if (!run) throw new PipewrightError('PW_ERR_RUN_NOT_FOUND', `run ${request.params.id} does not exist`);
      return run;
    },
  );

  app.get(
    '/v1/runs/:id/lineage',
    { schema: { tags: ['runs'], summary: "A run's artifacts: which attempt produced each and which stages consumed it", params: idParamsSchema, response: { 200: lineageSchema, 400: errorSchema, 404: errorSchema } } },
    async (request) => {
      await assertRunExists(deps, request.params.id);
      return getRunLineage(deps.db, request.params.id);
    },
  );

  app.get(
    '/v1/runs/:id/metrics',
    { schema: { tags: ['runs'], summary: 'Metric series (live while stages run) and final metrics per stage', params: idParamsSchema, response: { 200: metricsSchema, 400: errorSchema, 404: errorSchema } } },
    async (request) => {
      await assertRunExists(deps, request.params.id);
      return getRunMetrics(deps.db, request.params.id);
    },
  );
}

async function assertRunExists(deps: ApiDeps, id: string): Promise<void> {
  const [row] = await deps.db.select({ id: runs.id }).from(runs).where(eq(runs.id, id));
  if (!row) throw new PipewrightError('PW_ERR_RUN_NOT_FOUND', `run ${id} does not exist`);
}
