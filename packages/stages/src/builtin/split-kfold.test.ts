import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJson } from '../json-io.ts';
import { StageTestEnvironment } from '../testing/stage-test-environment.ts';
import { tableFromColumns, writeTable } from '../table-io.ts';
import { loadSklearnFixture } from './fixtures/sklearn-fixture.ts';
import { assignFolds, splitKfoldStage } from './split-kfold.ts';
import type { KFoldSplits } from './split-kfold.ts';

interface Fixture {
  kfold: {
    iris: { labels: number[]; kfold5: number[]; stratified5: number[] };
    imbalanced: { labels: string[]; kfold4: number[]; stratified3: number[] };
  };
}
const { kfold } = loadSklearnFixture<Fixture>('sklearn-preprocess');

let env: StageTestEnvironment;
beforeAll(async () => {
  env = await StageTestEnvironment.create();
});
afterAll(async () => {
  await env.dispose();
});

const noShuffle = { shuffle: false, seed: 0 };

describe('split.kfold@1', () => {
  it('without shuffling, assigns exactly the folds of scikit-learn KFold and StratifiedKFold', () => {
    expect([...assignFolds(kfold.iris.labels, { k: 5, stratify: false, ...noShuffle })]).toEqual(kfold.iris.kfold5);
    expect([...assignFolds(kfold.iris.labels, { k: 5, stratify: true, ...noShuffle })]).toEqual(kfold.iris.stratified5);
    expect([...assignFolds(kfold.imbalanced.labels, { k: 4, stratify: false, ...noShuffle })]).toEqual(kfold.imbalanced.kfold4);
    expect([...assignFolds(kfold.imbalanced.labels, { k: 3, stratify: true, ...noShuffle })]).toEqual(kfold.imbalanced.stratified3);
  });

  it('with shuffling, keeps the per-fold class counts of StratifiedKFold and is reproducible by seed', () => {
    const labels = kfold.imbalanced.labels;
    const counts = (folds: Int32Array) =>
      [0, 1, 2].map((f) => ['a', 'b', 'c'].map((c) => labels.filter((l, i) => l === c && folds[i] === f).length));
    const plain = assignFolds(labels, { k: 3, stratify: true, ...noShuffle });
    const shuffled = assignFolds(labels, { k: 3, stratify: true, shuffle: true, seed: 7 });
    expect(counts(shuffled)).toEqual(counts(plain));
    expect([...shuffled]).not.toEqual([...plain]);
    expect([...assignFolds(labels, { k: 3, stratify: true, shuffle: true, seed: 7 })]).toEqual([...shuffled]);
    expect([...assignFolds(labels, { k: 3, stratify: true, shuffle: true, seed: 8 })]).not.toEqual([...shuffled]);
  });

  it('outputs index lists that partition the rows, and passes the table through', async () => {
    const table = tableFromColumns(
      [
        { name: 'x', kind: 'float64', values: kfold.iris.labels.map((_, i) => i / 10) },
        { name: 'species', kind: 'float64', values: kfold.iris.labels },
      ],
      'species',
    );
    const data = await writeTable(env.store, table);
    const run = await env.run(splitKfoldStage, { params: { k: 5 }, inputs: { data } });
    expect(run.outputs.data).toEqual(data);
    const splits = await readJson<KFoldSplits>(env.store, run.outputs.folds!);
    expect(splits).toMatchObject({ kind: 'kfold', k: 5, stratified: true, shuffle: true, seed: 42, rows: 150, target: 'species' });
    const seen = new Array<number>(150).fill(0);
    splits.folds.forEach((fold, f) => {
      expect(fold.test.length).toBe(30);
      expect(fold.train.length + fold.test.length).toBe(150);
      expect([...fold.test].sort((a, b) => a - b)).toEqual(fold.test);
      expect(new Set([...fold.train, ...fold.test]).size).toBe(150);
      for (const i of fold.test) {
        seen[i]!++;
        expect(splits.testFold[i]).toBe(f);
      }
      // Stratified: 10 of each iris species per test fold.
      expect([0, 1, 2].map((c) => fold.test.filter((i) => kfold.iris.labels[i] === c).length)).toEqual([10, 10, 10]);
    });
    expect(seen.every((n) => n === 1)).toBe(true);
  });

  it('refuses more folds than rows, and stratification no class can fill', async () => {
    expect(() => assignFolds(['a', 'b'], { k: 3, stratify: false, ...noShuffle })).toThrow(/3 folds of 2 rows/);
    expect(() => assignFolds(['a', 'a', 'b', 'b', 'c'], { k: 3, stratify: true, ...noShuffle })).toThrow(/no class has 3 rows/);
  });
});
