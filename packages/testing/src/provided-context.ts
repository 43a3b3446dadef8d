/**
 * The values the global setup hands to test workers through vitest's provide/inject. Types only:
 * global-setup.ts (main process) and provided.ts (workers) both import it.
 */
declare module 'vitest' {
  /** What the global setup (./global-setup.ts) hands to every test worker. */
  export interface ProvidedContext {
    /** A database on the test server where `CREATE DATABASE` may be run; see test-services.ts. */
    pwDatabaseUrl: string;
    pwRedisUrl: string;
    /** The migrated template each test database is cloned from. */
    pwTemplateDatabase: string;
    /** Unique per `vitest` run; test databases carry it so teardown finds the ones left behind. */
    pwRunId: string;
  }
}

export {};
