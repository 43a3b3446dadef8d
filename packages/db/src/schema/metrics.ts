import { bigserial, doublePrecision, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { attempts } from './attempts.ts';
import { runs } from './runs.ts';
import { stageRuns } from './stage-runs.ts';

/**
 * Metric points. `kind` 'series' is a per-step point streamed while the stage runs (loss per
 * epoch); 'final' is a stage's result metric (step 0). The unique key makes a re-delivered
 * batch a no-op.
 */
export const metrics = pgTable(
  'metrics',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    runId: uuid('run_id').notNull().references(() => runs.id),
    stageRunId: uuid('stage_run_id').notNull().references(() => stageRuns.id),
    attemptId: uuid('attempt_id').notNull().references(() => attempts.id),
    kind: text('kind').$type<'series' | 'final'>().notNull(),
    name: text('name').notNull(),
    step: integer('step').notNull(),
    value: doublePrecision('value').notNull(),
    recordedAt: timestamp('recorded_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('metrics_attempt_kind_name_step_uq').on(t.attemptId, t.kind, t.name, t.step),
    index('metrics_run_idx').on(t.runId, t.stageRunId),
  ],
);
