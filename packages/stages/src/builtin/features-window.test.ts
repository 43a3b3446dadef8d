import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StageTestEnvironment } from '../testing/stage-test-environment.ts';
import { numericColumn, readTable, tableFromColumns, tableTarget, writeTable } from '../table-io.ts';
import { featuresWindowStage, windowFeatures } from './features-window.ts';

let env: StageTestEnvironment;
beforeAll(async () => {
  env = await StageTestEnvironment.create();
});
afterAll(async () => {
  await env.dispose();
});

/** Two machines, rows shuffled; machine 'b' fails at cycle 6, machine 'a' is still running. */
function readings() {
  const rows = [
    ['b', 3, 5, 0], ['a', 1, 1, 0], ['a', 3, 4, 0], ['b', 1, 1, 0], ['a', 2, 2, 0], ['b', 2, 3, 0],
    ['a', 4, 8, 0], ['b', 4, 7, 0], ['a', 5, 16, 0], ['b', 5, 9, 0], ['b', 6, 20, 1], ['a', 6, 0, 0],
  ] as const;
  return tableFromColumns(
    [
      { name: 'machine', kind: 'utf8', values: rows.map((r) => r[0]) },
      { name: 'cycle', kind: 'float64', values: rows.map((r) => r[1]) },
      { name: 'vibration', kind: 'float64', values: rows.map((r) => r[2]) },
      { name: 'failure', kind: 'float64', values: rows.map((r) => r[3]) },
    ],
    'failure',
  );
}

describe('features.window@1', () => {
  it('summarises each series over its past readings, in time order', () => {
    const out = windowFeatures(readings(), {
      group: 'machine', order: 'cycle', window: 3, stats: ['mean', 'std', 'min', 'max', 'slope', 'last'], step: 1, keep: ['machine', 'cycle'],
    });
    expect(out.schema.names).toEqual([
      'machine', 'cycle', 'vibration_mean_w3', 'vibration_std_w3', 'vibration_min_w3', 'vibration_max_w3', 'vibration_slope_w3', 'vibration_last_w3',
    ]);
    // Series by first appearance: b (cycles 3..6), then a (cycles 3..6).
    expect(out.getChild('machine')!.toArray()).toEqual(['b', 'b', 'b', 'b', 'a', 'a', 'a', 'a']);
    expect(numericColumn(out, 'cycle')).toEqual([3, 4, 5, 6, 3, 4, 5, 6]);
    // a at cycle 5: readings 4, 8, 16.
    expect(numericColumn(out, 'vibration_mean_w3')[6]).toBeCloseTo(28 / 3, 12);
    expect(numericColumn(out, 'vibration_std_w3')[6]).toBeCloseTo(Math.sqrt(((4 - 28 / 3) ** 2 + (8 - 28 / 3) ** 2 + (16 - 28 / 3) ** 2) / 2), 12);
    expect(numericColumn(out, 'vibration_slope_w3')[6]).toBeCloseTo(6, 12); // (16 - 4) / 2
    expect(numericColumn(out, 'vibration_min_w3')[7]).toBe(0);
    expect(numericColumn(out, 'vibration_max_w3')[7]).toBe(16);
    expect(numericColumn(out, 'vibration_last_w3')[3]).toBe(20);
    // The input's target was not kept: the output has none.
    expect(tableTarget(out)).toBeUndefined();
  });

  it('labels failure within the horizon, dropping censored windows and the failure reading itself', async () => {
    const data = await writeTable(env.store, readings());
    const run = await env.run(featuresWindowStage, {
      params: { group: 'machine', order: 'cycle', window: 2, stats: ['mean'], label: { event: 'failure', horizon: 2 }, keep: ['machine', 'cycle'] },
      inputs: { data },
    });
    const out = await readTable(env.store, run.outputs.data!);
    expect(tableTarget(out)).toBe('failure_soon');
    // b: cycles 2..5 (6 is the failure); a: cycles 2..4 (5 and 6 are censored: a's series ends).
    expect(out.getChild('machine')!.toArray()).toEqual(['b', 'b', 'b', 'b', 'a', 'a', 'a']);
    expect(numericColumn(out, 'cycle')).toEqual([2, 3, 4, 5, 2, 3, 4]);
    expect(numericColumn(out, 'failure_soon')).toEqual([0, 0, 1, 1, 0, 0, 0]);
    expect(run.metrics).toMatchObject({ rows: 7, features: 1 });
    expect(run.metrics!.positive_rate).toBeCloseTo(2 / 7, 12);
  });

  it('emits every step-th window and refuses missing sensor values', () => {
    const stepped = windowFeatures(readings(), { group: 'machine', order: 'cycle', window: 2, stats: ['last'], step: 2, keep: ['cycle'] });
    expect(numericColumn(stepped, 'cycle')).toEqual([2, 4, 6, 2, 4, 6]);
    const holey = tableFromColumns([
      { name: 't', kind: 'float64', values: [1, 2, 3] },
      { name: 'x', kind: 'float64', values: [1, null, 3] },
    ]);
    expect(() => windowFeatures(holey, { order: 't', window: 2, stats: ['mean'], step: 1, keep: [] })).toThrow(/missing value/);
  });
});
