import { index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { RunStatus } from '@pipewright/core';
import { pipelines } from './pipelines.ts';

export const runs = pgTable(
  'runs',
  {
    id: uuid('id').primaryKey(),
    teamId: text('team_id'),
    pipelineId: uuid('pipeline_id').notNull().references(() => pipelines.id),
    /** Denormalised so the run list filters without a join. */
    pipelineName: text('pipeline_name').notNull(),
    status: text('status').$type<RunStatus>().notNull(),
    params: jsonb('params').$type<Record<string, unknown>>().notNull(),
    error: jsonb('error'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }),
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    // Cursor pagination is (created_at desc, id desc); each filter has an index ending in
    // (created_at, id), which Postgres reads backwards. (drizzle's .desc() would add NULLS LAST,
    // which a plain ORDER BY … DESC cannot use.)
    index('runs_created_idx').on(t.createdAt, t.id),
    index('runs_status_created_idx').on(t.status, t.createdAt, t.id),
    index('runs_pipeline_created_idx').on(t.pipelineName, t.createdAt, t.id),
    index('runs_team_created_idx').on(t.teamId, t.createdAt, t.id),
  ],
);
