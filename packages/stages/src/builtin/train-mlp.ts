import { initializers, layers } from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import { defineStage } from '../define-stage.ts';
import { fitClassifier } from './fit-classifier.ts';

const params = z.strictObject({
  /** Units of each hidden ReLU layer, input side first. */
  hidden: z.array(z.number().int().min(1).max(4096)).min(1).max(16).default([16]),
  epochs: z.number().int().min(1).max(100_000).default(100),
  learningRate: z.number().positive().default(0.01),
  batchSize: z.number().int().min(1).default(32),
  /** L2 penalty on the output layer's weights. */
  l2: z.number().min(0).default(0),
  /** Seeds the weight initialisers and the per-epoch shuffle. */
  seed: z.number().int().default(42),
});

export const trainMlpStage = defineStage({
  type: 'train.mlp@1',
  description:
    'A multi-layer perceptron classifier with TensorFlow.js: ReLU hidden layers (seeded Glorot ' +
    'initialisation) and a sigmoid or softmax output, trained with Adam. Reports loss and accuracy ' +
    'after every epoch.',
  inputs: { train: 'table' },
  outputs: { model: 'model' },
  params,
  defaultTimeoutMs: 60 * 60_000,
  run(ctx) {
    const { hidden, seed } = ctx.params;
    return fitClassifier(ctx, {
      ...ctx.params,
      hiddenLayers(model, inputDim) {
        hidden.forEach((units, i) => {
          model.add(
            layers.dense({
              name: `hidden_${i + 1}`,
              units,
              activation: 'relu',
              ...(i === 0 ? { inputShape: [inputDim] } : {}),
              kernelInitializer: initializers.glorotUniform({ seed: seed + i }),
              biasInitializer: 'zeros',
            }),
          );
        });
      },
      outputInitializer: 'glorotUniform',
    });
  },
});
