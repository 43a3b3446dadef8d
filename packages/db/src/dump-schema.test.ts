import { afterAll, beforeAll, expect, it } from 'vitest';
import { dumpSchema } from './dump-schema.ts';
import { migrateDatabase } from './migrate-database.ts';
import { openDatabase, type DatabaseHandle } from './open-database.ts';
import { readSchemaFile, renderSchemaFile, schemaDumpCommand } from './schema-file.ts';

// The node-postgres side of this check is in migrate-database.test.ts.
let handle: DatabaseHandle;
beforeAll(async () => {
  handle = await openDatabase({ inMemory: true });
  await migrateDatabase(handle);
});
afterAll(() => handle.close());

it('the committed schema.sql matches what the migrations produce', async () => {
  const dump = renderSchemaFile(await dumpSchema(handle.db));
  expect(
    dump,
    `packages/db/schema.sql is out of date: if you changed src/schema/, run \`npm run db:generate\` to add a migration, ` +
      `then \`${schemaDumpCommand}\` to refresh schema.sql, and commit both`,
  ).toBe(readSchemaFile());
});

it('is deterministic', async () => {
  expect(await dumpSchema(handle.db)).toBe(await dumpSchema(handle.db));
});
