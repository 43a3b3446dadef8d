import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PipewrightError, planPipeline, RUN_STATUSES } from '@pipewright/core';
import type { ApiDeps } from '../build-app.ts';
import { errorSchema } from '../api-schemas.ts';
import { listPipelines, listPipelineVersions } from '../queries/list-pipelines.ts';
import { locateProblems, readSpecSubmission } from './spec-submission.ts';

const pipelineSchema = z
  .object({
    name: z.string(),
    latestVersion: z.number(),
    versions: z.number(),
    updatedAt: z.string().describe('When its latest version was first submitted'),
    lastRun: z.object({ id: z.string(), status: z.enum(RUN_STATUSES), createdAt: z.string() }).nullable(),
    links: z.record(z.string(), z.string()),
  })
  .meta({ id: 'Pipeline' });

const pipelineVersionSchema = z
  .object({ id: z.string(), version: z.number(), specDigest: z.string(), spec: z.unknown(), createdAt: z.string() })
  .meta({ id: 'PipelineVersion' });

const locatedProblemSchema = z
  .object({
    path: z.string(),
    code: z.string(),
    message: z.string(),
    line: z.number().optional().describe('1-based line in the submitted text, when the spec was sent as text'),
    column: z.number().optional(),
  })
  .meta({ id: 'LocatedSpecProblem' });

const validationSchema = z
  .object({
    ok: z.boolean(),
    name: z.string().nullable(),
    problems: z.array(locatedProblemSchema),
    stages: z.array(z.object({ id: z.string(), uses: z.string(), needs: z.array(z.string()), resourceClass: z.enum(['cpu', 'gpu']) })),
  })
  .meta({ id: 'SpecValidation' });

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml', 'text/plain'];

export function registerPipelineRoutes(root: FastifyInstance, deps: ApiDeps): void {
  const app = root.withTypeProvider<ZodTypeProvider>();

  app.get(
    '/v1/pipelines',
    {
      schema: {
        tags: ['pipelines'],
        summary: 'Submitted pipelines by name, with their latest version and last run',
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(500).default(100),
          cursor: z.string().min(1).max(200).optional().describe('nextCursor of the previous page'),
        }),
        response: { 200: z.object({ items: z.array(pipelineSchema), nextCursor: z.string().nullable() }).meta({ id: 'PipelineList' }), 400: errorSchema },
      },
    },
    async (request) => listPipelines(deps.db, { limit: request.query.limit, ...(request.query.cursor ? { after: request.query.cursor } : {}) }),
  );

  app.get(
    '/v1/pipelines/:name/versions',
    {
      schema: {
        tags: ['pipelines'],
        summary: "A pipeline's versions, newest first, with their specs",
        params: z.object({ name: z.string().min(1).max(200) }),
        response: { 200: z.object({ name: z.string(), items: z.array(pipelineVersionSchema) }), 400: errorSchema, 404: errorSchema },
      },
    },
    async (request) => {
      const items = await listPipelineVersions(deps.db, request.params.name);
      if (items.length === 0) throw new PipewrightError('PW_ERR_PIPELINE_NOT_FOUND', `no pipeline is named "${request.params.name}"`);
      return { name: request.params.name, items };
    },
  );

  // Encapsulated, so a YAML body parser added here stays this route's (the submit route's
  // parser, when registered first, is inherited instead).
  void app.register(async (scope) => {
    const missing = YAML_TYPES.filter((type) => !scope.hasContentTypeParser(type));
    if (missing.length > 0) scope.addContentTypeParser(missing, { parseAs: 'string' }, (_request, body, done) => done(null, body));
    scope.withTypeProvider<ZodTypeProvider>().post(
      '/v1/pipelines/validate',
      {
        schema: {
          tags: ['pipelines'],
          summary: 'Validate a spec without storing anything (a dry run of submit)',
          description:
            'Takes what POST /v1/runs takes (YAML or JSON, or `{ spec, params }`), parses and plans it, and answers 200 with `ok`, every problem (with its line and column when the spec was sent as text) and the planned stages. Nothing is stored or enqueued.',
          body: z.unknown().describe('A pipeline spec, as for POST /v1/runs'),
          response: { 200: validationSchema, 413: errorSchema, 415: errorSchema },
        },
        validatorCompiler: () => (data: unknown) => ({ value: data }),
      },
      async (request) => {
        const submission = readSpecSubmission(request.body);
        const text = submission.text;
        const nameOf = (spec: unknown) => {
          const name = spec && typeof spec === 'object' ? (spec as Record<string, unknown>).name : undefined;
          return typeof name === 'string' ? name : null;
        };
        if (!submission.ok) return { ok: false, name: null, problems: text ? locateProblems(text, submission.problems) : submission.problems, stages: [] };
        const result = planPipeline(submission.spec, deps.catalog, submission.params ? { params: submission.params } : {});
        if (!result.ok) return { ok: false, name: nameOf(submission.spec), problems: text ? locateProblems(text, result.problems) : result.problems, stages: [] };
        return {
          ok: true,
          name: result.plan.name,
          problems: [],
          stages: result.plan.stages.map((s) => ({ id: s.id, uses: s.uses, needs: s.needs, resourceClass: s.resources.class })),
        };
      },
    );
  });
}
