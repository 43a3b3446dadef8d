import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { executeRows } from './execute-rows.ts';
import { sql } from './index.ts';
import { listen } from './listen.ts';
import { openDatabase, type DatabaseHandle } from './open-database.ts';

const CHANNEL = 'pw_listen_test';

/** Resolves with the next `count` messages, or rejects after `ms`. */
function collect(count: number, ms = 5000): { messages: string[]; push(m: string): void; done: Promise<string[]> } {
  const messages: string[] = [];
  let resolve: (m: string[]) => void = () => {};
  const done = new Promise<string[]>((res, rej) => {
    resolve = res;
    setTimeout(() => rej(new Error(`got ${messages.length} of ${count} messages: ${JSON.stringify(messages)}`)), ms).unref();
  });
  return {
    messages,
    push(m) {
      messages.push(m);
      if (messages.length >= count) resolve(messages);
    },
    done,
  };
}

describe('listen on node-postgres', () => {
  let handle: DatabaseHandle;
  // A server connection (not a test database: LISTEN/NOTIFY needs no tables), on a channel of its own.
  const channel = `${CHANNEL}_${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    handle = await openDatabase({ url: inject('pwDatabaseUrl') }, { poolSize: 2 });
  });
  afterAll(() => handle.close());

  it('delivers a payload sent by pg_notify at commit, through the handle or its db', async () => {
    const viaHandle = collect(1);
    const viaDb = collect(1);
    const stopHandle = await listen(handle, channel, viaHandle.push);
    const stopDb = await listen(handle.db, channel, viaDb.push);
    try {
      await handle.db.transaction(async (tx) => {
        await tx.execute(sql`select pg_notify(${channel}, ${'{"runId":"r1","change":"state"}'})`);
      });
      expect(await viaHandle.done).toEqual(['{"runId":"r1","change":"state"}']);
      expect(await viaDb.done).toEqual(['{"runId":"r1","change":"state"}']);
    } finally {
      await stopHandle();
      await stopDb();
    }
  });

  it('delivers nothing for a rolled-back transaction or another channel', async () => {
    const got = collect(1);
    const stop = await listen(handle, channel, got.push);
    try {
      await handle.db
        .transaction(async (tx) => {
          await tx.execute(sql`select pg_notify(${channel}, 'rolled back')`);
          throw new Error('roll back');
        })
        .catch(() => {});
      await handle.db.execute(sql`select pg_notify(${`${channel}_other`}, 'elsewhere')`);
      await handle.db.execute(sql`select pg_notify(${channel}, 'after')`);
      expect(await got.done).toEqual(['after']);
    } finally {
      await stop();
    }
  });

  it('reconnects when its connection is killed, and says so', async () => {
    let reconnected = 0;
    const got = collect(1, 15_000);
    const stop = await listen(handle, channel, got.push, { reconnectDelayMs: 50, onReconnect: () => (reconnected += 1) });
    try {
      const killed = await executeRows<{ n: number }>(
        handle.db,
        sql`select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where query = ${`LISTEN ${channel}`} and pid <> pg_backend_pid()`,
      );
      expect(killed[0]?.n).toBe(1);
      for (let i = 0; i < 100 && reconnected === 0; i += 1) await new Promise((r) => setTimeout(r, 50));
      expect(reconnected).toBe(1);
      await handle.db.execute(sql`select pg_notify(${channel}, 'after reconnect')`);
      expect(await got.done).toEqual(['after reconnect']);
    } finally {
      await stop();
    }
  });

  it('stops: no message after the stop function resolved, and the connection is gone', async () => {
    const got: string[] = [];
    const stop = await listen(handle, channel, (m) => got.push(m));
    await stop();
    await stop();
    await handle.db.execute(sql`select pg_notify(${channel}, 'late')`);
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toEqual([]);
    const client = new pg.Client({ connectionString: inject('pwDatabaseUrl') });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where query = $1', [`LISTEN ${channel}`]);
      expect(rows[0]?.n).toBe(0);
    } finally {
      await client.end();
    }
  });

  it('rejects a channel name that is not a plain identifier', async () => {
    await expect(listen(handle, 'bad; drop table runs', () => {})).rejects.toThrow(/invalid channel name/);
  });
});

describe('listen on PGlite', () => {
  it('delivers a payload sent by pg_notify', async () => {
    const handle = await openDatabase({ inMemory: true });
    try {
      const got = collect(2);
      const stop = await listen(handle.db, CHANNEL, got.push);
      await handle.db.transaction(async (tx) => {
        await tx.execute(sql`select pg_notify(${CHANNEL}, 'one')`);
      });
      await handle.db.execute(sql`select pg_notify(${CHANNEL}, 'two')`);
      expect(await got.done).toEqual(['one', 'two']);
      await stop();
      await stop();
    } finally {
      await handle.close();
    }
  });
});
