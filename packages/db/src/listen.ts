import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { driverOf, type Database, type DatabaseDriver, type DatabaseHandle } from './open-database.ts';

/** What {@link listen} subscribes through: a handle from `openDatabase`, or its `db`. */
export type ListenSource = DatabaseHandle | Database;

export interface ListenOptions {
  /**
   * Called after the dedicated connection was lost and is listening again. Notifications sent
   * while it was down are gone (Postgres does not queue them for a disconnected session), so a
   * caller that mirrors state should re-read it here.
   */
  onReconnect?(): void;
  /** Called with each connection error (it is retried; nothing is thrown). */
  onError?(error: unknown): void;
  /**
   * First delay before reconnecting; doubles on every failure up to 5 s.
   * @defaultValue 250
   */
  reconnectDelayMs?: number;
}

/** Channel names are identifiers; quoting them would make `LISTEN` case-sensitive surprises. */
const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;
const MAX_RECONNECT_DELAY_MS = 5000;

/**
 * Subscribes to a Postgres notification channel (`LISTEN`) and calls `onMessage` with each
 * payload. Resolves once listening (rejects when the first connection fails) with a function
 * that stops listening and releases the connection.
 *
 * node-postgres: a dedicated `pg.Client` outside the pool (a pooled connection could be handed
 * to someone else, and LISTEN is per session), reconnecting with backoff when it drops.
 * PGlite: its own `listen` API, over the single embedded session.
 */
export async function listen(source: ListenSource, channel: string, onMessage: (payload: string) => void, options: ListenOptions = {}): Promise<() => Promise<void>> {
  if (!CHANNEL.test(channel)) throw new Error(`invalid channel name "${channel}": use lower-case letters, digits and _`);
  const driver = driverOfSource(source);
  if (driver.kind === 'pglite') {
    const unlisten = await driver.client.listen(channel, onMessage);
    let stopped: Promise<void> | undefined;
    return () => (stopped ??= driver.client.closed ? Promise.resolve() : unlisten());
  }
  return listenPg(driver.pool, channel, onMessage, options);
}

function driverOfSource(source: ListenSource): DatabaseDriver {
  if ('kind' in source && 'db' in source) return driverOf(source);
  // A drizzle database keeps its driver client as `$client` (the pool, or the PGlite instance).
  const client = (source as { $client?: unknown }).$client;
  if (client instanceof pg.Pool) return { kind: 'pg', pool: client };
  if (client instanceof PGlite) return { kind: 'pglite', client };
  throw new Error('listen() needs a DatabaseHandle from openDatabase() or its db (not a transaction)');
}

async function listenPg(pool: pg.Pool, channel: string, onMessage: (payload: string) => void, options: ListenOptions): Promise<() => Promise<void>> {
  const firstDelay = options.reconnectDelayMs ?? 250;
  let client: pg.Client | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let delay = firstDelay;

  const connect = async (): Promise<pg.Client> => {
    const { max: _max, idleTimeoutMillis: _idle, ...config } = pool.options;
    const next = new pg.Client({ ...config, keepAlive: true });
    // Errors arrive as 'error' and then 'end'; both lead to one reconnect (see lost()).
    next.on('error', (error) => {
      options.onError?.(error);
      lost(next);
    });
    next.on('end', () => lost(next));
    next.on('notification', (message) => {
      if (message.channel === channel) onMessage(message.payload ?? '');
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${channel}`);
    } catch (error) {
      next.removeAllListeners('end');
      next.on('error', () => {});
      await next.end().catch(() => {});
      throw error;
    }
    return next;
  };

  const lost = (which: pg.Client): void => {
    if (stopped || client !== which) return;
    client = undefined;
    which.removeAllListeners('end');
    which.on('error', () => {});
    which.end().catch(() => {});
    schedule();
  };

  const schedule = (): void => {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      connect().then(
        (next) => {
          if (stopped) {
            next.end().catch(() => {});
            return;
          }
          client = next;
          delay = firstDelay;
          options.onReconnect?.();
        },
        (error: unknown) => {
          options.onError?.(error);
          delay = Math.min(delay * 2, MAX_RECONNECT_DELAY_MS);
          schedule();
        },
      );
    }, delay);
    timer.unref();
  };

  client = await connect();
  let closing: Promise<void> | undefined;
  return () =>
    (closing ??= (async () => {
      stopped = true;
      clearTimeout(timer);
      const last = client;
      client = undefined;
      if (last) {
        last.removeAllListeners('end');
        last.on('error', () => {});
        await last.end().catch(() => {});
      }
    })());
}
