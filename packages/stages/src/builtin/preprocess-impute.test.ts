import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJson } from '../json-io.ts';
import { StageTestEnvironment } from '../testing/stage-test-environment.ts';
import { numericColumn, readTable, tableFromColumns, tableTarget, writeTable } from '../table-io.ts';
import type { ColumnInput } from '../table-io.ts';
import { expectAllClose, expectClose, loadSklearnFixture } from './fixtures/sklearn-fixture.ts';
import { preprocessImputeStage } from './preprocess-impute.ts';
import type { SimpleImputer } from './preprocess-impute.ts';

interface Fixture {
  impute: {
    columns: string[];
    train: Record<string, (number | null)[]>;
    test: Record<string, (number | null)[]>;
    cases: {
      strategy: 'mean' | 'median' | 'most_frequent' | 'constant';
      fillValue: number | null;
      statistics: number[];
      train: Record<string, number[]>;
      test: Record<string, number[]>;
    }[];
    text: { train: (string | null)[]; mostFrequent: string };
  };
}
const { impute } = loadSklearnFixture<Fixture>('sklearn-preprocess');

let env: StageTestEnvironment;
beforeAll(async () => {
  env = await StageTestEnvironment.create();
});
afterAll(async () => {
  await env.dispose();
});

function wineTable(part: Record<string, (number | null)[]>, withTarget = true) {
  const columns: ColumnInput[] = impute.columns.map((name) => ({ name, kind: 'float64', values: part[name]! }));
  const rows = part[impute.columns[0]!]!.length;
  columns.push({ name: 'note', kind: 'utf8', values: Array.from({ length: rows }, (_, i) => (i % 3 === 0 ? null : `n${i}`)) });
  if (withTarget) columns.push({ name: 'y', kind: 'float64', values: Array.from({ length: rows }, (_, i) => (i % 7 === 0 ? null : i % 2)) });
  return tableFromColumns(columns, 'y');
}

describe('preprocess.impute@1 against scikit-learn SimpleImputer (wine, 8% holes)', () => {
  for (const c of impute.cases) {
    it(`${c.strategy}: fill values and both tables agree to 1e-9, fitted on train only`, async () => {
      const train = await writeTable(env.store, wineTable(impute.train));
      const test = await writeTable(env.store, wineTable(impute.test));
      const run = await env.run(preprocessImputeStage, {
        params: { strategy: c.strategy, columns: impute.columns, ...(c.fillValue === null ? {} : { fillValue: c.fillValue }) },
        inputs: { train, test },
      });
      const imputer = await readJson<SimpleImputer & { fittedOn: string }>(env.store, run.outputs.imputer!);
      expect(imputer.fittedOn).toBe(train.digest);
      imputer.columns.forEach((col, j) => expectClose(col.value as number, c.statistics[j]!, 1e-9, `${c.strategy} ${col.name}`));
      for (const [part, ref] of [
        ['train', run.outputs.train!],
        ['test', run.outputs.test!],
      ] as const) {
        const table = await readTable(env.store, ref);
        for (const name of impute.columns) expectAllClose(numericColumn(table, name), c[part][name]!, 1e-9, `${part} ${name}`);
        // Untouched: the text column with its nulls, and the target (even its missing labels).
        expect(table.getChild('note')!.get(0)).toBeNull();
        expect(numericColumn(table, 'y')[0]).toBeNull();
        expect(tableTarget(table)).toBe('y');
      }
    });
  }

  it('imputes every numeric column but the target by default, and text columns with most_frequent', async () => {
    const train = await writeTable(env.store, wineTable(impute.train));
    const run = await env.run(preprocessImputeStage, { inputs: { train, test: train } });
    const imputer = await readJson<SimpleImputer>(env.store, run.outputs.imputer!);
    expect(imputer.columns.map((c) => c.name)).toEqual(impute.columns);
    const cities = tableFromColumns(
      [
        { name: 'city', kind: 'utf8', values: impute.text.train },
        { name: 'y', kind: 'float64', values: impute.text.train.map((_, i) => i % 2) },
      ],
      'y',
    );
    const ref = await writeTable(env.store, cities);
    const textRun = await env.run(preprocessImputeStage, { params: { strategy: 'most_frequent' }, inputs: { train: ref, test: ref } });
    const fitted = await readJson<SimpleImputer>(env.store, textRun.outputs.imputer!);
    // bergen and oslo tie; scikit-learn takes the smaller.
    expect(fitted.columns).toEqual([{ name: 'city', strategy: 'most_frequent', value: impute.text.mostFrequent, missingInTrain: 2 }]);
    const out = await readTable(env.store, textRun.outputs.train!);
    expect(out.getChild('city')!.toArray()).toEqual(impute.text.train.map((v) => v ?? impute.text.mostFrequent));
    expect(textRun.metrics).toMatchObject({ filled_train: 2 });
  });

  it('takes per-column strategies and constants for text', async () => {
    const train = await writeTable(env.store, wineTable(impute.train));
    const run = await env.run(preprocessImputeStage, {
      params: { columns: [impute.columns[0]], perColumn: { [impute.columns[1]!]: { strategy: 'median' }, note: { strategy: 'constant', fillValue: '?' } } },
      inputs: { train, test: train },
    });
    const imputer = await readJson<SimpleImputer>(env.store, run.outputs.imputer!);
    expect(imputer.columns.map((c) => [c.name, c.strategy])).toEqual([
      [impute.columns[0], 'mean'],
      [impute.columns[1], 'median'],
      ['note', 'constant'],
    ]);
    expectClose(imputer.columns[1]!.value as number, impute.cases[1]!.statistics[1]!, 1e-12);
    const out = await readTable(env.store, run.outputs.train!);
    expect(out.getChild('note')!.get(0)).toBe('?');
  });

  it('refuses mean on text, the target, and columns with nothing to fit', async () => {
    const train = await writeTable(env.store, wineTable(impute.train));
    const inputs = { train, test: train };
    await expect(env.run(preprocessImputeStage, { params: { columns: ['note'] }, inputs })).rejects.toMatchObject({ code: 'PW_ERR_BAD_DATA' });
    await expect(env.run(preprocessImputeStage, { params: { columns: ['y'] }, inputs })).rejects.toMatchObject({ code: 'PW_ERR_BAD_PARAMS' });
    const empty = tableFromColumns(
      [
        { name: 'a', kind: 'float64', values: [null, null] },
        { name: 'y', kind: 'float64', values: [0, 1] },
      ],
      'y',
    );
    const ref = await writeTable(env.store, empty);
    await expect(env.run(preprocessImputeStage, { inputs: { train: ref, test: ref } })).rejects.toMatchObject({ code: 'PW_ERR_BAD_DATA' });
    const constant = await env.run(preprocessImputeStage, { params: { strategy: 'constant', fillValue: 7 }, inputs: { train: ref, test: ref } });
    expect(numericColumn(await readTable(env.store, constant.outputs.test!), 'a')).toEqual([7, 7]);
  });
});
