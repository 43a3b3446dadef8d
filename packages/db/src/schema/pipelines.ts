import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/** A submitted pipeline spec. Same name + same canonical spec = same row; a change is a new version. */
export const pipelines = pgTable(
  'pipelines',
  {
    id: uuid('id').primaryKey(),
    /** Null until teams land; every query will filter on it then. */
    teamId: text('team_id'),
    name: text('name').notNull(),
    version: integer('version').notNull(),
    specDigest: text('spec_digest').notNull(),
    spec: jsonb('spec').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('pipelines_name_digest_uq').on(t.name, t.specDigest),
    uniqueIndex('pipelines_name_version_uq').on(t.name, t.version),
    index('pipelines_created_idx').on(t.createdAt),
  ],
);
