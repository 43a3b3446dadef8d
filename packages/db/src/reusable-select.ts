import type { SQL } from 'drizzle-orm';
import type { PgDialect } from 'drizzle-orm/pg-core';
import * as drizzleUtils from 'drizzle-orm/utils';
import type { Database, DatabaseTransaction } from './open-database.ts';

/** drizzle's own field-list step of `prepare` (exported at run time, not in its types). */
const { orderSelectedFields } = drizzleUtils as unknown as { orderSelectedFields(fields: Record<string, unknown>): unknown };

/** What of a drizzle select builder this module reads (not in drizzle's public types). */
interface SelectInternals {
  dialect: PgDialect;
  config: { fields: Record<string, unknown> };
  joinsNotNullableMap: Record<string, boolean>;
  getSQL(): SQL;
}

/** What of a session this module calls: the method every drizzle select executes through. */
interface SessionInternals {
  prepareQuery(
    query: { sql: string; params: unknown[] },
    fields: unknown,
    name: string | undefined,
    isResponseInArrayMode: boolean,
  ): { joinsNotNullableMap?: Record<string, boolean>; execute(values: Record<string, unknown>): Promise<unknown[]> };
}

type Rows<Builder extends { execute(): Promise<unknown[]> }> = Awaited<ReturnType<Builder['execute']>>;

/**
 * A select whose SQL is built once, and run again with new values for its placeholders
 * (`sql.placeholder(name)`). drizzle builds a select's text on every execution, walking each
 * selected column; for the apply's lock (57 columns) and its dependents read (32) that was 13 %
 * of the orchestrator's CPU in the throughput benchmark, to rebuild texts that never change.
 *
 * It is drizzle's own `prepare` step, split: the text, the field list and the join map are kept;
 * each run asks the given database's (or transaction's) session for a query object, as drizzle
 * does, so it runs on that connection and is logged by that handle's logger. Inside a pipelined
 * transaction the statement is named, and Postgres plans it once per connection and generation
 * (statement-names.ts); elsewhere it is unnamed and planned with the values each time. `build`
 * must give the same text whatever the values: only placeholders may vary.
 */
export function reusableSelect<Builder extends { execute(): Promise<unknown[]> }, Values extends Record<string, unknown>>(
  build: (db: Database) => Builder,
): (db: Database | DatabaseTransaction, values: Values) => Promise<Rows<Builder>> {
  let built: { query: { sql: string; params: unknown[] }; fields: unknown; joins: Record<string, boolean> } | undefined;
  return (db, values) => {
    if (!built) {
      const select = build(db as Database) as unknown as SelectInternals;
      built = { query: select.dialect.sqlToQuery(select.getSQL()), fields: orderSelectedFields(select.config.fields), joins: select.joinsNotNullableMap };
    }
    const session = (db as unknown as { _: { session: SessionInternals } })._.session;
    const query = session.prepareQuery(built.query, built.fields, undefined, true);
    query.joinsNotNullableMap = built.joins;
    return query.execute(values) as Promise<Rows<Builder>>;
  };
}
