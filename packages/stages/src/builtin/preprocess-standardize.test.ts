import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJson } from '../json-io.ts';
import { StageTestEnvironment } from '../testing/stage-test-environment.ts';
import { numericColumn, readTable, tableFromColumns, tableTarget, writeTable } from '../table-io.ts';
import { preprocessStandardizeStage } from './preprocess-standardize.ts';
import type { StandardScaler } from './preprocess-standardize.ts';

let env: StageTestEnvironment;
beforeAll(async () => {
  env = await StageTestEnvironment.create();
});
afterAll(async () => {
  await env.dispose();
});

describe('preprocess.standardize@1', () => {
  it('fits on train only and applies the same transform to test', async () => {
    const train = tableFromColumns(
      [
        { name: 'a', kind: 'float64', values: [1, 2, 3, 4] }, // mean 2.5, population std sqrt(1.25)
        { name: 'b', kind: 'float64', values: [5, 5, 5, null] }, // constant: centred, not scaled
        { name: 'name', kind: 'utf8', values: ['w', 'x', 'y', 'z'] },
        { name: 'y', kind: 'float64', values: [0, 1, 0, 1] },
      ],
      'y',
    );
    const test = tableFromColumns(
      [
        { name: 'a', kind: 'float64', values: [100, 2.5] },
        { name: 'b', kind: 'float64', values: [6, null] },
        { name: 'name', kind: 'utf8', values: ['p', 'q'] },
        { name: 'y', kind: 'float64', values: [1, 0] },
      ],
      'y',
    );
    const run = await env.run(preprocessStandardizeStage, {
      inputs: { train: await writeTable(env.store, train), test: await writeTable(env.store, test) },
    });

    const scaler = await readJson<StandardScaler>(env.store, run.outputs.scaler!);
    expect(scaler.columns).toEqual(['a', 'b']);
    expect(scaler.means).toEqual([2.5, 5]);
    expect(scaler.stds[0]).toBeCloseTo(Math.sqrt(1.25), 15);
    expect(scaler.stds[1]).toBe(1);

    const scaledTrain = await readTable(env.store, run.outputs.train!);
    const a = numericColumn(scaledTrain, 'a') as number[];
    expect(a.reduce((s, v) => s + v, 0)).toBeCloseTo(0, 12);
    expect(a.reduce((s, v) => s + v * v, 0) / a.length).toBeCloseTo(1, 12);
    expect(numericColumn(scaledTrain, 'b')).toEqual([0, 0, 0, null]);
    expect(numericColumn(scaledTrain, 'y')).toEqual([0, 1, 0, 1]);
    expect(scaledTrain.getChild('name')!.toArray()).toEqual(['w', 'x', 'y', 'z']);
    expect(tableTarget(scaledTrain)).toBe('y');

    const scaledTest = await readTable(env.store, run.outputs.test!);
    expect(numericColumn(scaledTest, 'a')).toEqual([(100 - 2.5) / Math.sqrt(1.25), 0]);
    expect(numericColumn(scaledTest, 'b')).toEqual([1, null]);
  });

  it('scales only the requested columns and never the target', async () => {
    const t = tableFromColumns(
      [
        { name: 'a', kind: 'float64', values: [1, 3] },
        { name: 'b', kind: 'float64', values: [10, 30] },
        { name: 'y', kind: 'float64', values: [0, 1] },
      ],
      'y',
    );
    const ref = await writeTable(env.store, t);
    const run = await env.run(preprocessStandardizeStage, { params: { columns: ['b'] }, inputs: { train: ref, test: ref } });
    const out = await readTable(env.store, run.outputs.train!);
    expect(numericColumn(out, 'a')).toEqual([1, 3]);
    expect(numericColumn(out, 'b')).toEqual([-1, 1]);
    await expect(
      env.run(preprocessStandardizeStage, { params: { columns: ['y'] }, inputs: { train: ref, test: ref } }),
    ).rejects.toMatchObject({ code: 'PW_ERR_BAD_PARAMS' });
  });
});
