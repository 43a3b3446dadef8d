import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJson } from '../json-io.ts';
import { StageTestEnvironment } from '../testing/stage-test-environment.ts';
import { numericColumn, readTable, tableFromColumns, tableTarget, writeTable } from '../table-io.ts';
import type { ColumnInput } from '../table-io.ts';
import { expectAllClose, loadSklearnFixture } from './fixtures/sklearn-fixture.ts';
import { preprocessScaleStage } from './preprocess-scale.ts';
import type { FittedScaler } from './preprocess-scale.ts';

interface Case {
  label: string;
  params: Record<string, unknown>;
  train: Record<string, (number | null)[]>;
  test: Record<string, (number | null)[]>;
  mean?: number[];
  var?: number[];
  scale?: number[];
  min?: number[];
  data_min?: number[];
  data_max?: number[];
  center?: number[];
}
interface Fixture {
  scale: { columns: string[]; train: Record<string, (number | null)[]>; test: Record<string, (number | null)[]>; cases: Case[] };
}
const { scale } = loadSklearnFixture<Fixture>('sklearn-preprocess');

let env: StageTestEnvironment;
beforeAll(async () => {
  env = await StageTestEnvironment.create();
});
afterAll(async () => {
  await env.dispose();
});

function table(part: Record<string, (number | null)[]>) {
  const rows = part[scale.columns[0]!]!.length;
  const columns: ColumnInput[] = [
    { name: 'id', kind: 'utf8', values: Array.from({ length: rows }, (_, i) => `r${i}`) },
    ...scale.columns.map((name): ColumnInput => ({ name, kind: 'float64', values: part[name]! })),
    { name: 'class', kind: 'float64', values: Array.from({ length: rows }, (_, i) => i % 3) },
  ];
  return tableFromColumns(columns, 'class');
}

describe('preprocess.scale@1 against scikit-learn (wine, a constant column, missing values)', () => {
  for (const c of scale.cases) {
    it(`${c.label}: fitted statistics and both tables agree to 1e-9`, async () => {
      const train = await writeTable(env.store, table(scale.train));
      const test = await writeTable(env.store, table(scale.test));
      const run = await env.run(preprocessScaleStage, { params: c.params, inputs: { train, test } });
      const fitted = await readJson<FittedScaler>(env.store, run.outputs.scaler!);
      expect(fitted.columns).toEqual(scale.columns);
      if (fitted.kind === 'standard_scaler') {
        expectAllClose(fitted.mean, c.mean!, 1e-9, 'mean');
        expectAllClose(fitted.variance, c.var!, 1e-9, 'var');
        if (c.scale) expectAllClose(fitted.scale, c.scale, 1e-9, 'scale');
      } else if (fitted.kind === 'minmax_scaler') {
        expectAllClose(fitted.dataMin, c.data_min!, 1e-12, 'data_min');
        expectAllClose(fitted.dataMax, c.data_max!, 1e-12, 'data_max');
        expectAllClose(fitted.scale, c.scale!, 1e-9, 'scale');
        expectAllClose(fitted.min, c.min!, 1e-9, 'min');
      } else {
        expectAllClose(fitted.center, c.center!, 1e-12, 'center');
        expectAllClose(fitted.scale, c.scale!, 1e-9, 'scale');
      }
      for (const [part, ref] of [
        ['train', run.outputs.train!],
        ['test', run.outputs.test!],
      ] as const) {
        const out = await readTable(env.store, ref);
        for (const name of scale.columns) expectAllClose(numericColumn(out, name), c[part][name]!, 1e-9, `${c.label} ${part} ${name}`);
        expect(numericColumn(out, 'class').slice(0, 4)).toEqual([0, 1, 2, 0]);
        expect(out.getChild('id')!.get(1)).toBe('r1');
        expect(tableTarget(out)).toBe('class');
      }
    });
  }

  it('refuses the target, text columns and bad ranges', async () => {
    const train = await writeTable(env.store, table(scale.train));
    const inputs = { train, test: train };
    await expect(env.run(preprocessScaleStage, { params: { columns: ['class'] }, inputs })).rejects.toMatchObject({ code: 'PW_ERR_BAD_PARAMS' });
    await expect(env.run(preprocessScaleStage, { params: { columns: ['id'] }, inputs })).rejects.toMatchObject({ code: 'PW_ERR_BAD_DATA' });
    await expect(env.run(preprocessScaleStage, { params: { method: 'minmax', featureRange: [1, 0] }, inputs })).rejects.toMatchObject({
      code: 'PW_ERR_BAD_PARAMS',
    });
    await expect(env.run(preprocessScaleStage, { params: { columns: ['nope'] }, inputs })).rejects.toMatchObject({ code: 'PW_ERR_BAD_DATA' });
  });
});
