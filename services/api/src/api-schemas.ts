import { z } from 'zod';
import { ARTIFACT_TYPES, ATTEMPT_STATUSES, RUN_STATUSES, STAGE_STATUSES } from '@pipewright/core';

/** Response and parameter schemas; they are also what /openapi.json publishes. */

export const errorSchema = z
  .object({
    code: z.string().meta({ example: 'PW_ERR_RUN_NOT_FOUND' }),
    message: z.string(),
    details: z.unknown().optional(),
  })
  .meta({ id: 'Error', description: 'Every error answer has this shape; `code` is listed in docs/errors.md.' });

export const specProblemSchema = z
  .object({ path: z.string(), code: z.string(), message: z.string() })
  .meta({ id: 'SpecProblem' });

export const idParamsSchema = z.object({ id: z.uuid({ message: 'must be a UUID' }) });

const linksSchema = z.record(z.string(), z.string());

export const artifactSchema = z
  .object({
    id: z.string(),
    runId: z.string(),
    type: z.enum(ARTIFACT_TYPES),
    digest: z.string(),
    uri: z.string(),
    mediaType: z.string(),
    sizeBytes: z.number(),
    metadata: z.record(z.string(), z.unknown()).nullable(),
    outputName: z.string(),
    producedBy: z.object({ stage: z.string(), stageRunId: z.string(), attemptId: z.string(), attempt: z.number() }),
    createdAt: z.string(),
    links: linksSchema,
  })
  .meta({ id: 'Artifact' });

export const cacheExplanationSchema = z
  .object({
    hit: z.boolean(),
    key: z.string().nullable(),
    reason: z.enum(['disabled', 'never-run', 'changed']).optional(),
    changed: z.array(z.string()).optional().describe('Components of the key that differ from comparedWith: type, params.<name>, inputs.<name>'),
    comparedWith: z.object({ runId: z.string(), stage: z.string(), stageRunId: z.string() }).optional(),
    source: z.object({ runId: z.string(), stage: z.string(), stageRunId: z.string() }).optional().describe('On a hit: the execution whose outputs were reused'),
  })
  .meta({ id: 'CacheExplanation', description: 'Why the stage was (hit) or was not (miss) served from the cache.' });

export const attemptSchema = z
  .object({
    id: z.string(),
    number: z.number(),
    status: z.enum(ATTEMPT_STATUSES),
    queue: z.string(),
    jobId: z.string(),
    workerId: z.string().nullable(),
    host: z.string().nullable(),
    backend: z.string().nullable(),
    error: z.unknown().nullable(),
    resourceUse: z
      .object({ cpuUserMs: z.number(), cpuSystemMs: z.number(), peakRssBytes: z.number(), wallMs: z.number() })
      .nullable(),
    queuedAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
  })
  .meta({ id: 'Attempt' });

export const stageSchema = z
  .object({
    id: z.string(),
    stage: z.string(),
    uses: z.string(),
    needs: z.array(z.string()),
    foreach: z.object({ stage: z.string(), output: z.string() }).nullable().describe('Run-time fan-out: the list this group maps over'),
    parent: z.string().nullable().describe('For an instance of a foreach group: the group'),
    itemIndex: z.number().nullable(),
    status: z.enum(STAGE_STATUSES),
    params: z.record(z.string(), z.unknown()),
    resourceClass: z.enum(['cpu', 'gpu']),
    attemptCount: z.number(),
    metrics: z.record(z.string(), z.number()).nullable(),
    error: z.unknown().nullable(),
    queuedAt: z.string().nullable(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    durationMs: z.number().nullable(),
    attempts: z.array(attemptSchema),
    outputs: z.record(z.string(), artifactSchema),
    cacheExplanation: cacheExplanationSchema.nullable(),
  })
  .meta({ id: 'Stage' });

export const stageDetailSchema = stageSchema
  .extend({
    runId: z.string(),
    inputs: z.record(
      z.string(),
      z.object({ from: z.object({ stage: z.string(), output: z.string() }), type: z.string(), artifact: artifactSchema.nullable() }),
    ),
    cacheKey: z.string().nullable(),
    cacheComponents: z.unknown().nullable(),
    links: z.record(z.string(), z.string()),
  })
  .meta({ id: 'StageDetail' });

export const stageLogsSchema = z
  .object({
    items: z.array(z.object({ at: z.string(), level: z.enum(['info', 'warn', 'error']), message: z.string(), fields: z.unknown().nullable(), attempt: z.number() })),
  })
  .meta({ id: 'StageLogs' });

const runFields = {
  id: z.string(),
  pipeline: z.object({ id: z.string(), name: z.string() }),
  status: z.enum(RUN_STATUSES),
  params: z.record(z.string(), z.unknown()),
  teamId: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  links: linksSchema,
};

export const runSummarySchema = z.object(runFields).meta({ id: 'RunSummary' });

export const runDetailSchema = z
  .object({ ...runFields, pipeline: z.object({ id: z.string(), name: z.string(), version: z.number() }), stages: z.array(stageSchema) })
  .meta({ id: 'RunDetail' });

export const runListSchema = z
  .object({ items: z.array(runSummarySchema), nextCursor: z.string().nullable() })
  .meta({ id: 'RunList' });

export const runListQuerySchema = z.object({
  status: z.enum(RUN_STATUSES).optional(),
  pipeline: z.string().min(1).max(200).optional(),
  team: z.string().min(1).max(200).optional(),
  createdAfter: z.coerce.date({ message: 'must be an ISO 8601 date-time' }).optional().describe('Runs created at or after this time (ISO 8601)'),
  createdBefore: z.coerce.date({ message: 'must be an ISO 8601 date-time' }).optional().describe('Runs created before this time (ISO 8601)'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

export const submittedRunSchema = z
  .object({
    id: z.string(),
    status: z.enum(RUN_STATUSES),
    pipeline: z.object({ id: z.string(), name: z.string(), version: z.number() }),
    stages: z.array(z.object({ id: z.string(), uses: z.string(), needs: z.array(z.string()) })),
    links: linksSchema,
  })
  .meta({ id: 'SubmittedRun' });

export const lineageSchema = z
  .object({
    runId: z.string(),
    artifacts: z.array(
      artifactSchema.extend({
        consumedBy: z.array(z.object({ stage: z.string(), stageRunId: z.string(), attemptId: z.string(), attempt: z.number(), inputName: z.string() })),
      }),
    ),
  })
  .meta({ id: 'Lineage' });

export const metricsSchema = z
  .object({
    runId: z.string(),
    series: z.array(
      z.object({
        stage: z.string(),
        attempt: z.number(),
        attemptId: z.string(),
        name: z.string(),
        points: z.array(z.object({ step: z.number(), value: z.number(), recordedAt: z.string() })),
      }),
    ),
    final: z.record(z.string(), z.record(z.string(), z.number())),
  })
  .meta({ id: 'RunMetrics' });

export const workerInfoSchema = z
  .object({
    id: z.string(),
    host: z.string(),
    pid: z.number().optional(),
    queues: z.array(z.string()),
    backend: z.string().nullable(),
    gpuCount: z.number(),
    version: z.string(),
    lastHeartbeatAt: z.string(),
  })
  .meta({ id: 'Worker' });

export const retryBodySchema = z
  .object({
    fromStage: z.string().min(1).max(200).optional().describe('Re-run this stage and everything downstream of it'),
    params: z.record(z.string(), z.unknown()).optional().describe('Run param overrides: stages whose resolved params change re-run, with their descendants'),
  })
  .strict()
  .meta({ id: 'RetryRunBody' });

export const retriedRunSchema = z
  .object({ id: z.string(), status: z.enum(RUN_STATUSES), reset: z.array(z.string()), replayed: z.boolean(), links: z.record(z.string(), z.string()) })
  .meta({ id: 'RetriedRun' });

export const bulkRetryBodySchema = z
  .object({
    filter: z
      .object({
        status: z.enum(['FAILED', 'CANCELED']).optional(),
        pipeline: z.string().min(1).max(200).optional(),
        createdAfter: z.iso.datetime({ offset: true }).optional(),
        createdBefore: z.iso.datetime({ offset: true }).optional(),
        errorCode: z.string().min(1).max(100).optional().describe('Only runs with a stage that failed with this code'),
      })
      .strict(),
    limit: z.number().int().min(1).max(500).default(100),
  })
  .strict()
  .meta({ id: 'BulkRetryBody' });

export const bulkResultSchema = z
  .object({ done: z.array(z.string()), skipped: z.array(z.object({ id: z.string(), code: z.string(), message: z.string() })) })
  .meta({ id: 'BulkResult' });

export const bulkCancelBodySchema = z.object({ runIds: z.array(z.uuid()).min(1).max(500) }).strict().meta({ id: 'BulkCancelBody' });

export const cancelResultSchema = z
  .object({ runId: z.string(), runStatus: z.enum(RUN_STATUSES), canceled: z.array(z.string()), stopping: z.array(z.string()) })
  .meta({ id: 'CancelResult' });

export const stageParamsSchema = z.object({ id: z.uuid({ message: 'must be a UUID' }), stage: z.string().min(1).max(200) });
