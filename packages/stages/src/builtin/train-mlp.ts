import { z } from 'zod';
import { defineStage } from '../define-stage.ts';
import { classifierParams, denseTrainingParams, fitDenseModel } from './fit-dense-model.ts';

/** Units of each hidden ReLU layer, input side first. */
export const hiddenLayersParam = z.array(z.number().int().min(1).max(4096)).min(1).max(16).default([16]);

const params = z.strictObject({
  ...denseTrainingParams,
  ...classifierParams,
  hidden: hiddenLayersParam,
  learningRate: z.number().positive().default(0.01),
});

export const trainMlpStage = defineStage({
  type: 'train.mlp@1',
  description:
    'A multi-layer perceptron classifier with TensorFlow.js: ReLU hidden layers (seeded Glorot ' +
    'initialisation) and a sigmoid or softmax output, trained with Adam. Optional early stopping ' +
    '(validation fraction, patience, restore best), class weights (classWeight: balanced or per label) ' +
    'and L2 penalty. Reports loss and accuracy (and val_loss, val_accuracy) after every epoch.',
  inputs: { train: 'table' },
  outputs: { model: 'model' },
  params,
  defaultTimeoutMs: 60 * 60_000,
  run(ctx) {
    return fitDenseModel(ctx, { ...ctx.params, kind: 'classification', outputInitializer: 'glorotUniform' });
  },
});
