import { pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * `Idempotency-Key` headers seen on state-changing requests. The same key with the same request
 * (by hash) replays the original answer; with a different request it is a conflict. Written in
 * the transaction that did the work, so a key never points at work that was rolled back.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    /** `submit`, or `retry:<runId>`: a key is unique per scope. */
    scope: text('scope').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    runId: uuid('run_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.key] })],
);
