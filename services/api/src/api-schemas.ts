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
  })
  .meta({ id: 'Stage' });

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
