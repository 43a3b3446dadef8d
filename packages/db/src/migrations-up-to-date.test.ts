import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateDrizzleJson, generateMigration, type DrizzleSnapshotJSON } from 'drizzle-kit/api';
import { expect, it } from 'vitest';
import { migrationsFolder } from './migrate-database.ts';
import * as schema from './schema.ts';

/**
 * schema.sql checks that the migrations produce the committed schema; this checks that the
 * TypeScript schema has no change the migrations lack (someone edited src/schema/ and forgot
 * `npm run db:generate`). It diffs the schema against drizzle-kit's last snapshot, as generate does.
 */
it('the migrations cover every change to src/schema', async () => {
  const journal = JSON.parse(readFileSync(join(migrationsFolder, 'meta/_journal.json'), 'utf8')) as {
    entries: Array<{ idx: number }>;
  };
  const last = journal.entries.at(-1);
  expect(last, 'no migrations: run `npm run db:generate`').toBeDefined();
  const snapshotFile = join(migrationsFolder, 'meta', `${String(last!.idx).padStart(4, '0')}_snapshot.json`);
  const previous = JSON.parse(readFileSync(snapshotFile, 'utf8')) as DrizzleSnapshotJSON;
  const current = generateDrizzleJson(schema, previous.id);
  const pending = await generateMigration(previous, current);
  expect(
    pending,
    'src/schema/ changed without a migration: run `npm run db:generate`, then `npm run db:dump -w packages/db`',
  ).toEqual([]);
});

/**
 * drizzle's migrator applies a migration only when its journal `when` is later than the last
 * applied one, so a migration generated on a machine whose clock is behind would be skipped
 * silently on every database that is already migrated. Fix by editing its `when` upward.
 */
it('migration timestamps increase in journal order', () => {
  const journal = JSON.parse(readFileSync(join(migrationsFolder, 'meta/_journal.json'), 'utf8')) as {
    entries: Array<{ tag: string; when: number }>;
  };
  for (const [i, entry] of journal.entries.entries()) {
    const previous = journal.entries[i - 1];
    if (previous === undefined) continue;
    expect(entry.when, `${entry.tag} is dated before ${previous.tag}; raise its "when" in meta/_journal.json`).toBeGreaterThan(previous.when);
  }
});
