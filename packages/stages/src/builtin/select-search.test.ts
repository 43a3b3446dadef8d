import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArtifactRef } from '@pipewright/core';
import { readJson, writeJson } from '../json-io.ts';
import { StageTestEnvironment } from '../testing/stage-test-environment.ts';
import { createIngestCsvStage } from './ingest-csv.ts';
import { preprocessStandardizeStage } from './preprocess-standardize.ts';
import { expandGrid, sampleSpace, trialList } from './search-space.ts';
import type { TrialSpec } from './search-space.ts';
import { selectBestStage } from './select-best.ts';
import { selectGridStage, selectRandomStage } from './select-search.ts';
import type { SearchPlan } from './select-search.ts';
import { selectTrialStage } from './select-trial.ts';
import { splitTrainTestStage } from './split-train-test.ts';
import { summarizeTrials } from './summarize-trials.ts';
import type { SearchSummary, TrialResult } from './summarize-trials.ts';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

describe('search spaces', () => {
  it('expands a grid in ParameterGrid order, the first param varying slowest', () => {
    expect(expandGrid({ hidden: [[8], [16, 8]], learningRate: [0.01, 0.1], l2: [0] }, 10)).toEqual([
      { hidden: [8], learningRate: 0.01, l2: 0 },
      { hidden: [8], learningRate: 0.1, l2: 0 },
      { hidden: [16, 8], learningRate: 0.01, l2: 0 },
      { hidden: [16, 8], learningRate: 0.1, l2: 0 },
    ]);
  });

  it('refuses a grid larger than maxTrials', () => {
    expect(() => expandGrid({ a: [1, 2, 3], b: [1, 2, 3] }, 8)).toThrow(/9 combinations/);
  });

  it('draws random trials reproducibly within their distributions', () => {
    const space = { learningRate: { logUniform: [1e-4, 1e-1] as [number, number] }, units: { int: [4, 8] as [number, number] }, act: ['a', 'b'], l2: { uniform: [0, 0.5] as [number, number] } };
    const a = sampleSpace(space, 50, 7);
    expect(sampleSpace(space, 50, 7)).toEqual(a);
    expect(sampleSpace(space, 50, 8)).not.toEqual(a);
    for (const t of a) {
      expect(t.learningRate).toBeGreaterThanOrEqual(1e-4);
      expect(t.learningRate).toBeLessThan(1e-1);
      expect(Number.isInteger(t.units) && (t.units as number) >= 4 && (t.units as number) <= 8).toBe(true);
      expect(['a', 'b']).toContain(t.act);
      expect(t.l2).toBeGreaterThanOrEqual(0);
      expect(t.l2).toBeLessThan(0.5);
    }
    expect(new Set(a.map((t) => t.units))).toEqual(new Set([4, 5, 6, 7, 8]));
  });

  it('lists trials x folds with stable ids and base params under the trial values', () => {
    const list = trialList([{ l2: 0 }, { l2: 1 }], { epochs: 5, l2: 9 }, 2);
    expect(list.map((t) => t.id)).toEqual(['t0-f0', 't0-f1', 't1-f0', 't1-f1']);
    expect(list[3]).toEqual({ id: 't1-f1', trial: 1, fold: 1, params: { epochs: 5, l2: 1 } });
  });

  it('ranks trials by the mean over folds; lower is better for losses; ties go to the earlier trial', () => {
    const result = (trial: number, fold: number, score: number): TrialResult => ({
      kind: 'trial_result', estimator: 'logistic', trial, fold, params: { l2: trial }, metric: 'log_loss', score,
      metrics: { log_loss: score, accuracy: 1 - score }, trainRows: 10, validationRows: 5,
    });
    const summary = summarizeTrials([result(0, 0, 0.5), result(0, 1, 0.3), result(1, 0, 0.2), result(1, 1, 0.6), result(2, 0, 0.1), result(2, 1, 0.9)]);
    expect(summary.greaterIsBetter).toBe(false);
    expect(summary.trials.map((t) => t.mean)).toEqual([0.4, 0.4, 0.5]);
    expect(summary.trials.map((t) => t.rank)).toEqual([1, 1, 3]);
    expect(summary.best.trial).toBe(0);
    expect(summary.trials[2]!.std).toBeCloseTo(0.4, 12);
    expect(summarizeTrials([result(0, 0, 0.5), result(1, 0, 0.2)], 'accuracy').best.trial).toBe(1);
    expect(() => summarizeTrials([result(0, 0, 0.5), result(0, 0, 0.4)])).toThrow(/twice/);
    expect(() => summarizeTrials([result(0, 0, 0.5), result(0, 1, 0.4), result(1, 0, 0.2)])).toThrow(/no result for fold 1/);
  });
});

describe('select.grid@1 on the breast-cancer data', () => {
  let env: StageTestEnvironment;
  let train: ArtifactRef;
  beforeAll(async () => {
    env = await StageTestEnvironment.create();
    const ingest = await env.run(createIngestCsvStage({ baseDir: repoRoot }), { params: { path: 'examples/data/breast_cancer.csv', target: 'target' } });
    const split = await env.run(splitTrainTestStage, { params: { testSize: 0.3, seed: 42 }, inputs: { data: ingest.outputs.data! } });
    const scaled = await env.run(preprocessStandardizeStage, { inputs: { train: split.outputs.train!, test: split.outputs.test! } });
    train = scaled.outputs.train!;
  });
  afterAll(async () => {
    await env?.dispose();
  });

  const params = {
    estimator: 'logistic',
    base: { epochs: 8, batchSize: 32 },
    space: { learningRate: [0.0003, 0.05], l2: [0, 0.01] },
    metric: 'roc_auc',
    folds: 3,
    seed: 1,
  };

  it('plans trials x folds without training unless inline', async () => {
    const run = await env.run(selectGridStage, { params, inputs: { train } });
    expect(run.metrics).toEqual({ trials: 4, folds: 3, runs: 12 });
    const trials = await readJson<TrialSpec[]>(env.store, run.outputs.trials!);
    expect(trials).toHaveLength(12);
    expect(run.outputs.trials!.metadata?.items).toEqual(trials); // what foreach fans out over
    expect(trials[5]).toEqual({ id: 't1-f2', trial: 1, fold: 2, params: { epochs: 8, batchSize: 32, learningRate: 0.0003, l2: 0.01 } });
    expect(await readJson<SearchPlan>(env.store, run.outputs.search!)).toEqual({ kind: 'search_plan', estimator: 'logistic', metric: 'roc_auc', folds: 3, trials: 4 });
    expect(run.reported).toEqual([]);
  });

  it('runs every trial inline and picks a sensible best; fanned-out trials joined by select.best agree', async () => {
    const inline = await env.run(selectGridStage, { params: { ...params, inline: true }, inputs: { train } });
    const summary = await readJson<SearchSummary & { results: TrialResult[] }>(env.store, inline.outputs.search!);
    expect(summary.trials).toHaveLength(4);
    expect(summary.results).toHaveLength(12);
    // A learning rate of 3e-4 for 8 epochs barely moves from zero weights; 0.05 converges.
    expect(summary.best.params.learningRate).toBe(0.05);
    expect(summary.best.mean).toBeGreaterThan(0.98);
    expect(inline.metrics).toMatchObject({ best_score: summary.best.mean, best_learningRate: 0.05, trials: 4, folds: 3 });
    expect(inline.reported.map((p) => p.name)).toEqual(['cv_roc_auc', 'cv_roc_auc', 'cv_roc_auc', 'cv_roc_auc']);
    expect(inline.backend).toMatch(/^(tensorflow-gpu|tensorflow|wasm|cpu)$/);

    // What run-time fan-out will do: one select.trial per entry of `trials`, then select.best.
    const trials = await readJson<TrialSpec[]>(env.store, inline.outputs.trials!);
    const results: ArtifactRef[] = [];
    for (const spec of trials) {
      const run = await env.run(selectTrialStage, {
        params: { estimator: 'logistic', metric: 'roc_auc', trial: spec.trial, fold: spec.fold, params: spec.params },
        inputs: { train, folds: inline.outputs.folds! },
      });
      results.push(run.outputs.result!);
    }
    const best = await env.run(selectBestStage, { inputLists: { result: results } });
    const fanned = await readJson<SearchSummary>(env.store, best.outputs.search!);
    expect(fanned.trials).toEqual(summary.trials);
    expect(fanned.best).toEqual(summary.best);

    // One artifact may also hold a list of results.
    const joined = await writeJson(env.store, await Promise.all(results.map((r) => readJson(env.store, r))));
    const byAccuracy = await env.run(selectBestStage, { params: { metric: 'accuracy' }, inputLists: { result: [joined] } });
    expect(byAccuracy.metrics!.best_score).toBeGreaterThan(0.9);
  });

  it('select.random draws its trials and runs them inline with a random forest', async () => {
    const run = await env.run(selectRandomStage, {
      params: { estimator: 'random_forest', base: { nEstimators: 15 }, space: { maxDepth: { int: [2, 8] }, maxFeatures: ['sqrt', 0.5] }, trials: 3, folds: 3, inline: true },
      inputs: { train },
    });
    expect(run.metrics!.trials).toBe(3);
    expect(run.metrics!.best_score).toBeGreaterThan(0.9);
  });

  it('refuses an invalid trial param before training anything, and a metric of the wrong task', async () => {
    await expect(env.run(selectGridStage, { params: { ...params, space: { learningRat: [0.1] }, inline: true }, inputs: { train } })).rejects.toMatchObject({
      code: 'PW_ERR_BAD_PARAMS',
    });
    await expect(env.run(selectGridStage, { params: { ...params, metric: 'r2' }, inputs: { train } })).rejects.toMatchObject({ code: 'PW_ERR_BAD_PARAMS' });
  });

  it('select.trial refuses folds of another table and a fold that does not exist', async () => {
    const folds = await writeJson(env.store, { kind: 'kfold', k: 2, rows: 10, folds: [] });
    await expect(env.run(selectTrialStage, { params: { estimator: 'logistic', fold: 0 }, inputs: { train, folds } })).rejects.toMatchObject({ code: 'PW_ERR_BAD_DATA' });
    const planned = await env.run(selectGridStage, { params, inputs: { train } });
    await expect(
      env.run(selectTrialStage, { params: { estimator: 'logistic', fold: 3 }, inputs: { train, folds: planned.outputs.folds! } }),
    ).rejects.toMatchObject({ code: 'PW_ERR_BAD_PARAMS' });
  });
});
