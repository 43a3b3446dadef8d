import { z } from 'zod';
import { StageError } from '@pipewright/core';
import { defineStage } from '../define-stage.ts';
import { writeJson } from '../json-io.ts';
import { regressionScores } from '../metrics/regression-metrics.ts';
import { denseColumn, readTable } from '../table-io.ts';
import { predictTable } from './predict-table.ts';

const params = z.strictObject({});

/** The `report` output of `evaluate.regression@1`. */
export interface RegressionReport {
  task: 'regression';
  target: string;
  /** mse, rmse, mae, r2, mape (a fraction: 0.1 = 10 %). */
  metrics: Record<string, number>;
  samples: number;
  model: string;
  test: string;
}

export const evaluateRegressionStage = defineStage({
  type: 'evaluate.regression@1',
  description:
    "Scores a regressor (train.linear, train.mlp_regressor, train.random_forest_regressor) on a held-out table, with scikit-learn's " +
    'definitions: MSE, RMSE, MAE, R² and MAPE.',
  inputs: { model: 'model', test: 'table' },
  outputs: { report: 'json' },
  params,
  defaultTimeoutMs: 30 * 60_000,
  async run(ctx) {
    const modelRef = ctx.inputs.model!;
    const testRef = ctx.inputs.test!;
    const test = await readTable(ctx.store, testRef);
    const predictions = await predictTable(ctx.store, modelRef, test);
    if (predictions.backend) ctx.setBackend(predictions.backend);
    const meta = predictions.meta;
    if (meta.task !== 'regression') {
      throw StageError.nonRetryable('PW_ERR_BAD_DATA', `the model is a ${meta.task} classifier; use evaluate.classification@1`);
    }
    const yTrue = denseColumn(test, meta.target, Float64Array);
    const scores = regressionScores(yTrue, predictions.values);
    const metrics = { ...scores };
    const report: RegressionReport = {
      task: 'regression',
      target: meta.target,
      metrics,
      samples: yTrue.length,
      model: modelRef.digest,
      test: testRef.digest,
    };
    const reportRef = await writeJson(ctx.store, report, { task: 'regression', metrics });
    return { outputs: { report: reportRef }, metrics };
  },
});
