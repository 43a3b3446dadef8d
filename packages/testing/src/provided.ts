import { inject } from 'vitest';
import './provided-context.ts';

type Key = 'pwDatabaseUrl' | 'pwRedisUrl' | 'pwTemplateDatabase' | 'pwRunId';

/** A value from the global setup, or a clear error when the test runs without it. */
export function provided(key: Key): string {
  const value: unknown = inject(key);
  if (typeof value !== 'string' || value === '') {
    throw new Error(
      `@pipewright/testing: '${key}' was not provided. Run tests through the repository's vitest.config.ts, ` +
        `whose projects use packages/testing/src/global-setup.ts as globalSetup.`,
    );
  }
  return value;
}
