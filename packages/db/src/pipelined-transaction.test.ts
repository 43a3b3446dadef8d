import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { executeRows } from './execute-rows.ts';
import { sql } from './index.ts';
import { openDatabase, type DatabaseHandle } from './open-database.ts';
import { pipelinedTransaction } from './pipelined-transaction.ts';
import { countRoundTrips } from './round-trip-counter.ts';
import { nameGeneration } from './statement-names.ts';

describe('pipelinedTransaction on node-postgres', () => {
  let handle: DatabaseHandle;
  // A table of its own in the server's database, so that its rows are seen from any connection.
  const table = sql.raw(`pw_pipelined_tx_${randomBytes(4).toString('hex')}`);

  beforeAll(async () => {
    handle = await openDatabase({ url: inject('pwDatabaseUrl') }, { poolSize: 2 });
    await handle.db.execute(sql`create table ${table} (id int primary key, parent int references ${table} (id) deferrable initially deferred)`);
  });
  afterAll(async () => {
    await handle.db.execute(sql`drop table if exists ${table}`);
    await handle.close();
  });

  const ids = async () => (await executeRows<{ id: number }>(handle.db, sql`select id from ${table} order by id`)).map((r) => r.id);

  it('runs every statement in one transaction and commits the one marked last', async () => {
    const xids = await pipelinedTransaction(handle.db, async (tx, commitWithNextStatement) => {
      const [first] = await executeRows<{ xid: string }>(tx, sql`select pg_current_xact_id()::text as xid`);
      await tx.execute(sql`insert into ${table} (id) values (1)`);
      commitWithNextStatement();
      const [last] = await executeRows<{ xid: string; id: number }>(tx, sql`insert into ${table} (id) values (2) returning pg_current_xact_id()::text as xid, id`);
      return [first?.xid, last?.xid];
    });
    expect(xids[0]).toBeDefined();
    expect(xids[1]).toBe(xids[0]);
    expect(await ids()).toEqual([1, 2]);
  });

  it('rolls back when the body throws, and the connection goes back to the pool usable and not pipelined', async () => {
    await expect(
      pipelinedTransaction(handle.db, async (tx) => {
        await tx.execute(sql`insert into ${table} (id) values (3)`);
        throw new Error('the body gave up');
      }),
    ).rejects.toThrow('the body gave up');
    expect(await ids()).toEqual([1, 2]);
    const pool = (handle.db as unknown as { $client: { _clients: { pipeline: boolean }[] } }).$client;
    expect(pool._clients.map((c) => c.pipeline)).not.toContain(true);
  });

  it('rejects with the error of a failing last statement, and commits nothing', async () => {
    await expect(
      pipelinedTransaction(handle.db, async (tx, commitWithNextStatement) => {
        await tx.execute(sql`insert into ${table} (id) values (4)`);
        commitWithNextStatement();
        await tx.execute(sql`insert into ${table} (id) values (1)`); // a duplicate key
      }),
    ).rejects.toMatchObject({ cause: { message: expect.stringMatching(/duplicate key/) } });
    expect(await ids()).toEqual([1, 2]);
  });

  it('rejects when the COMMIT sent with the last statement fails (a deferred constraint)', async () => {
    await expect(
      pipelinedTransaction(handle.db, async (tx, commitWithNextStatement) => {
        await tx.execute(sql`select 1`);
        commitWithNextStatement();
        await tx.execute(sql`insert into ${table} (id, parent) values (5, 99)`); // checked at COMMIT
      }),
    ).rejects.toThrow(/foreign key/); // COMMIT's own error, not drizzle's (it never saw the COMMIT)
    expect(await ids()).toEqual([1, 2]);
  });

  it('refuses a statement after the one marked last', async () => {
    await expect(
      pipelinedTransaction(handle.db, async (tx, commitWithNextStatement) => {
        commitWithNextStatement();
        await tx.execute(sql`insert into ${table} (id) values (6)`);
        await tx.execute(sql`insert into ${table} (id) values (7)`);
      }),
    ).rejects.toMatchObject({ cause: { message: expect.stringMatching(/after the one marked last/) } });
    // The marked statement and its COMMIT were already on their way.
    expect(await ids()).toEqual([1, 2, 6]);
  });

  it('commits a body that sent no statement, and one that never marked its last', async () => {
    await expect(pipelinedTransaction(handle.db, async () => 'nothing')).resolves.toBe('nothing');
    await pipelinedTransaction(handle.db, async (tx) => {
      await tx.execute(sql`insert into ${table} (id) values (8)`);
    });
    expect(await ids()).toEqual([1, 2, 6, 8]);
  });

  it('costs one round trip per statement: BEGIN and COMMIT ride along', async () => {
    const counted = await openDatabase({ url: inject('pwDatabaseUrl') }, { poolSize: 1 });
    const roundTrips = countRoundTrips(counted);
    try {
      const costOf = async (transaction: () => Promise<unknown>) => {
        roundTrips.reset();
        await transaction();
        return { roundTrips: roundTrips.count, writes: roundTrips.writes };
      };
      const pipelined = await costOf(() =>
        pipelinedTransaction(counted.db, async (tx, commitWithNextStatement) => {
          await tx.execute(sql`select id from ${table} where id = 1 for update`);
          commitWithNextStatement();
          await tx.execute(sql`insert into ${table} (id) values (9)`);
        }),
      );
      // The same through drizzle's transaction(): BEGIN, select, insert, COMMIT.
      const plain = await costOf(() =>
        counted.db.transaction(async (tx) => {
          await tx.execute(sql`select id from ${table} where id = 1 for update`);
          await tx.execute(sql`insert into ${table} (id) values (10)`);
        }),
      );
      expect({ pipelined, plain }).toEqual({ pipelined: { roundTrips: 2, writes: 2 }, plain: { roundTrips: 4, writes: 4 } });
    } finally {
      await counted.close();
    }
    expect(await ids()).toEqual(expect.arrayContaining([9, 10]));
  });

  it('sends the statements issued together in one socket write, BEGIN with the first and COMMIT with the last', async () => {
    const counted = await openDatabase({ url: inject('pwDatabaseUrl') }, { poolSize: 1 });
    const roundTrips = countRoundTrips(counted);
    try {
      await counted.db.execute(sql`select 1`); // the connection's start-up is not counted
      roundTrips.reset();
      const read = await pipelinedTransaction(counted.db, async (tx, commitWithNextStatement) => {
        // Three statements issued in one turn (drizzle reaches the driver after awaits of its own).
        const [locked, all, later] = await Promise.all([
          executeRows<{ id: number }>(tx, sql`select id from ${table} where id = 1 for update`),
          executeRows<{ n: number }>(tx, sql`select count(*)::int as n from ${table}`),
          executeRows<{ n: number }>(tx, sql`select count(*)::int as n from ${table} where id > 1`),
        ]);
        commitWithNextStatement();
        await tx.execute(sql`insert into ${table} (id) values (11)`);
        return [locked[0]?.id, all[0]!.n - later[0]!.n];
      });
      expect(read).toEqual([1, 1]);
      expect({ roundTrips: roundTrips.count, writes: roundTrips.writes }).toEqual({ roundTrips: 2, writes: 2 });
    } finally {
      await counted.close();
    }
    expect(await ids()).toEqual(expect.arrayContaining([11]));
  });

  it('names its statements: a connection parses a text once per generation, and keeps only the newest', async () => {
    const single = await openDatabase({ url: inject('pwDatabaseUrl') }, { poolSize: 1 });
    // A text of this test alone (the names' generations count executions per process).
    const tag = `probe_${randomBytes(4).toString('hex')}`;
    try {
      for (let i = 1; i <= 15; i += 1) await pipelinedTransaction(single.db, (tx) => tx.execute(sql`select count(*) as ${sql.raw(tag)} from ${table}`));
      // Read in a transaction of its own, which first deallocates what the last one superseded.
      const prepared = await pipelinedTransaction(single.db, (tx) =>
        executeRows<{ name: string; runs: number }>(tx, sql`select name, (generic_plans + custom_plans)::int as runs from pg_prepared_statements where strpos(statement, ${tag}) > 0`),
      );
      // Executions 1, 2-3, 4-7 and 8-15 are generations 0 to 3; the 8 of the last share one parse.
      expect(prepared).toEqual([{ name: expect.stringMatching(/^pw_[0-9a-f]{24}_3$/), runs: 8 }]);
    } finally {
      await single.close();
    }
  });
});

describe('pipelinedTransaction when the server lost its named statements', () => {
  it('fails the transaction that used one, and runs the next on a new connection', async () => {
    const single = await openDatabase({ url: inject('pwDatabaseUrl') }, { poolSize: 1 });
    const tag = `lost_${randomBytes(4).toString('hex')}`;
    const run = (text: string) => pipelinedTransaction(single.db, (tx) => executeRows<{ n: number }>(tx, sql`select 1 as ${sql.raw(`${tag}_${text}`)}, 2 as n`));
    try {
      // Two texts, each at generation 1 (its 2nd and 3rd executions share that name).
      for (const text of ['a', 'b']) for (let i = 0; i < 2; i += 1) await run(text);
      // What a pooler or DISCARD ALL does behind node-postgres' back (the pool's only connection).
      await single.db.execute(sql`deallocate all`);
      await expect(run('a')).rejects.toMatchObject({ cause: { code: '26000' } });
      // Its connection was dropped: b's 3rd execution (generation 1 again) is parsed anew.
      await expect(run('b')).resolves.toEqual([expect.objectContaining({ n: 2 })]);
    } finally {
      await single.close();
    }
  });
});

describe('nameGeneration', () => {
  it('moves at each power of two, up to the 20th', () => {
    expect([1, 2, 3, 4, 7, 8, 2 ** 20 - 1, 2 ** 20, 2 ** 40].map(nameGeneration)).toEqual([0, 1, 1, 2, 2, 3, 19, 20, 20]);
  });
});
