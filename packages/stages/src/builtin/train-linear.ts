import { z } from 'zod';
import { defineStage } from '../define-stage.ts';
import { denseTrainingParams, fitDenseModel } from './fit-dense-model.ts';

const params = z.strictObject({
  ...denseTrainingParams,
  learningRate: z.number().positive().default(0.05),
});

export const trainLinearStage = defineStage({
  type: 'train.linear@1',
  description:
    'Linear regression with TensorFlow.js: one linear unit over every numeric column but the (numeric) ' +
    'target, fitted by least squares with Adam on the standardised target (the saved model predicts in ' +
    "the target's unit). l2 > 0 makes it ridge regression. Reports loss and mse after every epoch.",
  inputs: { train: 'table' },
  outputs: { model: 'model' },
  params,
  defaultTimeoutMs: 60 * 60_000,
  run(ctx) {
    return fitDenseModel(ctx, { ...ctx.params, kind: 'regression', hidden: [], outputInitializer: 'zeros' });
  },
});
