import { z } from 'zod';
import { defineStage } from '../define-stage.ts';
import { fitClassifier } from './fit-classifier.ts';

const params = z.strictObject({
  epochs: z.number().int().min(1).max(100_000).default(100),
  learningRate: z.number().positive().default(0.05),
  batchSize: z.number().int().min(1).default(32),
  /** L2 penalty on the weights (not the bias). */
  l2: z.number().min(0).default(0),
  /** Seed of the per-epoch shuffle. */
  seed: z.number().int().default(42),
});

export const trainLogisticStage = defineStage({
  type: 'train.logistic@1',
  description:
    'Logistic regression with TensorFlow.js: one sigmoid unit for a binary target (softmax regression ' +
    'for more classes) over every numeric column but the target, zero-initialised, trained with Adam. ' +
    'Reports loss and accuracy after every epoch.',
  inputs: { train: 'table' },
  outputs: { model: 'model' },
  params,
  defaultTimeoutMs: 60 * 60_000,
  run(ctx) {
    return fitClassifier(ctx, {
      ...ctx.params,
      hiddenLayers: () => {},
      // The loss is convex: zeros are as good a start as any, and need no seed.
      outputInitializer: 'zeros',
    });
  },
});
