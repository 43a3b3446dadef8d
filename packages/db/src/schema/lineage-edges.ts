import { index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { artifacts } from './artifacts.ts';
import { attempts } from './attempts.ts';
import { runs } from './runs.ts';
import { stageRuns } from './stage-runs.ts';

/**
 * Which attempt consumed which artifact under which input name. (Production is recorded on
 * the artifact row itself.) Written when the consuming attempt is enqueued, since that is when
 * its inputs are fixed.
 */
export const lineageEdges = pgTable(
  'lineage_edges',
  {
    id: uuid('id').primaryKey(),
    runId: uuid('run_id').notNull().references(() => runs.id),
    artifactId: uuid('artifact_id').notNull().references(() => artifacts.id),
    consumerStageRunId: uuid('consumer_stage_run_id').notNull().references(() => stageRuns.id),
    consumerAttemptId: uuid('consumer_attempt_id').notNull().references(() => attempts.id),
    inputName: text('input_name').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('lineage_edges_attempt_input_uq').on(t.consumerAttemptId, t.inputName),
    index('lineage_edges_run_idx').on(t.runId),
    index('lineage_edges_artifact_idx').on(t.artifactId),
  ],
);
