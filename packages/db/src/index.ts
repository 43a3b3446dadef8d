import * as schema from './schema.ts';

export { artifacts, attempts, lineageEdges, metrics, outbox, pipelines, runs, stageRuns } from './schema.ts';
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
export { dumpSchema } from './dump-schema.ts';
// The query helpers services need, so that they depend on this package and not on drizzle-orm.
export { and, asc, desc, eq, gt, gte, inArray, isNotNull, isNull, lt, lte, or, sql, type SQL } from 'drizzle-orm';
