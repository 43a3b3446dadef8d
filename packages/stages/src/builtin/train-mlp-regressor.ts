import { z } from 'zod';
import { defineStage } from '../define-stage.ts';
import { denseTrainingParams, fitDenseModel } from './fit-dense-model.ts';
import { hiddenLayersParam } from './train-mlp.ts';

const params = z.strictObject({
  ...denseTrainingParams,
  hidden: hiddenLayersParam,
  learningRate: z.number().positive().default(0.01),
});

export const trainMlpRegressorStage = defineStage({
  type: 'train.mlp_regressor@1',
  description:
    'A multi-layer perceptron regressor with TensorFlow.js: ReLU hidden layers (seeded Glorot ' +
    'initialisation) and a linear output, trained with Adam on the squared error of the standardised ' +
    "target (the saved model predicts in the target's unit). Optional early stopping and L2 penalty. " +
    'Reports loss and mse (and val_loss, val_mse) after every epoch.',
  inputs: { train: 'table' },
  outputs: { model: 'model' },
  params,
  defaultTimeoutMs: 60 * 60_000,
  run(ctx) {
    return fitDenseModel(ctx, { ...ctx.params, kind: 'regression', outputInitializer: 'glorotUniform' });
  },
});
