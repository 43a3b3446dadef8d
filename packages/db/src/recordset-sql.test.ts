import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeRows } from './execute-rows.ts';
import { attempts, eq, metrics, pipelines, runs, sql, stageRuns } from './index.ts';
import { migrateDatabase } from './migrate-database.ts';
import { openDatabase, type DatabaseHandle } from './open-database.ts';
import { insertRowsSql, updateRowsSql } from './recordset-sql.ts';

describe('rows written through jsonb_to_recordset', () => {
  let handle: DatabaseHandle;
  const pipelineId = randomUUID();
  const runId = randomUUID();
  const at = new Date('2026-11-27T12:00:00.123Z');

  beforeAll(async () => {
    handle = await openDatabase({ inMemory: true });
    await migrateDatabase(handle);
    await handle.db.insert(pipelines).values({ id: pipelineId, name: 'p', version: 1, specDigest: 'sha256:x', spec: {} });
  });
  afterAll(() => handle.close());

  it('inserts rows of every column type, in one statement, as drizzle reads them back', async () => {
    const { db } = handle;
    await db.execute(
      insertRowsSql(runs, [{ id: runId, teamId: null, pipelineId, pipelineName: 'p', status: 'QUEUED', params: { a: [1, 'two', null] }, createdAt: at, updatedAt: at }]),
    );
    const stage = {
      id: randomUUID(),
      runId,
      stageKey: 'train[0]',
      position: 0,
      uses: 'x.y@1',
      family: 'x',
      needs: ['a', 'b'],
      inputs: {},
      outputs: { out: 'json' },
      params: { lr: 0.1, quote: 'it\'s "quoted"' },
      resourceClass: 'cpu',
      gpu: 0,
      retry: { attempts: 3 },
      timeoutMs: 1000,
      cacheEnabled: true,
      status: 'PENDING',
      createdAt: at,
    };
    await db.execute(insertRowsSql(stageRuns, [stage]));
    const [row] = await db.select().from(stageRuns).where(eq(stageRuns.id, stage.id));
    expect(row).toMatchObject({ ...stage, metrics: null, attemptCount: 0, finishedAt: null });
    expect(row?.createdAt.toISOString()).toBe(at.toISOString());
  });

  it('carries non-finite floats, and skips conflicting rows when asked', async () => {
    const { db } = handle;
    const [stage] = await db.select().from(stageRuns).where(eq(stageRuns.runId, runId));
    const attemptId = randomUUID();
    await db.execute(sql`insert into attempts (id, stage_run_id, run_id, number, status, queue, job_id) values (${attemptId}, ${stage?.id}, ${runId}, 1, 'QUEUED', 'q', 'j')`);
    const point = (name: string, value: number) => ({ runId, stageRunId: stage?.id, attemptId, kind: 'final', name, step: 0, value });
    const rows = [point('nan', Number.NaN), point('inf', Number.POSITIVE_INFINITY), point('neg', Number.NEGATIVE_INFINITY), point('one', 1.5)];
    await db.execute(insertRowsSql(metrics, rows, { onConflictDoNothing: true }));
    await db.execute(insertRowsSql(metrics, rows, { onConflictDoNothing: true }));
    const stored = await db.select().from(metrics).where(eq(metrics.attemptId, attemptId));
    expect(Object.fromEntries(stored.map((m) => [m.name, m.value]))).toEqual({ nan: Number.NaN, inf: Number.POSITIVE_INFINITY, neg: Number.NEGATIVE_INFINITY, one: 1.5 });
  });

  it('updates each row by its key with the properties it carries, nulls included', async () => {
    const { db } = handle;
    const stages = await db.select().from(stageRuns).where(eq(stageRuns.runId, runId));
    const finishedAt = new Date('2026-11-27T12:00:01.000Z');
    await db.execute(updateRowsSql(stageRuns, stages.map((s) => ({ id: s.id, status: 'SUCCEEDED', metrics: { f1: 0.9 }, finishedAt, error: null }))));
    const [row] = await db.select().from(stageRuns).where(eq(stageRuns.runId, runId));
    expect([row?.status, row?.metrics, row?.finishedAt?.toISOString(), row?.error]).toEqual(['SUCCEEDED', { f1: 0.9 }, finishedAt.toISOString(), null]);
    // Two data-modifying CTEs in one statement, the second referencing the first's new row.
    const other = randomUUID();
    await executeRows(
      db,
      sql`with a as (${insertRowsSql(runs, [{ id: other, pipelineId, pipelineName: 'p', status: 'QUEUED', params: {}, createdAt: at, updatedAt: at }])}),
           b as (${insertRowsSql(stageRuns, [{ ...stages[0], id: randomUUID(), runId: other }])}) select 1`,
    );
    expect(await db.select().from(stageRuns).where(eq(stageRuns.runId, other))).toHaveLength(1);
  });

  it('tells the planner how many rows there are, so a small update probes the key instead of scanning the table', async () => {
    const { db } = handle;
    // The case measured in the orchestrator: a few attempts updated among thousands.
    const [stage] = await db.select().from(stageRuns).where(eq(stageRuns.runId, runId));
    const many = Array.from({ length: 6000 }, (_, i) => ({ id: randomUUID(), stageRunId: stage?.id, runId, number: 100 + i, status: 'SUCCEEDED', queue: 'q', jobId: `j${i}`, queuedAt: at }));
    await db.execute(insertRowsSql(attempts, many));
    await db.execute(sql`analyze attempts`);
    const plan = await executeRows<{ 'QUERY PLAN': string }>(db, sql`explain ${updateRowsSql(attempts, many.slice(0, 3).map((r) => ({ id: r.id, status: 'LOST' })))}`);
    const text = plan.map((r) => r['QUERY PLAN']).join('\n');
    expect(text).toContain('attempts_pkey');
    expect(text).not.toMatch(/Seq Scan on attempts/);
  });

  it('refuses a property the table does not have, and rows without their key', () => {
    expect(() => insertRowsSql(runs, [{ nope: 1 }])).toThrow(/no column property nope/);
    expect(() => updateRowsSql(runs, [{ status: 'FAILED' }])).toThrow(/lack their key id/);
  });
});
