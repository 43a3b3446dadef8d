import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJson } from '../json-io.ts';
import { fSurvival, regularizedIncompleteBeta } from '../f-classif.ts';
import { StageTestEnvironment } from '../testing/stage-test-environment.ts';
import { readTable, tableFromColumns, tableTarget, writeTable } from '../table-io.ts';
import type { ColumnInput } from '../table-io.ts';
import { featuresSelectKBestStage, scoreFeatures, topK } from './features-select-k-best.ts';
import type { KBestSelection } from './features-select-k-best.ts';
import { expectAllClose, expectClose, loadSklearnFixture } from './fixtures/sklearn-fixture.ts';

interface Fixture {
  selectKBest: {
    columns: string[];
    train: Record<string, number[]>;
    labels: number[];
    fClassif: { f: number[]; p: number[] };
    selectedK5: string[];
    mutualInfo: { runs: number[][]; mean: number[] };
    continuous: {
      columns: string[];
      train: Record<string, number[]>;
      labels: number[];
      mutualInfo: number[];
      mutualInfoOtherSeed: number[];
      fClassif: { f: number[]; p: number[] };
    };
    ties: { scores: number[]; k2: number[] };
  };
}
const { selectKBest: fx } = loadSklearnFixture<Fixture>('sklearn-preprocess');

let env: StageTestEnvironment;
beforeAll(async () => {
  env = await StageTestEnvironment.create();
});
afterAll(async () => {
  await env.dispose();
});

function table(columns: string[], data: Record<string, number[]>, labels: number[]) {
  return tableFromColumns(
    [
      ...columns.map((name): ColumnInput => ({ name, kind: 'float64', values: data[name]! })),
      { name: 'note', kind: 'utf8', values: labels.map((l) => `class ${l}`) },
      { name: 'target', kind: 'float64', values: labels },
    ],
    'target',
  );
}
const wine = () => table(fx.columns, fx.train, fx.labels);
const gaussian = () => table(fx.continuous.columns, fx.continuous.train, fx.continuous.labels);

describe('features.select_k_best@1', () => {
  it('ANOVA F and p-values agree with f_classif to 1e-9 (wine)', () => {
    const { scores, pValues } = scoreFeatures(wine(), 'target', fx.columns, { score: 'f_classif', neighbors: 3, seed: 0 });
    expectAllClose(scores, fx.fClassif.f, 1e-9, 'F');
    // p-values span 1e-4 to 1e-60: compare relative to each value.
    pValues!.forEach((p, j) => expectClose(p / fx.fClassif.p[j]!, 1, 1e-9, `p ${fx.columns[j]}`));
    const continuous = scoreFeatures(gaussian(), 'target', fx.continuous.columns, { score: 'f_classif', neighbors: 3, seed: 0 });
    expectAllClose(continuous.scores, fx.continuous.fClassif.f, 1e-9, 'F');
    continuous.pValues!.forEach((p, j) => expectClose(p, fx.continuous.fClassif.p[j]!, 1e-9, `p ${j}`));
  });

  it('keeps the k best columns as SelectKBest, fitted on train and applied to test', async () => {
    const train = await writeTable(env.store, wine());
    const testTable = table(fx.columns, Object.fromEntries(fx.columns.map((c) => [c, fx.train[c]!.slice(0, 10)])), fx.labels.slice(0, 10));
    const test = await writeTable(env.store, testTable);
    const run = await env.run(featuresSelectKBestStage, { params: { k: 5 }, inputs: { train, test } });
    const selection = await readJson<KBestSelection>(env.store, run.outputs.selection!);
    expect(selection.selected).toEqual(fx.selectedK5);
    for (const ref of [run.outputs.train!, run.outputs.test!]) {
      const out = await readTable(env.store, ref);
      expect(out.schema.names).toEqual([...fx.selectedK5, 'note', 'target']);
      expect(tableTarget(out)).toBe('target');
    }
    expect(run.metrics).toEqual({ selected: 5, candidates: 13 });
  });

  it('breaks ties as SelectKBest (the later column) and ranks NaN scores last', () => {
    expect(topK(fx.ties.scores, 2)).toEqual(fx.ties.k2);
    expect(topK([Number.NaN, 0, 5], 2)).toEqual([1, 2]);
  });

  it('mutual information matches mutual_info_classif exactly on tie-free data, whatever the seed', () => {
    for (const seed of [0, 1, 99]) {
      const { scores } = scoreFeatures(gaussian(), 'target', fx.continuous.columns, { score: 'mutual_info_classif', neighbors: 3, seed });
      expectAllClose(scores, fx.continuous.mutualInfo, 1e-9, `seed ${seed}`);
    }
    expectAllClose(fx.continuous.mutualInfoOtherSeed, fx.continuous.mutualInfo, 1e-9, 'scikit-learn itself across seeds');
  });

  it('mutual information on wine (many ties) is close to scikit-learn, ranks alike and is reproducible', () => {
    const runs = [0, 1, 2].map((seed) => scoreFeatures(wine(), 'target', fx.columns, { score: 'mutual_info_classif', neighbors: 3, seed }).scores);
    // Ties are broken by a 1e-10 jitter, so individual values wander as scikit-learn's do across random_state.
    const spread = fx.columns.map((_, j) => Math.max(...fx.mutualInfo.runs.map((r) => r[j]!)) - Math.min(...fx.mutualInfo.runs.map((r) => r[j]!)));
    for (const scores of runs) {
      scores.forEach((s, j) => {
        expect(s).toBeGreaterThanOrEqual(0);
        expect(Math.abs(s - fx.mutualInfo.mean[j]!), fx.columns[j]).toBeLessThan(Math.max(0.03, 3 * spread[j]!));
      });
      expect(topK(scores, 3).map((j) => fx.columns[j])).toEqual(topK(fx.mutualInfo.mean, 3).map((j) => fx.columns[j]));
    }
    const again = scoreFeatures(wine(), 'target', fx.columns, { score: 'mutual_info_classif', neighbors: 3, seed: 0 }).scores;
    expect(again).toEqual(runs[0]);
  });

  it('mutual information is ~0 for an independent feature and invariant to scaling', () => {
    const { scores } = scoreFeatures(gaussian(), 'target', fx.continuous.columns, { score: 'mutual_info_classif', neighbors: 3, seed: 0 });
    // The estimator's noise at 300 rows is a few hundredths of a nat (scikit-learn gives the same).
    expect(scores[1]).toBeLessThan(0.1);
    expect(scores[0]).toBeGreaterThan(0.3);
    expect(scores[2]).toBeGreaterThan(5 * scores[1]!);
    const scaled = table(['informative'], { informative: fx.continuous.train['informative']!.map((v) => v * 1000 + 5) }, fx.continuous.labels);
    const rescored = scoreFeatures(scaled, 'target', ['informative'], { score: 'mutual_info_classif', neighbors: 3, seed: 0 }).scores;
    expectClose(rescored[0]!, scores[0]!, 1e-9);
  });

  it('refuses k above the candidates and missing values', async () => {
    const train = await writeTable(env.store, wine());
    await expect(env.run(featuresSelectKBestStage, { params: { k: 14 }, inputs: { train, test: train } })).rejects.toMatchObject({
      code: 'PW_ERR_BAD_PARAMS',
    });
    const holes = tableFromColumns(
      [
        { name: 'a', kind: 'float64', values: [1, null, 3, 4] },
        { name: 'y', kind: 'float64', values: [0, 0, 1, 1] },
      ],
      'y',
    );
    const ref = await writeTable(env.store, holes);
    await expect(env.run(featuresSelectKBestStage, { params: { k: 1 }, inputs: { train: ref, test: ref } })).rejects.toMatchObject({
      code: 'PW_ERR_BAD_DATA',
    });
  });

  it('computes the F survival function accurately', () => {
    // Closed forms: F(2, d2) survival = (1 + 2f/d2)^(-d2/2); I_x(1, 1) = x.
    expectClose(fSurvival(3, 2, 10) / (1 + (2 * 3) / 10) ** -5, 1, 1e-12);
    expectClose(fSurvival(40, 2, 100) / (1 + 80 / 100) ** -50, 1, 1e-12);
    expectClose(regularizedIncompleteBeta(0.3, 1, 1), 0.3, 1e-14);
    expect(fSurvival(0, 3, 10)).toBe(1);
    expect(fSurvival(Number.NaN, 3, 10)).toBeNaN();
  });
});
