import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Time-bound leadership (the reconciler's). A holder renews before `expires_at`; anyone may take
 * an expired lease. Times are the database's clock, the one clock every process shares.
 */
export const leases = pgTable('leases', {
  name: text('name').primaryKey(),
  holder: text('holder').notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
});
