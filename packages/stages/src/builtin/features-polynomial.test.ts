import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJson } from '../json-io.ts';
import { StageTestEnvironment } from '../testing/stage-test-environment.ts';
import { numericColumn, readTable, tableFromColumns, tableTarget, writeTable } from '../table-io.ts';
import type { ColumnInput } from '../table-io.ts';
import { featuresPolynomialStage } from './features-polynomial.ts';
import type { PolynomialFeatures } from './features-polynomial.ts';
import { expectAllClose, loadSklearnFixture } from './fixtures/sklearn-fixture.ts';

interface Fixture {
  polynomial: {
    columns: string[];
    train: Record<string, number[]>;
    test: Record<string, number[]>;
    cases: {
      params: { degree: number; interactionOnly: boolean; includeBias: boolean };
      featureNames: string[];
      powers: number[][];
      train: number[][];
      test: number[][];
    }[];
  };
}
const { polynomial } = loadSklearnFixture<Fixture>('sklearn-preprocess');

let env: StageTestEnvironment;
beforeAll(async () => {
  env = await StageTestEnvironment.create();
});
afterAll(async () => {
  await env.dispose();
});

function table(part: Record<string, number[]>) {
  const rows = part[polynomial.columns[0]!]!.length;
  const columns: ColumnInput[] = [
    { name: 'batch', kind: 'utf8', values: Array.from({ length: rows }, (_, i) => `b${i}`) },
    ...polynomial.columns.map((name): ColumnInput => ({ name, kind: 'float64', values: part[name]! })),
    { name: 'quality', kind: 'float64', values: Array.from({ length: rows }, (_, i) => i % 2) },
  ];
  return tableFromColumns(columns, 'quality');
}

describe('features.polynomial@1 against scikit-learn PolynomialFeatures (wine)', () => {
  for (const c of polynomial.cases) {
    const label = `degree ${c.params.degree}${c.params.interactionOnly ? ', interaction only' : ''}${c.params.includeBias ? ', bias' : ''}`;
    it(`${label}: names, order, powers and values`, async () => {
      const train = await writeTable(env.store, table(polynomial.train));
      const test = await writeTable(env.store, table(polynomial.test));
      const run = await env.run(featuresPolynomialStage, { params: c.params, inputs: { train, test } });
      const features = await readJson<PolynomialFeatures>(env.store, run.outputs.features!);
      expect(features.outputColumns).toEqual(c.featureNames);
      expect(features.powers).toEqual(c.powers);
      for (const [part, ref] of [
        ['train', run.outputs.train!],
        ['test', run.outputs.test!],
      ] as const) {
        const out = await readTable(env.store, ref);
        expect(out.schema.names).toEqual(['batch', ...c.featureNames, 'quality']);
        expect(tableTarget(out)).toBe('quality');
        c.featureNames.forEach((name, j) =>
          expectAllClose(numericColumn(out, name), c[part].map((row) => row[j]!), 1e-12, `${part} ${name}`),
        );
      }
    });
  }

  it('propagates missing values and refuses oversized expansions', async () => {
    const t = tableFromColumns(
      [
        { name: 'a', kind: 'float64', values: [2, null] },
        { name: 'b', kind: 'float64', values: [3, 4] },
        { name: 'y', kind: 'float64', values: [0, 1] },
      ],
      'y',
    );
    const ref = await writeTable(env.store, t);
    const run = await env.run(featuresPolynomialStage, { inputs: { train: ref, test: ref } });
    const out = await readTable(env.store, run.outputs.train!);
    expect(out.schema.names).toEqual(['a', 'b', 'a^2', 'a b', 'b^2', 'y']);
    expect(numericColumn(out, 'a b')).toEqual([6, null]);
    expect(numericColumn(out, 'b^2')).toEqual([9, 16]);
    await expect(env.run(featuresPolynomialStage, { params: { degree: 3, maxOutputColumns: 5 }, inputs: { train: ref, test: ref } })).rejects.toMatchObject({
      code: 'PW_ERR_BAD_PARAMS',
    });
    expect(featuresPolynomialStage.params.safeParse({ degree: 4 }).success).toBe(false);
  });
});
