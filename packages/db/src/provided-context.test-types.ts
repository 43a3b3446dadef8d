/**
 * What this package's tests inject: the test server's database URL, provided by
 * packages/testing/src/global-setup.ts (this package cannot depend on @pipewright/testing, which
 * depends on it). Types only, declared once for every test file of the package.
 */
declare module 'vitest' {
  interface ProvidedContext {
    pwDatabaseUrl: string;
  }
}

export {};
