import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArtifactRef } from '@pipewright/core';
import { readJson } from '../json-io.ts';
import { mulberry32 } from '../seeded-random.ts';
import { StageTestEnvironment } from '../testing/stage-test-environment.ts';
import { tableFromColumns, writeTable } from '../table-io.ts';
import { evaluateClassificationStage } from './evaluate-classification.ts';
import type { ClassificationReport } from './evaluate-classification.ts';
import { evaluateRegressionStage } from './evaluate-regression.ts';
import { fitRandomForest, predictRandomForest } from './random-forest.ts';
import { splitTrainTestStage } from './split-train-test.ts';
import { RANDOM_FOREST_MEDIA_TYPE, trainRandomForestRegressorStage, trainRandomForestStage } from './train-random-forest.ts';

let env: StageTestEnvironment;
beforeAll(async () => {
  env = await StageTestEnvironment.create();
});
afterAll(async () => {
  await env.dispose();
});

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** scikit-learn's wine data (178 rows, 13 features, 3 classes), straight from Debian's copy. */
async function wine(): Promise<ArtifactRef> {
  const text = await readFile('/usr/lib/python3/dist-packages/sklearn/datasets/data/wine_data.csv', 'utf8').catch(() => undefined);
  const lines = text === undefined ? [] : text.trim().split('\n').slice(1);
  if (lines.length === 0) {
    // Without python3-sklearn, the committed breast-cancer data keeps the test meaningful.
    const csv = (await readFile(`${repoRoot}examples/data/breast_cancer.csv`, 'utf8')).trim().split('\n');
    const names = csv[0]!.split(',');
    const rows = csv.slice(1).map((line) => line.split(',').map(Number));
    return writeTable(env.store, tableFromColumns(names.map((name, j) => ({ name, kind: 'float64' as const, values: rows.map((r) => r[j]!) })), 'target'));
  }
  const rows = lines.map((line) => line.split(',').map(Number));
  const columns = Array.from({ length: 13 }, (_, j) => ({ name: `f${j + 1}`, kind: 'float64' as const, values: rows.map((r) => r[j]!) }));
  return writeTable(env.store, tableFromColumns([...columns, { name: 'cultivar', kind: 'float64', values: rows.map((r) => r[13]!) }], 'cultivar'));
}

describe('train.random_forest@1', () => {
  it('classifies real data held out, through evaluate.classification', async () => {
    const split = await env.run(splitTrainTestStage, { params: { testSize: 0.3, seed: 1 }, inputs: { data: await wine() } });
    const trained = await env.run(trainRandomForestStage, { params: { nEstimators: 60, seed: 5 }, inputs: { train: split.outputs.train! } });
    expect(trained.outputs.model!.mediaType).toBe(RANDOM_FOREST_MEDIA_TYPE);
    expect(trained.metrics!.trees).toBe(60);
    const evaluated = await env.run(evaluateClassificationStage, { inputs: { model: trained.outputs.model!, test: split.outputs.test! } });
    const report = await readJson<ClassificationReport>(env.store, evaluated.outputs.report!);
    expect(report.metrics.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(report.metrics.roc_auc).toBeGreaterThanOrEqual(0.97);
    expect(evaluated.backend).toBeUndefined(); // no TensorFlow.js involved
  });

  it('is deterministic for a seed and differs across seeds', async () => {
    const data = await wine();
    const a = await env.run(trainRandomForestStage, { params: { nEstimators: 10, seed: 1 }, inputs: { train: data } });
    const b = await env.run(trainRandomForestStage, { params: { nEstimators: 10, seed: 1 }, inputs: { train: data } });
    const c = await env.run(trainRandomForestStage, { params: { nEstimators: 10, seed: 2 }, inputs: { train: data } });
    expect(b.outputs.model!.digest).toBe(a.outputs.model!.digest);
    expect(c.outputs.model!.digest).not.toBe(a.outputs.model!.digest);
  });

  it('trains 20,000 rows x 30 features x 100 trees in seconds', async () => {
    const random = mulberry32(9);
    const rows = 20_000;
    const cols = 30;
    const x = new Float64Array(rows * cols);
    const y = new Int32Array(rows);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) x[i * cols + j] = random() * 2 - 1;
      y[i] = x[i * cols]! + x[i * cols + 1]! * x[i * cols + 2]! > 0 ? 1 : 0;
    }
    const started = performance.now();
    const forest = fitRandomForest(x, rows, cols, y, {
      task: 'classification',
      classCount: 2,
      nEstimators: 100,
      maxDepth: 16,
      minSamplesSplit: 2,
      minSamplesLeaf: 1,
      maxFeatures: 'sqrt',
      maxBins: 64,
      bootstrap: true,
      seed: 1,
    });
    const seconds = (performance.now() - started) / 1000;
    expect(seconds).toBeLessThan(30);
    const proba = predictRandomForest(forest, x.subarray(0, 1000 * cols), 1000);
    let correct = 0;
    for (let i = 0; i < 1000; i++) if ((proba[i * 2 + 1]! >= 0.5 ? 1 : 0) === y[i]) correct++;
    expect(correct / 1000).toBeGreaterThan(0.95);
    // x0 carries the most signal; the 27 noise features little.
    expect(forest.featureImportances[0]).toBe(Math.max(...forest.featureImportances));
  });

  it('splits exactly between distinct values when there are few, as scikit-learn does', () => {
    const x = Float64Array.from([0, 1, 2, 3, 10, 11, 12, 13]);
    const y = [0, 0, 0, 0, 1, 1, 1, 1];
    const forest = fitRandomForest(x, 8, 1, y, {
      task: 'classification',
      classCount: 2,
      nEstimators: 1,
      maxDepth: 4,
      minSamplesSplit: 2,
      minSamplesLeaf: 1,
      maxFeatures: 'all',
      maxBins: 64,
      bootstrap: false,
      seed: 1,
    });
    expect(forest.trees[0]!.threshold[0]).toBe(6.5);
    expect(Array.from(predictRandomForest(forest, [6.4, 6.6], 2))).toEqual([1, 0, 0, 1]);
  });
});

describe('train.random_forest_regressor@1', () => {
  it('fits a step function a linear model cannot', async () => {
    const random = mulberry32(3);
    const make = (rows: number) => {
      const x: number[] = [];
      const y: number[] = [];
      for (let i = 0; i < rows; i++) {
        const v = random() * 10;
        x.push(v);
        y.push((v > 5 ? 20 : 0) + (v > 8 ? -5 : 0) + random() * 0.1);
      }
      return writeTable(env.store, tableFromColumns([{ name: 'x', kind: 'float64', values: x }, { name: 'y', kind: 'float64', values: y }], 'y'));
    };
    const trained = await env.run(trainRandomForestRegressorStage, { params: { nEstimators: 30 }, inputs: { train: await make(500) } });
    const evaluated = await env.run(evaluateRegressionStage, { inputs: { model: trained.outputs.model!, test: await make(200) } });
    expect(evaluated.metrics!.r2).toBeGreaterThan(0.98);
  });
});
