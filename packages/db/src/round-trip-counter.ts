import type { Socket } from 'node:net';
import { driverOf, type DatabaseHandle } from './open-database.ts';

/** Counts the round trips a handle's connections make, and their socket writes. */
export interface RoundTripCounter {
  /** Round trips since the counter was attached or last reset. */
  readonly count: number;
  /** Socket writes (one system call each) since the counter was attached or last reset. */
  readonly writes: number;
  reset(): void;
}

/**
 * Counts round trips to Postgres, and socket writes, on the connections `handle` opens from now on: a round trip is a
 * burst of writes after the server last answered, so statements pipelined together count once
 * and a statement sent after waiting for the previous answer counts again. Deterministic (no
 * timing), for tests and diagnostics that check how many times a code path waits on the server.
 * PGlite makes no round trips: it counts none.
 */
export function countRoundTrips(handle: DatabaseHandle): RoundTripCounter {
  let count = 0;
  let writes = 0;
  const driver = driverOf(handle);
  if (driver.kind === 'pg') {
    driver.pool.on('connect', (client) => {
      const socket = (client as unknown as { connection: { stream: Socket } }).connection.stream;
      let answered = true;
      socket.on('data', () => {
        answered = true;
      });
      const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
      socket.write = ((...args: unknown[]) => {
        if (answered) count += 1;
        answered = false;
        return write(...args);
      }) as Socket['write'];
      // A Writable hands what it sends to _write (one chunk) or _writev (several, after a cork):
      // one system call each.
      const internals = socket as unknown as Record<'_write' | '_writev', (...args: unknown[]) => void>;
      for (const method of ['_write', '_writev'] as const) {
        const original = internals[method].bind(socket);
        internals[method] = (...args: unknown[]) => {
          writes += 1;
          original(...args);
        };
      }
    });
  }
  return {
    get count() {
      return count;
    },
    get writes() {
      return writes;
    },
    reset() {
      count = 0;
      writes = 0;
    },
  };
}
