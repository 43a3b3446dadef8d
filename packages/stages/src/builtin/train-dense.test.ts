import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArtifactRef } from '@pipewright/core';
import { readJson, writeJson } from '../json-io.ts';
import { mulberry32 } from '../seeded-random.ts';
import { StageTestEnvironment } from '../testing/stage-test-environment.ts';
import { tableFromColumns, writeTable } from '../table-io.ts';
import { loadModel } from '../tf-artifact-io.ts';
import { balancedClassWeights } from './class-weights.ts';
import { evaluateClassificationStage } from './evaluate-classification.ts';
import type { ClassificationReport } from './evaluate-classification.ts';
import { evaluateRegressionStage } from './evaluate-regression.ts';
import type { RegressionReport } from './evaluate-regression.ts';
import { trainLinearStage } from './train-linear.ts';
import { trainLogisticStage } from './train-logistic.ts';
import { trainMlpRegressorStage } from './train-mlp-regressor.ts';
import { trainMlpStage } from './train-mlp.ts';

let env: StageTestEnvironment;
beforeAll(async () => {
  env = await StageTestEnvironment.create();
});
afterAll(async () => {
  await env.dispose();
});

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** y = 3 x1 - 2 x2 + 0.5 x3 + 100 + noise: a target far from unit scale. */
async function linearData(rows: number, seed: number, noise = 0.1): Promise<ArtifactRef> {
  const random = mulberry32(seed);
  const cols = { x1: [] as number[], x2: [] as number[], x3: [] as number[], y: [] as number[] };
  for (let i = 0; i < rows; i++) {
    const [a, b, c] = [gaussian(random), gaussian(random), gaussian(random)];
    cols.x1.push(a);
    cols.x2.push(b);
    cols.x3.push(c);
    cols.y.push(3 * a - 2 * b + 0.5 * c + 100 + noise * gaussian(random));
  }
  return writeTable(
    env.store,
    tableFromColumns(
      Object.entries(cols).map(([name, values]) => ({ name, kind: 'float64' as const, values })),
      'y',
    ),
  );
}

/** y = sin(2 x1) + x2^2: needs hidden units. */
async function curvedData(rows: number, seed: number): Promise<ArtifactRef> {
  const random = mulberry32(seed);
  const x1: number[] = [];
  const x2: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < rows; i++) {
    const a = random() * 4 - 2;
    const b = random() * 2 - 1;
    x1.push(a);
    x2.push(b);
    y.push(Math.sin(2 * a) + b * b + 0.05 * gaussian(random));
  }
  return writeTable(
    env.store,
    tableFromColumns(
      [
        { name: 'x1', kind: 'float64', values: x1 },
        { name: 'x2', kind: 'float64', values: x2 },
        { name: 'y', kind: 'float64', values: y },
      ],
      'y',
    ),
  );
}

/** 5% positives, separable only in part: what class weights are for. */
async function imbalanced(rows: number, seed: number): Promise<ArtifactRef> {
  const random = mulberry32(seed);
  const x1: number[] = [];
  const x2: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < rows; i++) {
    const positive = random() < 0.05;
    x1.push(gaussian(random) + (positive ? 1.5 : 0));
    x2.push(gaussian(random) + (positive ? 1.0 : 0));
    y.push(positive ? 1 : 0);
  }
  return writeTable(
    env.store,
    tableFromColumns(
      [
        { name: 'x1', kind: 'float64', values: x1 },
        { name: 'x2', kind: 'float64', values: x2 },
        { name: 'label', kind: 'float64', values: y },
      ],
      'label',
    ),
  );
}

describe('train.linear@1 and evaluate.regression@1', () => {
  it('recovers the coefficients of a linear target far from unit scale', async () => {
    const trained = await env.run(trainLinearStage, { params: { epochs: 40, learningRate: 0.05 }, inputs: { train: await linearData(500, 1) } });
    expect(trained.backend).toMatch(/^(tensorflow-gpu|tensorflow|wasm|cpu)$/);
    expect(trained.reported.filter((p) => p.name === 'mse')).toHaveLength(40);
    expect(trained.outputs.model!.metadata).toMatchObject({ task: 'regression', features: ['x1', 'x2', 'x3'], target: 'y' });

    const model = await loadModel(env.store, trained.outputs.model!);
    const [kernel, bias] = model.getLayer('output').getWeights();
    const w = Array.from(await kernel!.data());
    const b = (await bias!.data())[0]!;
    model.dispose();
    expect(w[0]).toBeCloseTo(3, 1);
    expect(w[1]).toBeCloseTo(-2, 1);
    expect(w[2]).toBeCloseTo(0.5, 1);
    expect(b).toBeCloseTo(100, 0);

    const evaluated = await env.run(evaluateRegressionStage, { inputs: { model: trained.outputs.model!, test: await linearData(200, 2) } });
    const report = await readJson<RegressionReport>(env.store, evaluated.outputs.report!);
    expect(report).toMatchObject({ task: 'regression', target: 'y', samples: 200 });
    expect(Object.keys(report.metrics)).toEqual(['mse', 'rmse', 'mae', 'r2', 'mape']);
    expect(report.metrics.r2).toBeGreaterThan(0.99);
    expect(report.metrics.rmse).toBeCloseTo(Math.sqrt(report.metrics.mse!), 12);
    expect(report.metrics.mape).toBeLessThan(0.01);
  });

  it('is deterministic', async () => {
    const train = await linearData(100, 3);
    const a = await env.run(trainLinearStage, { params: { epochs: 3 }, inputs: { train } });
    const b = await env.run(trainLinearStage, { params: { epochs: 3 }, inputs: { train } });
    expect(b.outputs.model!.digest).toBe(a.outputs.model!.digest);
  });

  it('evaluate.regression refuses a classifier', async () => {
    const train = await imbalanced(100, 4);
    const trained = await env.run(trainLogisticStage, { params: { epochs: 1 }, inputs: { train } });
    await expect(env.run(evaluateRegressionStage, { inputs: { model: trained.outputs.model!, test: train } })).rejects.toMatchObject({
      code: 'PW_ERR_BAD_DATA',
      retryable: false,
    });
  });
});

describe('train.mlp_regressor@1', () => {
  it('fits a curved target a linear model cannot, and stops early on a plateau', async () => {
    const train = await curvedData(800, 5);
    const test = await curvedData(300, 6);
    const mlp = await env.run(trainMlpRegressorStage, {
      params: { hidden: [32, 16], epochs: 300, learningRate: 0.01, earlyStopping: { patience: 8, validationFraction: 0.2 } },
      inputs: { train },
    });
    const linear = await env.run(trainLinearStage, { params: { epochs: 30 }, inputs: { train } });
    const mlpR2 = (await env.run(evaluateRegressionStage, { inputs: { model: mlp.outputs.model!, test } })).metrics!.r2!;
    const linearR2 = (await env.run(evaluateRegressionStage, { inputs: { model: linear.outputs.model!, test } })).metrics!.r2!;
    expect(mlpR2).toBeGreaterThan(0.9);
    expect(linearR2).toBeLessThan(0.5);

    const epochs = mlp.metrics!.epochs!;
    expect(epochs).toBeLessThan(300);
    expect(mlp.metrics!.best_epoch).toBe(epochs - 8);
    expect(mlp.reported.filter((p) => p.name === 'val_mse')).toHaveLength(epochs);
    // The model holds the best epoch's weights, so the metrics are that epoch's.
    const valLoss = mlp.reported.filter((p) => p.name === 'val_loss');
    expect(mlp.metrics!.val_loss).toBe(Math.min(...valLoss.map((p) => p.value)));
  });
});

describe('train.mlp@1 early stopping and class weights', () => {
  it('restores the best epoch, or keeps the last with restoreBest: false', async () => {
    const train = await imbalanced(600, 7);
    const restored = await env.run(trainMlpStage, {
      params: { hidden: [16], epochs: 60, learningRate: 0.05, earlyStopping: { patience: 3, validationFraction: 0.25 } },
      inputs: { train },
    });
    const last = await env.run(trainMlpStage, {
      params: { hidden: [16], epochs: 60, learningRate: 0.05, earlyStopping: { patience: 3, validationFraction: 0.25, restoreBest: false } },
      inputs: { train },
    });
    expect(restored.metrics!.epochs).toBe(last.metrics!.epochs);
    expect(restored.metrics!.best_epoch).toBe(restored.metrics!.epochs! - 3);
    expect(restored.outputs.model!.digest).not.toBe(last.outputs.model!.digest);
    const lastLoss = last.reported.filter((p) => p.name === 'val_loss').at(-1)!.value;
    expect(last.metrics!.val_loss).toBe(lastLoss);
  });

  it('balanced class weights trade precision for recall of the rare class', async () => {
    const train = await imbalanced(2000, 8);
    const test = await imbalanced(2000, 9);
    const params = { hidden: [8], epochs: 15, learningRate: 0.01, seed: 3 };
    const plain = await env.run(trainMlpStage, { params, inputs: { train } });
    const weighted = await env.run(trainMlpStage, { params: { ...params, classWeight: 'balanced' }, inputs: { train } });
    expect(weighted.outputs.model!.metadata?.classWeights).toEqual({ '0': expect.any(Number), '1': expect.any(Number) });
    const score = async (model: ArtifactRef) =>
      readJson<ClassificationReport>(env.store, (await env.run(evaluateClassificationStage, { inputs: { model, test } })).outputs.report!);
    const a = await score(plain.outputs.model!);
    const b = await score(weighted.outputs.model!);
    expect(b.metrics.recall).toBeGreaterThan(a.metrics.recall! + 0.3);
    expect(b.metrics.balanced_accuracy).toBeGreaterThan(a.metrics.balanced_accuracy!);
    // Ranking quality barely depends on the weights.
    expect(Math.abs(b.metrics.roc_auc! - a.metrics.roc_auc!)).toBeLessThan(0.05);
  });

  it('explicit weights per label; an unknown label is refused', async () => {
    const train = await imbalanced(200, 10);
    const run = await env.run(trainLogisticStage, { params: { epochs: 2, classWeight: { '1': 10 } }, inputs: { train } });
    expect(run.outputs.model!.metadata?.classWeights).toEqual({ '0': 1, '1': 10 });
    await expect(env.run(trainLogisticStage, { params: { epochs: 1, classWeight: { '2': 3 } }, inputs: { train } })).rejects.toMatchObject({
      code: 'PW_ERR_BAD_PARAMS',
    });
  });

  it('reads class weights from a weights json input when one is bound', async () => {
    const train = await imbalanced(200, 11);
    const weights = await writeJson(env.store, { classWeights: { '0': 1, '1': 7 } });
    const run = await env.run(trainLogisticStage, { params: { epochs: 1 }, inputs: { train, weights } });
    expect(run.outputs.model!.metadata?.classWeights).toEqual({ '0': 1, '1': 7 });
  });

  it("balanced weights are scikit-learn's n / (k * count)", () => {
    expect(balancedClassWeights([0, 0, 0, 1], [0, 1])).toEqual([4 / 6, 2]);
    expect(balancedClassWeights(['a', 'b', 'c', 'c'], ['a', 'b', 'c'])).toEqual([4 / 3, 4 / 3, 4 / 6]);
  });
});
