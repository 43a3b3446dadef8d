import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { and, asc, eq, pipelines, runs, sql, stageRuns } from './index.ts';
import { migrateDatabase } from './migrate-database.ts';
import { openDatabase, type Database, type DatabaseHandle } from './open-database.ts';
import { pipelinedTransaction } from './pipelined-transaction.ts';
import { reusableSelect } from './reusable-select.ts';

/** A run with two stages; returns its id. */
async function seed(db: Database): Promise<string> {
  const pipelineId = randomUUID();
  const runId = randomUUID();
  await db.insert(pipelines).values({ id: pipelineId, name: `p-${pipelineId}`, version: 1, specDigest: 'sha256:x', spec: {} });
  await db.insert(runs).values({ id: runId, pipelineId, pipelineName: 'p', status: 'RUNNING', params: { n: 1 } });
  const stage = { runId, uses: 'util.noop@1', family: 'util', needs: [], inputs: {}, outputs: {}, params: {}, resourceClass: 'cpu' as const, retry: { attempts: 1, backoff: 'fixed' as const, delayMs: 0, maxDelayMs: 0, jitter: false }, timeoutMs: 1000, cacheEnabled: false };
  await db.insert(stageRuns).values([
    { ...stage, id: randomUUID(), stageKey: 'a', position: 0, status: 'SUCCEEDED' as const, finishedAt: new Date('2026-11-27T10:00:00Z') },
    { ...stage, id: randomUUID(), stageKey: 'b', position: 1, status: 'PENDING' as const, needs: ['a'] },
  ]);
  return runId;
}

const build = vi.fn((db: Database) =>
  db
    .select({ run: runs, stage: stageRuns, needsCount: sql<number>`jsonb_array_length(${stageRuns.needs})::int` })
    .from(runs)
    .leftJoin(stageRuns, and(eq(stageRuns.runId, runs.id), sql`${stageRuns.status} = any(${sql.placeholder('statuses')}::text[])`))
    .where(sql`${runs.id} = any(${sql.placeholder('runIds')}::uuid[])`)
    .orderBy(asc(stageRuns.position)),
);
const runWithStages = reusableSelect(build);

/** The same select, built by drizzle for each execution. */
const asDrizzleDoes = (db: Database, runIds: string[], statuses: string[]) =>
  db
    .select({ run: runs, stage: stageRuns, needsCount: sql<number>`jsonb_array_length(${stageRuns.needs})::int` })
    .from(runs)
    .leftJoin(stageRuns, and(eq(stageRuns.runId, runs.id), sql`${stageRuns.status} = any(${sql.param(statuses)}::text[])`))
    .where(sql`${runs.id} = any(${sql.param(runIds)}::uuid[])`)
    .orderBy(asc(stageRuns.position));

describe('reusableSelect', () => {
  let lite: DatabaseHandle;
  let server: DatabaseHandle;
  const serverUrl = inject('pwDatabaseUrl');
  const name = `pw_reusable_${randomBytes(6).toString('hex')}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    await client.query(statement).finally(() => client.end());
  };

  beforeAll(async () => {
    lite = await openDatabase({ inMemory: true });
    await migrateDatabase(lite);
    await admin(`create database "${name}"`);
    server = await openDatabase({ url: Object.assign(new URL(serverUrl), { pathname: `/${name}` }).toString() }, { poolSize: 2 });
    await migrateDatabase(server);
  });
  afterAll(async () => {
    await lite.close();
    await server.close();
    await admin(`drop database if exists "${name}" with (force)`);
  });

  it('answers as drizzle does, with new values each time, building the query once', async () => {
    const first = await seed(lite.db);
    const second = await seed(lite.db);
    for (const [runIds, statuses] of [
      [[first], ['SUCCEEDED', 'PENDING']],
      [[first, second], ['PENDING']],
      [[second], ['FAILED']], // no stage joins: a null stage, as drizzle maps it
    ] as const) {
      const rows = await runWithStages(lite.db, { runIds: [...runIds], statuses: [...statuses] });
      expect(rows).toEqual(await asDrizzleDoes(lite.db, [...runIds], [...statuses]));
      expect(rows.length).toBeGreaterThan(0);
    }
    expect((await runWithStages(lite.db, { runIds: [second], statuses: ['FAILED'] }))[0]).toMatchObject({ run: { id: second, params: { n: 1 } }, stage: null });
    const [a] = await runWithStages(lite.db, { runIds: [first], statuses: ['SUCCEEDED'] });
    expect(a?.stage?.finishedAt).toEqual(new Date('2026-11-27T10:00:00Z'));
    expect(build).toHaveBeenCalledTimes(1);
  });

  it("runs on another handle's connection, in its transaction, logged by its logger", async () => {
    const statements: string[] = [];
    const logged = await openDatabase({ url: Object.assign(new URL(serverUrl), { pathname: `/${name}` }).toString() }, { poolSize: 1, logger: { logQuery: (q) => statements.push(q) } });
    try {
      const runId = await seed(server.db);
      const rows = await pipelinedTransaction(logged.db, async (tx, commitWithNextStatement) => {
        commitWithNextStatement();
        return runWithStages(tx, { runIds: [runId], statuses: ['SUCCEEDED', 'PENDING'] });
      });
      expect(rows.map((r) => [r.stage?.stageKey, r.needsCount])).toEqual([
        ['a', 0],
        ['b', 1],
      ]);
      expect(statements.filter((q) => q.includes('jsonb_array_length'))).toHaveLength(1);
      expect(build).toHaveBeenCalledTimes(1); // built on PGlite in the test above, the same text
    } finally {
      await logged.close();
    }
  });
});
