/**
 * Rewrites packages/db/schema.sql from the committed migrations: migrates a fresh in-memory
 * PGlite database and dumps it. Needs no running Postgres. Run it after `npm run generate`.
 *
 *   npm run db:dump -w packages/db
 */
import { writeFileSync } from 'node:fs';
import { dumpSchema } from '../src/dump-schema.ts';
import { migrateDatabase } from '../src/migrate-database.ts';
import { openDatabase } from '../src/open-database.ts';
import { renderSchemaFile, schemaFilePath } from '../src/schema-file.ts';

const handle = await openDatabase({ inMemory: true });
try {
  await migrateDatabase(handle);
  writeFileSync(schemaFilePath, renderSchemaFile(await dumpSchema(handle.db)));
  console.log(`wrote ${schemaFilePath}`);
} finally {
  await handle.close();
}
