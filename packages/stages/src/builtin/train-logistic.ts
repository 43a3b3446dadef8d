import { z } from 'zod';
import { defineStage } from '../define-stage.ts';
import { classifierParams, denseTrainingParams, fitDenseModel } from './fit-dense-model.ts';

const params = z.strictObject({
  ...denseTrainingParams,
  ...classifierParams,
  learningRate: z.number().positive().default(0.05),
});

export const trainLogisticStage = defineStage({
  type: 'train.logistic@1',
  description:
    'Logistic regression with TensorFlow.js: one sigmoid unit for a binary target, softmax (multinomial) ' +
    'regression for more classes, over every numeric column but the target; zero-initialised, trained ' +
    'with Adam. Optional L2 penalty, class weights (classWeight: balanced) and early stopping. Reports ' +
    'loss and accuracy after every epoch.',
  inputs: { train: 'table' },
  outputs: { model: 'model' },
  params,
  defaultTimeoutMs: 60 * 60_000,
  run(ctx) {
    return fitDenseModel(ctx, {
      ...ctx.params,
      kind: 'classification',
      hidden: [],
      // The loss is convex: zeros are as good a start as any, and need no seed.
      outputInitializer: 'zeros',
    });
  },
});
