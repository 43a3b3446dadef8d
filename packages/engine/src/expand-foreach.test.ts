import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { planPipeline, type StageStatus } from '@pipewright/core';
import { and, eq, isNull, stageRuns, type Database, type StageRow } from '@pipewright/db';
import { createTestDatabase, type TestDatabase } from '@pipewright/testing';
import { settleForeachGroups, settleForeachGroupsOf } from './expand-foreach.ts';
import { RunChangeSet } from './run-change-set.ts';
import { submitRun } from './submit-run.ts';
import { testCatalog, testDescriptor } from './test-catalog.fixture.ts';

const params = z.object({}).loose();
const catalog = testCatalog([testDescriptor('source.list@1', {}, { items: 'json' }, { params }), testDescriptor('step.each@1', {}, { out: 'json' }, { params })]);
const spec = {
  apiVersion: 'pipewright/v1',
  name: 'settle-groups',
  cache: false,
  stages: [
    { id: 'list', uses: 'source.list@1' },
    { id: 'each', uses: 'step.each@1', needs: ['list'], foreach: 'list.items' },
  ],
};

/**
 * A run whose foreach group `each` is RUNNING with one instance per status given (stored), as
 * the engine leaves them in the database.
 */
async function groupWithInstances(db: Database, statuses: StageStatus[]): Promise<{ runId: string; group: StageRow; instances: StageRow[] }> {
  const planned = planPipeline(spec, catalog);
  if (!planned.ok) throw new Error(JSON.stringify(planned.problems));
  const { runId } = await submitRun(db, { plan: planned.plan, spec });
  const [group] = await db.update(stageRuns).set({ status: 'RUNNING' }).where(and(eq(stageRuns.runId, runId), eq(stageRuns.stageKey, 'each'))).returning();
  if (!group) throw new Error('no group');
  const instances = await db
    .insert(stageRuns)
    .values(statuses.map((status, index) => ({ ...group, id: randomUUID(), stageKey: `each[${index}]`, foreach: null, parentKey: 'each', itemIndex: index, status })))
    .returning();
  return { runId, group, instances: instances.sort((a, b) => (a.itemIndex ?? 0) - (b.itemIndex ?? 0)) };
}

describe('settling foreach groups from counts', () => {
  let database: TestDatabase;
  let db: Database;
  const now = new Date('2026-11-27T12:00:00Z');
  beforeAll(async () => {
    database = await createTestDatabase();
    db = database.handle.db;
  });
  afterAll(() => database.drop());

  /** Settles `each` both ways: from counts in SQL (with `inMemory` patched first), and from every row. */
  async function settleBothWays(statuses: StageStatus[], inMemory: Record<number, StageStatus>) {
    const { runId, group, instances } = await groupWithInstances(db, statuses);
    const counted = new RunChangeSet(runId);
    for (const [i, status] of Object.entries(inMemory)) counted.patchStage(instances[Number(i)] as StageRow, { status });
    const ended = await settleForeachGroupsOf(db, runId, ['each'], counted, (rows) => rows, now);
    const whole = new RunChangeSet(runId);
    const rows = [{ ...group }, ...instances.map((s, i) => ({ ...s, status: inMemory[i] ?? s.status }))];
    settleForeachGroups(whole, rows, now);
    const [stored] = await db.select().from(stageRuns).where(and(eq(stageRuns.runId, runId), eq(stageRuns.stageKey, 'each'), isNull(stageRuns.parentKey)));
    const fromCounts = ended[0] ?? stored;
    if (!fromCounts) throw new Error('no group row');
    return { ended, fromCounts, fromRows: rows[0] as StageRow };
  }

  it('leaves a group running while an instance is open, stored or in memory', async () => {
    const stored = await settleBothWays(['SUCCEEDED', 'RUNNING', 'SUCCEEDED'], {});
    expect(stored.ended).toEqual([]);
    expect(stored.fromRows.status).toBe('RUNNING');
    // The stored row says SUCCEEDED; memory says it was retried (QUEUED again).
    const memory = await settleBothWays(['SUCCEEDED', 'SUCCEEDED'], { 1: 'QUEUED' });
    expect(memory.ended).toEqual([]);
  });

  it('ends a group SUCCEEDED once the last instances end in memory', async () => {
    const { ended, fromCounts, fromRows } = await settleBothWays(['SUCCEEDED', 'CACHED', 'RUNNING', 'QUEUED'], { 2: 'SUCCEEDED', 3: 'SUCCEEDED' });
    expect(ended.map((g) => g.stageKey)).toEqual(['each']);
    expect([fromCounts.status, fromCounts.finishedAt]).toEqual(['SUCCEEDED', now]);
    expect(fromRows.status).toBe('SUCCEEDED');
  });

  it('ends a group FAILED naming the first five that did not succeed in item order, stored and in memory alike', async () => {
    const statuses: StageStatus[] = Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? 'FAILED' : 'SUCCEEDED'));
    statuses[11] = 'RUNNING';
    // 0, 2, 4, 6, 8, 10 failed (stored); 1 fails and 11 succeeds in memory.
    const { fromCounts, fromRows } = await settleBothWays(statuses, { 1: 'FAILED', 11: 'SUCCEEDED' });
    expect(fromCounts.status).toBe('FAILED');
    expect(fromCounts.error).toMatchObject({ code: 'PW_ERR_FOREACH_ITEM_FAILED', message: '7 of 12 instances did not succeed: each[0], each[1], each[2], each[4], each[6]' });
    expect(fromRows.error).toEqual(fromCounts.error);
  });

  it('ends a group CANCELED when every instance that did not succeed was canceled', async () => {
    const { fromCounts, fromRows } = await settleBothWays(['CANCELED', 'SUCCEEDED', 'RUNNING'], { 2: 'CANCELED' });
    expect([fromCounts.status, fromRows.status]).toEqual(['CANCELED', 'CANCELED']);
  });
});
