import { bigint, index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { ArtifactType } from '@pipewright/core';
import { attempts } from './attempts.ts';
import { runs } from './runs.ts';
import { stageRuns } from './stage-runs.ts';

/**
 * An output of an attempt. The bytes are content-addressed (`digest`), so two rows may share
 * them; the row records who produced them, which is what lineage needs.
 */
export const artifacts = pgTable(
  'artifacts',
  {
    id: uuid('id').primaryKey(),
    teamId: text('team_id'),
    runId: uuid('run_id').notNull().references(() => runs.id),
    producedByStageRunId: uuid('produced_by_stage_run_id').notNull().references(() => stageRuns.id),
    producedByAttemptId: uuid('produced_by_attempt_id').notNull().references(() => attempts.id),
    outputName: text('output_name').notNull(),
    type: text('type').$type<ArtifactType>().notNull(),
    digest: text('digest').notNull(),
    uri: text('uri').notNull(),
    mediaType: text('media_type').notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    metadata: jsonb('metadata').$type<Record<string, unknown>>(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    // Applying the same success event twice cannot create a second row.
    uniqueIndex('artifacts_attempt_output_uq').on(t.producedByAttemptId, t.outputName),
    index('artifacts_run_idx').on(t.runId),
    index('artifacts_digest_idx').on(t.digest),
  ],
);
