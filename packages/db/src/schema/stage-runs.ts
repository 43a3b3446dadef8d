import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { ArtifactType, CacheComponents, CacheExplanation, InputBinding, RetryPolicy, StageStatus } from '@pipewright/core';
import { runs } from './runs.ts';

/** One stage of one run: the planned stage plus its live state. */
export const stageRuns = pgTable(
  'stage_runs',
  {
    id: uuid('id').primaryKey(),
    runId: uuid('run_id').notNull().references(() => runs.id),
    stageKey: text('stage_key').notNull(),
    /** Topological position in the plan, for stable listing. */
    position: integer('position').notNull(),
    uses: text('uses').notNull(),
    family: text('family').notNull(),
    needs: jsonb('needs').$type<string[]>().notNull(),
    inputs: jsonb('inputs').$type<Record<string, InputBinding>>().notNull(),
    outputs: jsonb('outputs').$type<Record<string, ArtifactType>>().notNull(),
    params: jsonb('params').$type<Record<string, unknown>>().notNull(),
    whenExpr: text('when_expr'),
    /** Run-time fan-out: the upstream json output whose metadata `items` this stage maps over. */
    foreach: jsonb('foreach').$type<{ stage: string; output: string }>(),
    /** For an instance of a foreach stage: the foreach stage's key, and the item's index. */
    parentKey: text('parent_key'),
    itemIndex: integer('item_index'),
    resourceClass: text('resource_class').$type<'cpu' | 'gpu'>().notNull(),
    gpu: integer('gpu').notNull().default(0),
    retry: jsonb('retry').$type<RetryPolicy>().notNull(),
    timeoutMs: integer('timeout_ms').notNull(),
    cacheEnabled: boolean('cache_enabled').notNull(),
    status: text('status').$type<StageStatus>().notNull(),
    attemptCount: integer('attempt_count').notNull().default(0),
    /** Final scalar metrics of the successful attempt. */
    metrics: jsonb('metrics').$type<Record<string, number>>(),
    error: jsonb('error'),
    /** Output name -> artifact id: this stage's own outputs, or an earlier run's on a cache hit. */
    outputArtifactIds: jsonb('output_artifact_ids').$type<Record<string, string>>(),
    cacheKey: text('cache_key'),
    /** What the key was made of (type, params digest, input digests): explains the next miss. */
    cacheComponents: jsonb('cache_components').$type<CacheComponents>(),
    cacheExplanation: jsonb('cache_explanation').$type<CacheExplanation>(),
    /** Set when a cancel of this stage (or its run) was asked while it ran. */
    cancelRequestedAt: timestamp('cancel_requested_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    queuedAt: timestamp('queued_at', { withTimezone: true, mode: 'date' }),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }),
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    uniqueIndex('stage_runs_run_key_uq').on(t.runId, t.stageKey),
    // A foreach group's instances, counted by status each time some of them end.
    index('stage_runs_parent_idx').on(t.runId, t.parentKey).where(sql`${t.parentKey} is not null`),
    // Cache lookups: only successful rows can be hits.
    index('stage_runs_cache_key_idx').on(t.cacheKey).where(sql`${t.status} = 'SUCCEEDED'`),
    // The previous execution of a stage, to explain a cache miss.
    index('stage_runs_uses_key_idx').on(t.uses, t.stageKey, t.finishedAt),
  ],
);
