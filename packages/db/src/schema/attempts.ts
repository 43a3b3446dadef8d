import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { AttemptStatus, ResourceUse, StageFailure } from '@pipewright/core';
import { runs } from './runs.ts';
import { stageRuns } from './stage-runs.ts';

/** Every execution of a stage is its own row; a retry is a new number. */
export const attempts = pgTable(
  'attempts',
  {
    id: uuid('id').primaryKey(),
    stageRunId: uuid('stage_run_id').notNull().references(() => stageRuns.id),
    runId: uuid('run_id').notNull().references(() => runs.id),
    number: integer('number').notNull(),
    status: text('status').$type<AttemptStatus>().notNull(),
    queue: text('queue').notNull(),
    /** `<stageRunId>.<number>`: a publish repeated after a crash is a no-op in BullMQ. */
    jobId: text('job_id').notNull(),
    workerId: text('worker_id'),
    host: text('host'),
    backend: text('backend'),
    error: jsonb('error').$type<StageFailure>(),
    resourceUse: jsonb('resource_use').$type<ResourceUse>(),
    queuedAt: timestamp('queued_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }),
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    uniqueIndex('attempts_stage_number_uq').on(t.stageRunId, t.number),
    index('attempts_run_idx').on(t.runId),
    index('attempts_status_idx').on(t.status),
    // Recent failures and per-queue throughput (the dashboard) read attempts by end time.
    index('attempts_finished_idx').on(t.finishedAt),
  ],
);
