import { bigserial, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { attempts } from './attempts.ts';
import { runs } from './runs.ts';
import { stageRuns } from './stage-runs.ts';

/** Log lines a stage handler wrote, shipped in the worker's progress batches. */
export const stageLogs = pgTable(
  'stage_logs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    runId: uuid('run_id').notNull().references(() => runs.id),
    stageRunId: uuid('stage_run_id').notNull().references(() => stageRuns.id),
    attemptId: uuid('attempt_id').notNull().references(() => attempts.id),
    /** Batch sequence number and index in the batch: a re-delivered batch is a no-op. */
    seq: integer('seq').notNull(),
    idx: integer('idx').notNull(),
    level: text('level').$type<'info' | 'warn' | 'error'>().notNull(),
    message: text('message').notNull(),
    fields: jsonb('fields').$type<Record<string, unknown>>(),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    uniqueIndex('stage_logs_attempt_seq_idx_uq').on(t.attemptId, t.seq, t.idx),
    index('stage_logs_stage_idx').on(t.stageRunId, t.id),
  ],
);
