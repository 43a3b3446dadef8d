import { ConfigError } from '@pipewright/core';

export interface RunningService {
  close(): Promise<void>;
}

export interface RunServiceOptions {
  /** Logs the shutdown; defaults to stderr. */
  log?(message: string, fields?: Record<string, unknown>): void;
  /** Longest a graceful close may take before the process exits anyway. @defaultValue 30000 */
  closeTimeoutMs?: number;
}

/** Exit status of a process stopped by bad configuration (sysexits EX_CONFIG). */
export const EXIT_CONFIG = 78;

/**
 * The lifecycle every Pipewright process shares: start, then on SIGTERM or SIGINT close
 * gracefully (a worker lets its running stages finish) and exit 0. A ConfigError at start exits
 * 78 with its message, which names the variable; any other start failure exits 1.
 */
export function runService(start: () => Promise<RunningService>, options: RunServiceOptions = {}): void {
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  start().then(
    (service) => {
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) return;
        stopping = true;
        log('stopping', { signal });
        const force = setTimeout(() => process.exit(1), options.closeTimeoutMs ?? 30_000);
        force.unref();
        service.close().then(
          () => process.exit(0),
          (error: unknown) => {
            log(`close failed: ${String(error)}`);
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof ConfigError ? error.message : String((error as Error)?.stack ?? error)}\n`);
      process.exit(error instanceof ConfigError ? EXIT_CONFIG : 1);
    },
  );
}
