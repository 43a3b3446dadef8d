import type { Tensor } from '@tensorflow/tfjs-core';
import { initializers, layers, regularizers, sequential } from '@tensorflow/tfjs-layers';
import type { LayersModel, Sequential } from '@tensorflow/tfjs-layers';
import { StageError } from '@pipewright/core';
import type { StageContext, StageResult } from '../define-stage.ts';
import { mulberry32, shuffleInPlace } from '../seeded-random.ts';
import { loadTensorflow } from '../tf-backend.ts';
import { saveModel } from '../tf-artifact-io.ts';
import {
  featureMatrix,
  labelColumn,
  nonNumericColumnNames,
  numericColumnNames,
  readTable,
  requireTarget,
  sortedClasses,
} from '../table-io.ts';

/**
 * What a saved classifier knows about its data, stored in model.json's userDefinedMetadata
 * (under `pipewright`) and in the artifact's metadata, so evaluation needs nothing else.
 */
export interface ClassifierMetadata {
  task: 'binary' | 'multiclass';
  /** Input columns, in the order of the model's input vector. */
  features: string[];
  target: string;
  /** Labels in output order: the sigmoid predicts classes[1]; softmax unit k predicts classes[k]. */
  classes: (number | string)[];
}

export interface FitOptions {
  epochs: number;
  learningRate: number;
  batchSize: number;
  seed: number;
  /** Adds the layers between the input and the output layer. */
  hiddenLayers(model: Sequential, inputDim: number): void;
  /** Initializer of the output layer. */
  outputInitializer: 'zeros' | 'glorotUniform';
  l2: number;
}

/**
 * Trains a dense classifier on the `train` input and saves it: a sigmoid unit for two classes,
 * softmax over k classes otherwise, Adam, cross-entropy.
 *
 * Reproducible by construction: named layers (tfjs' auto-names count models per process, which
 * would change model.json), zero or seeded initializers, and a per-epoch shuffle from a seeded
 * mulberry32 instead of tfjs' Math.random one.
 */
export async function fitClassifier(ctx: StageContext<unknown>, options: FitOptions): Promise<StageResult> {
  const { tf, backend } = await loadTensorflow();
  ctx.setBackend(backend);

  const trainRef = ctx.inputs.train!;
  const table = await readTable(ctx.store, trainRef);
  const target = requireTarget(table, trainRef);
  const features = numericColumnNames(table, [target]);
  const ignored = nonNumericColumnNames(table).filter((name) => name !== target);
  if (ignored.length > 0) ctx.logger.warn('ignoring non-numeric columns; encode them to use them', { columns: ignored });
  if (features.length === 0) {
    throw StageError.nonRetryable('PW_ERR_BAD_DATA', 'the train table has no numeric feature columns');
  }
  const labels = labelColumn(table, target);
  const classes = sortedClasses(labels);
  if (classes.length < 2) {
    throw StageError.nonRetryable('PW_ERR_BAD_DATA', `the target ${target} has a single class; nothing to learn`, {
      classes,
    });
  }
  const binary = classes.length === 2;
  const classIndex = new Map(classes.map((c, k) => [c, k]));
  const rows = table.numRows;
  const x = featureMatrix(table, features, Float32Array);
  const y = new Float32Array(binary ? rows : rows * classes.length);
  labels.forEach((label, i) => {
    const k = classIndex.get(label)!;
    if (binary) y[i] = k;
    else y[i * classes.length + k] = 1;
  });
  const metadata: ClassifierMetadata = { task: binary ? 'binary' : 'multiclass', features, target, classes };

  const model = sequential({ name: 'classifier' });
  const optimizer = tf.train.adam(options.learningRate);
  const xs = tf.tensor2d(x.values, [rows, features.length]);
  const ys = tf.tensor2d(y, [rows, binary ? 1 : classes.length]);
  try {
    options.hiddenLayers(model, features.length);
    model.add(
      layers.dense({
        name: 'output',
        units: binary ? 1 : classes.length,
        activation: binary ? 'sigmoid' : 'softmax',
        ...(model.layers.length === 0 ? { inputShape: [features.length] } : {}),
        kernelInitializer:
          options.outputInitializer === 'zeros' ? 'zeros' : initializers.glorotUniform({ seed: options.seed + 1000 }),
        biasInitializer: 'zeros',
        ...(options.l2 > 0 ? { kernelRegularizer: regularizers.l2({ l2: options.l2 }) } : {}),
      }),
    );
    model.compile({ optimizer, loss: binary ? 'binaryCrossentropy' : 'categoricalCrossentropy', metrics: ['accuracy'] });

    const random = mulberry32(options.seed);
    const order = Array.from({ length: rows }, (_, i) => i);
    let last = { loss: Number.NaN, accuracy: Number.NaN };
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      shuffleInPlace(order, random);
      let lossSum = 0;
      let accuracySum = 0;
      for (let start = 0; start < rows; start += options.batchSize) {
        ctx.signal.throwIfAborted();
        const batch = order.slice(start, start + options.batchSize);
        const [xb, yb] = tf.tidy(() => {
          const indices = tf.tensor1d(batch, 'int32');
          return [tf.gather(xs, indices), tf.gather(ys, indices)] as [Tensor, Tensor];
        });
        try {
          const [loss, accuracy] = (await model.trainOnBatch(xb, yb)) as number[];
          // Batch means weighted by batch size: the epoch mean over rows, as Keras reports it.
          lossSum += loss! * batch.length;
          accuracySum += accuracy! * batch.length;
        } finally {
          xb.dispose();
          yb.dispose();
        }
      }
      last = { loss: lossSum / rows, accuracy: accuracySum / rows };
      if (!Number.isFinite(last.loss)) {
        throw StageError.nonRetryable(
          'PW_ERR_BAD_PARAMS',
          `training diverged: loss became ${last.loss} at epoch ${epoch}; lower learningRate or scale the features`,
          { epoch },
        );
      }
      ctx.reportMetrics([
        { name: 'loss', step: epoch, value: last.loss },
        { name: 'accuracy', step: epoch, value: last.accuracy },
      ]);
      ctx.signal.throwIfAborted();
    }

    model.setUserDefinedMetadata({ pipewright: metadata });
    const modelRef = await saveModel(model as LayersModel, ctx.store, { ...metadata, trainedOn: trainRef.digest });
    ctx.logger.info('trained classifier', { backend, epochs: options.epochs, ...last });
    return { outputs: { model: modelRef }, metrics: { loss: last.loss, accuracy: last.accuracy, epochs: options.epochs } };
  } finally {
    xs.dispose();
    ys.dispose();
    optimizer.dispose();
    if (model.built) model.dispose();
  }
}
