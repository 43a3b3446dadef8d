import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJson } from '../json-io.ts';
import { StageTestEnvironment } from '../testing/stage-test-environment.ts';
import { numericColumn, readTable, tableFromColumns, tableTarget, writeTable } from '../table-io.ts';
import { loadSklearnFixture } from './fixtures/sklearn-fixture.ts';
import { preprocessEncodeStage } from './preprocess-encode.ts';
import type { CategoryEncoder } from './preprocess-encode.ts';

interface Part {
  color: (string | null)[];
  size: string[];
  grade: number[];
}
interface Fixture {
  encode: {
    columns: string[];
    train: Part;
    test: Part;
    categories: (string | number | null)[][];
    onehot: { featureNames: string[]; train: number[][]; test: number[][] };
    ordinal: { train: (number | null)[][]; test: (number | null)[][] };
  };
}
const { encode } = loadSklearnFixture<Fixture>('sklearn-preprocess');

let env: StageTestEnvironment;
beforeAll(async () => {
  env = await StageTestEnvironment.create();
});
afterAll(async () => {
  await env.dispose();
});

function table(part: Part) {
  return tableFromColumns(
    [
      { name: 'id', kind: 'float64', values: part.size.map((_, i) => i) },
      { name: 'color', kind: 'utf8', values: part.color },
      { name: 'size', kind: 'utf8', values: part.size },
      { name: 'grade', kind: 'float64', values: part.grade },
      { name: 'label', kind: 'utf8', values: part.size.map((_, i) => (i % 2 ? 'yes' : 'no')) },
    ],
    'label',
  );
}

async function run(method: 'onehot' | 'ordinal') {
  const train = await writeTable(env.store, table(encode.train));
  const test = await writeTable(env.store, table(encode.test));
  return env.run(preprocessEncodeStage, { params: { method, columns: ['color', 'size', 'grade'] }, inputs: { train, test } });
}

describe('preprocess.encode@1 against scikit-learn encoders', () => {
  it('one-hot: categories sorted as scikit-learn, missing as its own column, unknown all zeros', async () => {
    const result = await run('onehot');
    const encoder = await readJson<CategoryEncoder>(env.store, result.outputs.encoder!);
    // scikit-learn lists NaN last among the categories; here it is the missingCategory flag.
    expect(encoder.columns.map((c) => [...c.categories, ...(c.missingCategory ? [null] : [])])).toEqual(encode.categories);
    const names = encoder.columns.flatMap((c) => c.outputs);
    // Names as get_feature_names_out, except numbers as JavaScript prints them (grade_1, not grade_1.0).
    expect(names).toEqual(encode.onehot.featureNames.map((n) => n.replace(/_(\d+)\.0$/, '_$1')));
    for (const [part, ref] of [
      ['train', result.outputs.train!],
      ['test', result.outputs.test!],
    ] as const) {
      const out = await readTable(env.store, ref);
      // The encoded columns replace the source columns where they stood.
      expect(out.schema.names).toEqual(['id', ...names, 'label']);
      expect(String(out.getChild(names[0]!)!.type)).toBe('Float32');
      const matrix = encode.onehot[part];
      names.forEach((name, j) => expect(numericColumn(out, name), `${part} ${name}`).toEqual(matrix.map((row) => row[j])));
      expect(tableTarget(out)).toBe('label');
    }
    expect(result.metrics).toMatchObject({ unknown_test: 3 });
  });

  it('ordinal: sorted codes, unknown -1, missing stays missing', async () => {
    const result = await run('ordinal');
    for (const [part, ref] of [
      ['train', result.outputs.train!],
      ['test', result.outputs.test!],
    ] as const) {
      const out = await readTable(env.store, ref);
      expect(out.schema.names).toEqual(['id', 'color', 'size', 'grade', 'label']);
      encode.columns.forEach((name, j) => expect(numericColumn(out, name), `${part} ${name}`).toEqual(encode.ordinal[part].map((row) => row[j])));
    }
  });

  it('encodes text columns by default, refuses the target and too many categories', async () => {
    const train = await writeTable(env.store, table(encode.train));
    const inputs = { train, test: train };
    const result = await env.run(preprocessEncodeStage, { inputs });
    const encoder = await readJson<CategoryEncoder>(env.store, result.outputs.encoder!);
    expect(encoder.columns.map((c) => c.name)).toEqual(['color', 'size']);
    await expect(env.run(preprocessEncodeStage, { params: { columns: ['label'] }, inputs })).rejects.toMatchObject({ code: 'PW_ERR_BAD_PARAMS' });
    await expect(env.run(preprocessEncodeStage, { params: { maxCategories: 3 }, inputs })).rejects.toMatchObject({ code: 'PW_ERR_BAD_DATA' });
  });

  it('refuses an encoding whose column names collide with existing ones', async () => {
    const clash = tableFromColumns(
      [
        { name: 'c', kind: 'utf8', values: ['x', 'y'] },
        { name: 'c_x', kind: 'float64', values: [1, 2] },
        { name: 'label', kind: 'float64', values: [0, 1] },
      ],
      'label',
    );
    const ref = await writeTable(env.store, clash);
    await expect(env.run(preprocessEncodeStage, { params: { columns: ['c'] }, inputs: { train: ref, test: ref } })).rejects.toMatchObject({
      code: 'PW_ERR_BAD_DATA',
    });
  });
});
