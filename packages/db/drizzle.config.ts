import { defineConfig } from 'drizzle-kit';

/**
 * `npm run generate -w packages/db` writes a new migration into ./migrations from the schema
 * diff. It needs no database: drizzle-kit diffs against the snapshots in ./migrations/meta.
 */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/schema.ts',
  out: './migrations',
  strict: true,
  verbose: true,
});
