import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StageTestEnvironment } from '../testing/stage-test-environment.ts';
import { labelColumn, numericColumn, readTable, tableFromColumns, tableTarget, writeTable } from '../table-io.ts';
import { allocateStratified, splitIndices, splitTrainTestStage } from './split-train-test.ts';

let env: StageTestEnvironment;
beforeAll(async () => {
  env = await StageTestEnvironment.create();
});
afterAll(async () => {
  await env.dispose();
});

// 100 rows: 70 of class 0, 30 of class 1; `id` identifies each row.
const labels = Array.from({ length: 100 }, (_, i) => (i % 10 < 7 ? 0 : 1));

describe('allocateStratified', () => {
  it('gives every class its proportional share and sums to the test size', () => {
    expect(allocateStratified([70, 30], 25)).toEqual([18, 7]); // 17.5 and 7.5: the tie goes to the first class
    expect(allocateStratified([50, 30, 20], 33)).toEqual([16, 10, 7]); // 16.5, 9.9, 6.6: largest remainders first
    expect(allocateStratified([1, 1, 98], 10)).toEqual([0, 0, 10]);
  });
});

describe('splitIndices', () => {
  it('is deterministic, disjoint, covering and stratified', () => {
    const a = splitIndices(labels, { testSize: 0.25, stratify: true, seed: 42 });
    const b = splitIndices(labels, { testSize: 0.25, stratify: true, seed: 42 });
    expect(a).toEqual(b);
    expect(a.test).toHaveLength(25);
    expect([...a.train, ...a.test].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(a.test.filter((i) => labels[i] === 1)).toHaveLength(7);
    expect(splitIndices(labels, { testSize: 0.25, stratify: true, seed: 43 }).test).not.toEqual(a.test);
  });

  it('shuffles all rows together when not stratified', () => {
    const { train, test } = splitIndices(labels, { testSize: 0.3, stratify: false, seed: 1 });
    expect(test).toHaveLength(30);
    expect(train).toHaveLength(70);
    expect(test).toEqual([...test].sort((x, y) => x - y));
  });

  it('refuses to stratify a class of one, or splits that leave a side empty', () => {
    expect(() => splitIndices([0, 0, 0, 1], { testSize: 0.5, stratify: true, seed: 1 })).toThrow(
      expect.objectContaining({ code: 'PW_ERR_BAD_DATA' }),
    );
    expect(() => splitIndices([0, 1], { testSize: 0.9, stratify: false, seed: 1 })).toThrow(
      expect.objectContaining({ code: 'PW_ERR_BAD_PARAMS' }),
    );
  });
});

describe('split.train_test@1', () => {
  it('writes train and test tables that keep the schema and the target', async () => {
    const table = tableFromColumns(
      [
        { name: 'id', kind: 'float64', values: labels.map((_, i) => i) },
        { name: 'y', kind: 'float64', values: labels },
      ],
      'y',
    );
    const data = await writeTable(env.store, table);
    const run = await env.run(splitTrainTestStage, { params: {}, inputs: { data } });
    expect(run.metrics).toEqual({ train_rows: 75, test_rows: 25 });
    const train = await readTable(env.store, run.outputs.train!);
    const test = await readTable(env.store, run.outputs.test!);
    expect(tableTarget(test)).toBe('y');
    const ids = [...numericColumn(train, 'id'), ...numericColumn(test, 'id')];
    expect(new Set(ids).size).toBe(100);
    expect(labelColumn(test, 'y').filter((v) => v === 1)).toHaveLength(7);

    const again = await env.run(splitTrainTestStage, { params: {}, inputs: { data } });
    expect(again.outputs.test!.digest).toBe(run.outputs.test!.digest);
  });

  it('validates params strictly', () => {
    const schema = splitTrainTestStage.params;
    expect(schema.parse({})).toEqual({ testSize: 0.25, stratify: true, seed: 42 });
    for (const bad of [{ testSize: 0 }, { testSize: 1 }, { seed: 1.5 }, { shuffle: true }, { testSize: '0.3' }]) {
      expect(schema.safeParse(bad).success).toBe(false);
    }
  });
});
