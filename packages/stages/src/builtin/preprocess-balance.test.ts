import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJson } from '../json-io.ts';
import { StageTestEnvironment } from '../testing/stage-test-environment.ts';
import { labelColumn, numericColumn, readTable, tableFromColumns, tableTarget, writeTable } from '../table-io.ts';
import { expectAllClose, loadSklearnFixture } from './fixtures/sklearn-fixture.ts';
import { balancedClassWeights, preprocessBalanceStage } from './preprocess-balance.ts';
import type { ClassWeights } from './preprocess-balance.ts';

interface Fixture {
  balance: { labels: string[]; classes: string[]; weights: number[]; wine: { labels: number[]; weights: number[] } };
}
const { balance } = loadSklearnFixture<Fixture>('sklearn-preprocess');

let env: StageTestEnvironment;
beforeAll(async () => {
  env = await StageTestEnvironment.create();
});
afterAll(async () => {
  await env.dispose();
});

function table(labels: string[]) {
  return tableFromColumns(
    [
      { name: 'x', kind: 'float64', values: labels.map((_, i) => i) },
      { name: 'note', kind: 'utf8', values: labels.map((l, i) => (i % 4 === 0 ? null : `${l}${i}`)) },
      { name: 'label', kind: 'utf8', values: labels },
    ],
    'label',
  );
}

describe('preprocess.balance@1', () => {
  it('computes class weights as compute_class_weight("balanced")', () => {
    const fitted = balancedClassWeights(balance.labels);
    expect(fitted.classes).toEqual(balance.classes);
    expectAllClose(fitted.weights, balance.weights, 1e-12);
    expectAllClose(balancedClassWeights(balance.wine.labels).weights, balance.wine.weights, 1e-12);
  });

  it('oversamples the smaller classes of train only, reproducibly, keeping whole rows', async () => {
    const train = await writeTable(env.store, table(balance.labels));
    const test = await writeTable(env.store, table(['a', 'b']));
    const run = await env.run(preprocessBalanceStage, { params: { seed: 3 }, inputs: { train, test } });
    expect(run.outputs.test).toEqual(test);
    const weights = await readJson<ClassWeights>(env.store, run.outputs.weights!);
    expect(weights).toMatchObject({ kind: 'class_weights', classes: ['a', 'b', 'c'], counts: [25, 9, 3], countsAfter: [25, 25, 25] });
    expectAllClose(weights.weights, balance.weights, 1e-12);
    expect(weights.byClass['c']).toBeCloseTo(balance.weights[2]!, 12);

    const out = await readTable(env.store, run.outputs.train!);
    expect(tableTarget(out)).toBe('label');
    expect(out.numRows).toBe(75);
    const x = numericColumn(out, 'x') as number[];
    const labels = labelColumn(out, 'label');
    const notes = out.getChild('note')!.toArray() as (string | null)[];
    // The original rows first, unchanged; every added row is a copy of an original row of its class.
    expect(x.slice(0, 37)).toEqual(balance.labels.map((_, i) => i));
    for (let r = 37; r < 75; r++) {
      const source = x[r]!;
      expect(labels[r]).toBe(balance.labels[source]);
      expect(notes[r]).toBe(source % 4 === 0 ? null : `${balance.labels[source]}${source}`);
      expect(labels[r]).not.toBe('a');
    }
    const again = await env.run(preprocessBalanceStage, { params: { seed: 3 }, inputs: { train, test } });
    expect(again.outputs.train!.digest).toBe(run.outputs.train!.digest);
    const other = await env.run(preprocessBalanceStage, { params: { seed: 4 }, inputs: { train, test } });
    expect(other.outputs.train!.digest).not.toBe(run.outputs.train!.digest);
  });

  it('oversamples to a ratio of the largest class, or not at all', async () => {
    const train = await writeTable(env.store, table(balance.labels));
    const half = await env.run(preprocessBalanceStage, { params: { ratio: 0.5 }, inputs: { train, test: train } });
    const weights = await readJson<ClassWeights>(env.store, half.outputs.weights!);
    expect(weights.countsAfter).toEqual([25, 12, 12]);
    const none = await env.run(preprocessBalanceStage, { params: { oversample: false }, inputs: { train, test: train } });
    expect(none.outputs.train).toEqual(train);
    expect(none.metrics).toEqual({ rows_before: 37, rows_after: 37 });
  });
});
