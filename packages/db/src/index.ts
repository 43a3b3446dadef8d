import * as schema from './schema.ts';

export { artifacts, attempts, idempotencyKeys, leases, lineageEdges, metrics, outbox, pipelines, runs, stageLogs, stageRuns } from './schema.ts';
/** Every table, as drizzle's relational query API and `drizzle({ schema })` want them. */
export { schema };
export {
  openDatabase,
  type Database,
  type DatabaseHandle,
  type DatabaseLocation,
  type DatabaseTransaction,
  type OpenDatabaseOptions,
} from './open-database.ts';
export { migrateDatabase, migrationsDigest, migrationsFolder } from './migrate-database.ts';
export { executeRows } from './execute-rows.ts';
export { sqlStateOf } from './sql-state.ts';
export { reusableSelect } from './reusable-select.ts';
export { pipelinedTransaction, type CommitWithNextStatement } from './pipelined-transaction.ts';
export { countRoundTrips, type RoundTripCounter } from './round-trip-counter.ts';
export { insertRowsSql, updateRowsSql, type InsertRowsOptions } from './recordset-sql.ts';
export { listen, type ListenOptions, type ListenSource } from './listen.ts';
export { dumpSchema } from './dump-schema.ts';
// The query helpers services need, so that they depend on this package and not on drizzle-orm.
export { and, asc, desc, eq, gt, gte, inArray, isNotNull, isNull, lt, lte, ne, notInArray, or, sql, type SQL } from 'drizzle-orm';
export type { ArtifactRow, AttemptRow, PipelineRow, RunRow, StageRow } from './row-types.ts';
