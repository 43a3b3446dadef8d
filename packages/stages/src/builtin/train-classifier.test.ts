import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArtifactRef } from '@pipewright/core';
import { readJson } from '../json-io.ts';
import { mulberry32 } from '../seeded-random.ts';
import { StageTestEnvironment } from '../testing/stage-test-environment.ts';
import { tableFromColumns, writeTable } from '../table-io.ts';
import { loadModel } from '../tf-artifact-io.ts';
import { evaluateClassificationStage } from './evaluate-classification.ts';
import type { ClassificationReport } from './evaluate-classification.ts';
import { trainLogisticStage } from './train-logistic.ts';
import { trainMlpStage } from './train-mlp.ts';

let env: StageTestEnvironment;
beforeAll(async () => {
  env = await StageTestEnvironment.create();
});
afterAll(async () => {
  await env.dispose();
});

/** Two noisy features; the class is which side of a line a point lies (or which of 3 sectors). */
async function blobs(rows: number, seed: number, classes: 2 | 3): Promise<ArtifactRef> {
  const random = mulberry32(seed);
  const x1: number[] = [];
  const x2: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < rows; i++) {
    const a = random() * 4 - 2;
    const b = random() * 4 - 2;
    x1.push(a);
    x2.push(b);
    if (classes === 2) y.push(a + b > 0 ? 1 : 0);
    else y.push(a > 0.5 ? 2 : b > 0 ? 1 : 0);
  }
  const table = tableFromColumns(
    [
      { name: 'x1', kind: 'float64', values: x1 },
      { name: 'note', kind: 'utf8', values: x1.map(() => 'ignored') },
      { name: 'x2', kind: 'float64', values: x2 },
      { name: 'y', kind: 'float64', values: y },
    ],
    'y',
  );
  return writeTable(env.store, table);
}

describe('train.logistic@1', () => {
  it('learns a separable problem, reporting loss and accuracy after every epoch', async () => {
    const train = await blobs(200, 1, 2);
    const run = await env.run(trainLogisticStage, { params: { epochs: 30, learningRate: 0.1 }, inputs: { train } });

    expect(run.backend).toMatch(/^(tensorflow-gpu|tensorflow|wasm|cpu)$/);
    expect(run.reported).toHaveLength(60);
    expect(run.reported.slice(0, 2)).toEqual([
      { name: 'loss', step: 1, value: expect.any(Number) },
      { name: 'accuracy', step: 1, value: expect.any(Number) },
    ]);
    expect(run.metrics!.accuracy).toBeGreaterThan(0.95);
    expect(run.metrics!.loss).toBe(run.reported.at(-2)!.value);
    expect(run.outputs.model!.metadata).toMatchObject({ task: 'binary', features: ['x1', 'x2'], target: 'y', classes: [0, 1] });
    expect(run.logs.some((l) => l.level === 'warn' && /non-numeric/.test(l.message))).toBe(true);

    const model = await loadModel(env.store, run.outputs.model!);
    expect(model.layers.map((l) => l.name)).toEqual(['output']);
    model.dispose();
  });

  it('is deterministic: the same data and params give the same model bytes', async () => {
    const train = await blobs(100, 2, 2);
    const a = await env.run(trainLogisticStage, { params: { epochs: 5 }, inputs: { train } });
    const b = await env.run(trainLogisticStage, { params: { epochs: 5 }, inputs: { train } });
    expect(b.outputs.model!.digest).toBe(a.outputs.model!.digest);
    expect(b.reported).toEqual(a.reported);
  });

  it('stops between epochs when the signal aborts', async () => {
    const train = await blobs(100, 3, 2);
    const controller = new AbortController();
    const reported: number[] = [];
    const stage = {
      ...trainLogisticStage,
      run: (ctx: Parameters<typeof trainLogisticStage.run>[0]) =>
        trainLogisticStage.run({
          ...ctx,
          reportMetrics(points) {
            reported.push(points[0]!.step);
            if (points[0]!.step === 2) controller.abort(new Error('canceled by test'));
          },
        }),
    };
    await expect(env.run(stage, { params: { epochs: 50 }, inputs: { train }, signal: controller.signal })).rejects.toThrow(
      'canceled by test',
    );
    expect(reported).toEqual([1, 2]);
  });

  it('fails without retry on a single-class target', async () => {
    const table = tableFromColumns(
      [
        { name: 'x', kind: 'float64', values: [1, 2, 3] },
        { name: 'y', kind: 'float64', values: [1, 1, 1] },
      ],
      'y',
    );
    await expect(
      env.run(trainLogisticStage, { inputs: { train: await writeTable(env.store, table) } }),
    ).rejects.toMatchObject({ code: 'PW_ERR_BAD_DATA', retryable: false });
  });
});

describe('train.mlp@1 and evaluate.classification@1', () => {
  it('trains a softmax MLP on three classes and evaluates it with macro metrics', async () => {
    const train = await blobs(300, 4, 3);
    const test = await blobs(150, 5, 3);
    const trained = await env.run(trainMlpStage, {
      params: { hidden: [8], epochs: 40, learningRate: 0.03, seed: 7 },
      inputs: { train },
    });
    expect(trained.outputs.model!.metadata).toMatchObject({ task: 'multiclass', classes: [0, 1, 2] });
    const model = await loadModel(env.store, trained.outputs.model!);
    expect(model.layers.map((l) => l.name)).toEqual(['hidden_1', 'output']);
    model.dispose();

    const evaluated = await env.run(evaluateClassificationStage, { inputs: { model: trained.outputs.model!, test } });
    const report = await readJson<ClassificationReport>(env.store, evaluated.outputs.report!);
    expect(report.task).toBe('multiclass');
    expect(report.confusionMatrix.labels).toEqual([0, 1, 2]);
    const diagonal = report.confusionMatrix.matrix.reduce((sum, row, i) => sum + row[i]!, 0);
    expect(report.metrics.accuracy).toBeCloseTo(diagonal / 150, 12);
    expect(report.metrics.accuracy).toBeGreaterThan(0.85);
    expect(report.metrics.roc_auc).toBeGreaterThan(0.9);
    expect(Object.keys(evaluated.metrics!)).toEqual(
      expect.arrayContaining(['accuracy', 'balanced_accuracy', 'precision', 'recall', 'f1', 'f1_weighted', 'roc_auc', 'pr_auc', 'log_loss']),
    );
    expect(report.perClass.map((c) => c.label)).toEqual([0, 1, 2]);
    expect(report.perClass.reduce((sum, c) => sum + c.support, 0)).toBe(150);
  });

  it('evaluates a binary model with the positive class 1', async () => {
    const trained = await env.run(trainLogisticStage, { params: { epochs: 20 }, inputs: { train: await blobs(200, 6, 2) } });
    const evaluated = await env.run(evaluateClassificationStage, {
      inputs: { model: trained.outputs.model!, test: await blobs(100, 7, 2) },
    });
    const report = await readJson<ClassificationReport>(env.store, evaluated.outputs.report!);
    expect(report).toMatchObject({ task: 'binary', positiveClass: 1, threshold: 0.5, samples: 100 });
    const [[tn, fp], [fn, tp]] = report.confusionMatrix.matrix as [[number, number], [number, number]];
    expect(report.metrics.precision).toBeCloseTo(tp / (tp + fp), 12);
    expect(report.metrics.recall).toBeCloseTo(tp / (tp + fn), 12);
    expect(report.metrics.accuracy).toBeCloseTo((tp + tn) / 100, 12);
    expect(report.metrics.roc_auc).toBeGreaterThan(0.95);
  });

  it('fails without retry when the test table lacks a feature', async () => {
    const trained = await env.run(trainLogisticStage, { params: { epochs: 1 }, inputs: { train: await blobs(50, 8, 2) } });
    const test = await writeTable(
      env.store,
      tableFromColumns(
        [
          { name: 'x1', kind: 'float64', values: [1] },
          { name: 'y', kind: 'float64', values: [1] },
        ],
        'y',
      ),
    );
    await expect(env.run(evaluateClassificationStage, { inputs: { model: trained.outputs.model!, test } })).rejects.toMatchObject({
      code: 'PW_ERR_BAD_DATA',
      retryable: false,
    });
  });
});
