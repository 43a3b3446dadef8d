import { z } from 'zod';
import { ARTIFACT_TYPES } from '@pipewright/core';

const artifactRefSchema = z.object({
  digest: z.string(),
  uri: z.string(),
  type: z.enum(ARTIFACT_TYPES),
  mediaType: z.string(),
  sizeBytes: z.number(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

/** The payload of a stage job: everything a worker needs, so it never reads Postgres. */
export const stageJobSchema = z.object({
  runId: z.string(),
  stageRunId: z.string(),
  attemptId: z.string(),
  attempt: z.number().int().positive(),
  stageKey: z.string(),
  uses: z.string(),
  params: z.record(z.string(), z.unknown()),
  inputs: z.record(z.string(), artifactRefSchema),
  /** List inputs (`json[]`, …): that output of every instance of a foreach stage, in item order. */
  inputLists: z.record(z.string(), z.array(artifactRefSchema)).optional(),
  timeoutMs: z.number().int().positive(),
  teamId: z.string().nullable().optional(),
});
export type StageJob = z.infer<typeof stageJobSchema>;

const metricPointSchema = z.object({ name: z.string(), step: z.number().int(), value: z.number() });

const resourceUseSchema = z.object({
  cpuUserMs: z.number(),
  cpuSystemMs: z.number(),
  peakRssBytes: z.number(),
  wallMs: z.number(),
});

const failureSchema = z.object({
  kind: z.enum(['application', 'timeout', 'canceled', 'internal']),
  code: z.string(),
  message: z.string(),
  retryable: z.boolean(),
}).loose();

const eventBase = {
  runId: z.string(),
  stageRunId: z.string(),
  attemptId: z.string(),
  at: z.string(),
};

/**
 * Who ran an attempt and when it started, carried by its result when the worker never sent
 * `stage.started` (a stage that ends within the worker's start-event delay reports once).
 */
const startedBy = z.object({ at: z.string(), workerId: z.string(), host: z.string() });

/**
 * Every metric point the attempt reported, repeated by its result: progress events are a live
 * view that a Redis loss can drop, the result is the record (points already stored are ignored).
 */
const seriesOfAttempt = z.array(metricPointSchema);

/** What workers report, in the durable events queue. */
export const stageEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('stage.started'),
    ...eventBase,
    workerId: z.string(),
    host: z.string(),
    backend: z.string().optional(),
  }),
  z.object({
    type: z.literal('stage.progress'),
    ...eventBase,
    seq: z.number().int().nonnegative(),
    metrics: z.array(metricPointSchema),
    logs: z
      .array(
        z.object({
          level: z.enum(['info', 'warn', 'error']),
          message: z.string().max(10_000),
          at: z.string(),
          fields: z.record(z.string(), z.unknown()).optional(),
        }),
      )
      .optional(),
  }),
  z.object({
    type: z.literal('stage.succeeded'),
    ...eventBase,
    outputs: z.record(z.string(), artifactRefSchema),
    metrics: z.record(z.string(), z.number()),
    backend: z.string().optional(),
    resourceUse: resourceUseSchema,
    started: startedBy.optional(),
    series: seriesOfAttempt.optional(),
  }),
  z.object({
    type: z.literal('stage.failed'),
    ...eventBase,
    error: failureSchema,
    backend: z.string().optional(),
    resourceUse: resourceUseSchema,
    started: startedBy.optional(),
    series: seriesOfAttempt.optional(),
  }),
]);
export type StageEvent = z.infer<typeof stageEventSchema>;
export type StageEventType = StageEvent['type'];

/**
 * The typed catalog of what crosses Redis: each message name maps to its payload schema (stage
 * jobs in BullMQ queues, stage events in the events stream). Consumers parse payloads with it.
 */
export const jobCatalog = {
  'stage.run': { schema: stageJobSchema },
  'stage.event': { schema: stageEventSchema },
} as const;
export type JobName = keyof typeof jobCatalog;
export type JobPayload<N extends JobName> = z.infer<(typeof jobCatalog)[N]['schema']>;
