import type { Scalar, Tensor, Variable } from '@tensorflow/tfjs-core';
import { initializers, layers, sequential } from '@tensorflow/tfjs-layers';
import type { LayersModel, Sequential } from '@tensorflow/tfjs-layers';
import type { Table } from 'apache-arrow';
import { z } from 'zod';
import { StageError } from '@pipewright/core';
import type { ArtifactRef } from '@pipewright/core';
import type { StageLogger } from '../define-stage.ts';
import type { Label } from '../metrics/classification-metrics.ts';
import { mulberry32, shuffleInPlace } from '../seeded-random.ts';
import {
  denseColumn,
  featureMatrix,
  labelColumn,
  nonNumericColumnNames,
  numericColumnNames,
  requireTarget,
  sortedClasses,
} from '../table-io.ts';
import type { LoadedTensorflow } from '../tf-backend.ts';
import type { ModelMetadata } from './model-metadata.ts';
import { splitIndices } from './split-train-test.ts';

/**
 * `earlyStopping` param: hold out a seeded (stratified, for classifiers) fraction of the training
 * rows, stop when the validation loss has not improved by more than `minDelta` for `patience`
 * epochs, and keep the weights of the best epoch. Off when absent.
 */
export const earlyStoppingParam = z.strictObject({
  /** Fraction of the training rows held out to watch. */
  validationFraction: z.number().gt(0).lt(1).default(0.1),
  /** Epochs without improvement before stopping. */
  patience: z.number().int().min(1).default(10),
  /** Smallest decrease of the validation loss that counts as an improvement. */
  minDelta: z.number().min(0).default(0),
  /** Save the weights of the epoch with the lowest validation loss rather than the last. */
  restoreBest: z.boolean().default(true),
});
export type EarlyStoppingOptions = z.output<typeof earlyStoppingParam>;

export type DenseTask = 'binary' | 'multiclass' | 'regression';

/** A table turned into what a network trains on. */
export interface SupervisedData {
  task: DenseTask;
  features: string[];
  target: string;
  /** Sorted labels (classifiers); empty for regression. */
  classes: Label[];
  /** Each row's label (classifiers); empty for regression. */
  labels: Label[];
  /** Each row's index into `classes` (classifiers). */
  classIndex: Int32Array;
  /** Each row's target value (regression). */
  values: Float64Array;
  /** Row-major `rows x features.length`. */
  x: Float32Array;
  rows: number;
}

/**
 * Reads the features (every numeric column but the target, in table order) and the target of a
 * training table. Non-numeric columns are ignored with a warning: encode them upstream.
 */
export function prepareSupervisedData(
  table: Table,
  ref: ArtifactRef | undefined,
  kind: 'classification' | 'regression',
  logger?: StageLogger,
): SupervisedData {
  const target = requireTarget(table, ref);
  const features = numericColumnNames(table, [target]);
  const ignored = nonNumericColumnNames(table).filter((name) => name !== target);
  if (ignored.length > 0) logger?.warn('ignoring non-numeric columns; encode them to use them', { columns: ignored });
  if (features.length === 0) {
    throw StageError.nonRetryable('PW_ERR_BAD_DATA', 'the train table has no numeric feature columns');
  }
  const rows = table.numRows;
  const x = featureMatrix(table, features, Float32Array).values;
  if (kind === 'regression') {
    const values = denseColumn(table, target, Float64Array);
    return { task: 'regression', features, target, classes: [], labels: [], classIndex: new Int32Array(0), values, x, rows };
  }
  const labels = labelColumn(table, target);
  const classes = sortedClasses(labels);
  if (classes.length < 2) {
    throw StageError.nonRetryable('PW_ERR_BAD_DATA', `the target ${target} has a single class; nothing to learn`, { classes });
  }
  const index = new Map(classes.map((c, k) => [c, k]));
  const classIndex = Int32Array.from(labels, (label) => index.get(label)!);
  const task = classes.length === 2 ? 'binary' : 'multiclass';
  return { task, features, target, classes, labels, classIndex, values: new Float64Array(0), x, rows };
}

/** The metadata a network trained on `data` is saved with. */
export function metadataOf(data: SupervisedData): ModelMetadata {
  return data.task === 'regression'
    ? { task: 'regression', features: data.features, target: data.target }
    : { task: data.task, features: data.features, target: data.target, classes: data.classes };
}

export interface DenseNetworkOptions {
  /** Units of each hidden ReLU layer; none for linear and logistic regression. */
  hidden: readonly number[];
  epochs: number;
  learningRate: number;
  batchSize: number;
  seed: number;
  /** Keras-style L2 penalty, l2 * sum(w^2), over every kernel (not the biases). */
  l2: number;
  outputInitializer: 'zeros' | 'glorotUniform';
  earlyStopping?: EarlyStoppingOptions | undefined;
  /** Loss weight of each class, in `data.classes` order. */
  classWeights?: readonly number[] | undefined;
  /**
   * Regression: train on the standardised target, then fold mean and scale into the output
   * layer, so the saved model predicts in the target's unit. Adam's step sizes assume
   * unit-scale targets; a target in the hundreds would otherwise take thousands of epochs.
   */
  normalizeTarget?: boolean;
}

export interface TrainHooks {
  signal: AbortSignal;
  /** Called after every epoch with `loss`, `accuracy` or `mse`, and `val_*` when validating. */
  onEpoch?(epoch: number, metrics: Record<string, number>): void;
}

export interface TrainedNetwork {
  model: Sequential;
  epochsRun: number;
  /** The epoch whose weights the model holds. */
  bestEpoch: number;
  /** Metrics of that epoch. */
  metrics: Record<string, number>;
  trainRows: number;
  validationRows: number;
}

const CLIP = 1e-7; // Keras' epsilon: keeps log() finite on saturated outputs.

/**
 * Trains a dense network on `rows` of `data` (all rows by default) with Adam and a custom,
 * seeded training loop: a mulberry32 shuffle per epoch, per-sample weighted losses (class
 * weights), and early stopping on a held-out part of `rows`. Reproducible by construction:
 * named layers, zero or seeded initialisers, no Math.random anywhere.
 *
 * The caller owns the returned model and disposes it.
 */
export async function trainDenseNetwork(
  loaded: LoadedTensorflow,
  data: SupervisedData,
  rows: readonly number[] | undefined,
  options: DenseNetworkOptions,
  hooks: TrainHooks,
): Promise<TrainedNetwork> {
  const { tf } = loaded;
  const all = rows ?? Array.from({ length: data.rows }, (_, i) => i);
  let fitRows: readonly number[] = all;
  let validationRows: readonly number[] = [];
  if (options.earlyStopping) {
    const split = holdOut(data, all, options.earlyStopping.validationFraction, options.seed);
    fitRows = split.fit;
    validationRows = split.validation;
  }
  const regression = data.task === 'regression';
  const outputs = data.task === 'multiclass' ? data.classes.length : 1;
  const cols = data.features.length;

  let mean = 0;
  let scale = 1;
  if (regression && options.normalizeTarget !== false) {
    for (const i of fitRows) mean += data.values[i]!;
    mean /= fitRows.length;
    let variance = 0;
    for (const i of fitRows) variance += (data.values[i]! - mean) ** 2;
    const std = Math.sqrt(variance / fitRows.length);
    scale = std > 0 ? std : 1;
  }

  const model = sequential({ name: regression ? 'regressor' : 'classifier' });
  options.hidden.forEach((units, i) => {
    model.add(
      layers.dense({
        name: `hidden_${i + 1}`,
        units,
        activation: 'relu',
        ...(i === 0 ? { inputShape: [cols] } : {}),
        kernelInitializer: initializers.glorotUniform({ seed: options.seed + i }),
        biasInitializer: 'zeros',
      }),
    );
  });
  model.add(
    layers.dense({
      name: 'output',
      units: outputs,
      activation: regression ? 'linear' : data.task === 'binary' ? 'sigmoid' : 'softmax',
      ...(options.hidden.length === 0 ? { inputShape: [cols] } : {}),
      kernelInitializer: options.outputInitializer === 'zeros' ? 'zeros' : initializers.glorotUniform({ seed: options.seed + 1000 }),
      biasInitializer: 'zeros',
    }),
  );

  const makeTensors = (subset: readonly number[]) => {
    const x = new Float32Array(subset.length * cols);
    const y = new Float32Array(subset.length * outputs);
    subset.forEach((row, r) => {
      x.set(data.x.subarray(row * cols, (row + 1) * cols), r * cols);
      if (regression) y[r] = (data.values[row]! - mean) / scale;
      else if (outputs === 1) y[r] = data.classIndex[row]!;
      else y[r * outputs + data.classIndex[row]!] = 1;
    });
    return { xs: tf.tensor2d(x, [subset.length, cols]), ys: tf.tensor2d(y, [subset.length, outputs]) };
  };

  const fit = makeTensors(fitRows);
  const validation = validationRows.length > 0 ? makeTensors(validationRows) : undefined;
  const weights = options.classWeights
    ? tf.tensor1d(Float32Array.from(fitRows, (row) => options.classWeights![data.classIndex[row]!]!))
    : undefined;
  const optimizer = tf.train.adam(options.learningRate);
  const kernels = () => model.layers.map((layer) => layer.getWeights()[0]!);
  const variables = model.trainableWeights.map((w) => w.read() as Variable);

  /** Per-sample loss, shape [batch]. */
  const perSampleLoss = (pred: Tensor, y: Tensor): Tensor => {
    if (regression) return tf.squeeze(tf.square(tf.sub(pred, y)), [1]);
    const p = tf.clipByValue(pred, CLIP, 1 - CLIP);
    if (outputs === 1) {
      return tf.neg(tf.squeeze(tf.add(tf.mul(y, tf.log(p)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, p)))), [1]));
    }
    return tf.neg(tf.sum(tf.mul(y, tf.log(p)), 1));
  };
  /** Sum over the batch of the monitored metric: correct predictions, or squared error. */
  const metricSum = (pred: Tensor, y: Tensor): Tensor => {
    if (regression) return tf.sum(tf.square(tf.sub(pred, y)));
    if (outputs === 1) return tf.sum(tf.cast(tf.equal(tf.greaterEqual(pred, 0.5), tf.greaterEqual(y, 0.5)), 'float32'));
    return tf.sum(tf.cast(tf.equal(tf.argMax(pred, 1), tf.argMax(y, 1)), 'float32'));
  };
  const metricName = regression ? 'mse' : 'accuracy';
  // The monitored metric in the unit users read: mse of the original target, accuracy as is.
  const metricValue = (sum: number, n: number) => (regression ? (sum / n) * scale * scale : sum / n);

  const evaluate = async (set: { xs: Tensor; ys: Tensor }): Promise<{ loss: number; metric: number }> => {
    const n = set.xs.shape[0]!;
    const chunk = 8192;
    let loss = 0;
    let metric = 0;
    for (let start = 0; start < n; start += chunk) {
      const size = Math.min(chunk, n - start);
      const [l, m] = tf.tidy(() => {
        const xb = tf.slice(set.xs, [start, 0], [size, cols]);
        const yb = tf.slice(set.ys, [start, 0], [size, outputs]);
        const pred = model.predict(xb) as Tensor;
        return [tf.sum(perSampleLoss(pred, yb)), metricSum(pred, yb)];
      });
      loss += (await l!.data())[0]!;
      metric += (await m!.data())[0]!;
      l!.dispose();
      m!.dispose();
    }
    return { loss: loss / n, metric: metricValue(metric, n) };
  };

  const random = mulberry32(options.seed);
  const order = Array.from({ length: fitRows.length }, (_, i) => i);
  let best: { epoch: number; loss: number; weights: Tensor[] | undefined; metrics: Record<string, number> } = {
    epoch: 0,
    loss: Number.POSITIVE_INFINITY,
    weights: undefined,
    metrics: {},
  };
  let epochsRun = 0;
  let lastEpochMetrics: Record<string, number> = {};
  let succeeded = false;
  try {
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      shuffleInPlace(order, random);
      let lossTotal: Tensor = tf.scalar(0);
      let metricTotal: Tensor = tf.scalar(0);
      for (let start = 0; start < order.length; start += options.batchSize) {
        hooks.signal.throwIfAborted();
        const batch = order.slice(start, start + options.batchSize);
        const size = batch.length;
        let batchMetric: Tensor | undefined;
        const [nextLoss, nextMetric] = tf.tidy(() => {
          const indices = tf.tensor1d(batch, 'int32');
          const xb = tf.gather(fit.xs, indices);
          const yb = tf.gather(fit.ys, indices);
          const wb = weights ? tf.gather(weights, indices) : undefined;
          const cost = optimizer.minimize(
            () => {
              const pred = model.apply(xb, { training: true }) as Tensor;
              batchMetric = tf.keep(metricSum(pred, yb));
              const losses = perSampleLoss(pred, yb);
              // Keras' sum_over_batch_size: weights scale each sample's share of a plain mean.
              let loss = wb ? tf.div(tf.sum(tf.mul(losses, wb)), size) : tf.mean(losses);
              if (options.l2 > 0) {
                const penalty = tf.addN(kernels().map((k) => tf.sum(tf.square(k))));
                loss = tf.add(loss, tf.mul(penalty, options.l2));
              }
              return loss as Scalar;
            },
            true,
            variables,
          )!;
          return [tf.add(lossTotal, tf.mul(cost, size)), tf.add(metricTotal, batchMetric!)];
        });
        batchMetric?.dispose();
        lossTotal.dispose();
        metricTotal.dispose();
        lossTotal = nextLoss!;
        metricTotal = nextMetric!;
      }
      const loss = (await lossTotal.data())[0]! / fitRows.length;
      const metric = metricValue((await metricTotal.data())[0]!, fitRows.length);
      lossTotal.dispose();
      metricTotal.dispose();
      if (!Number.isFinite(loss)) {
        throw StageError.nonRetryable(
          'PW_ERR_BAD_PARAMS',
          `training diverged: loss became ${loss} at epoch ${epoch}; lower learningRate or scale the features`,
          { epoch },
        );
      }
      const metrics: Record<string, number> = { loss, [metricName]: metric };
      epochsRun = epoch;
      lastEpochMetrics = metrics;
      if (validation) {
        const scored = await evaluate(validation);
        metrics.val_loss = scored.loss;
        metrics[`val_${metricName}`] = scored.metric;
      }
      hooks.onEpoch?.(epoch, metrics);
      hooks.signal.throwIfAborted();

      if (!options.earlyStopping) continue;
      const monitored = metrics.val_loss ?? loss;
      if (monitored < best.loss - options.earlyStopping.minDelta) {
        best.weights?.forEach((w) => w.dispose());
        best = {
          epoch,
          loss: monitored,
          weights: options.earlyStopping.restoreBest ? model.getWeights().map((w) => w.clone()) : undefined,
          metrics,
        };
      } else if (epoch - best.epoch >= options.earlyStopping.patience) {
        break;
      }
    }
    // Without restoreBest (or early stopping) the model holds the last epoch's weights.
    const kept = best.weights ? { epoch: best.epoch, metrics: best.metrics } : { epoch: epochsRun, metrics: lastEpochMetrics };
    if (best.weights) model.setWeights(best.weights);
    if (regression && (mean !== 0 || scale !== 1)) foldTargetScale(loaded, model, mean, scale);
    succeeded = true;
    return {
      model,
      epochsRun,
      bestEpoch: kept.epoch,
      metrics: kept.metrics,
      trainRows: fitRows.length,
      validationRows: validationRows.length,
    };
  } finally {
    best.weights?.forEach((w) => w.dispose());
    fit.xs.dispose();
    fit.ys.dispose();
    validation?.xs.dispose();
    validation?.ys.dispose();
    weights?.dispose();
    optimizer.dispose();
    if (!succeeded) model.dispose();
  }
}

/** Predictions of `model` for row-major `x`, in batches; probabilities or target values. */
export async function predictDense(
  loaded: LoadedTensorflow,
  model: LayersModel,
  x: Float32Array,
  rows: number,
  cols: number,
): Promise<Float32Array> {
  const { tf } = loaded;
  const outputs = (model.outputs[0]!.shape[1] as number | null) ?? 1;
  const out = new Float32Array(rows * outputs);
  const chunk = 8192;
  for (let start = 0; start < rows; start += chunk) {
    const size = Math.min(chunk, rows - start);
    const input = tf.tensor2d(x.subarray(start * cols, (start + size) * cols), [size, cols]);
    try {
      const output = model.predict(input) as Tensor;
      out.set((await output.data()) as Float32Array, start * outputs);
      output.dispose();
    } finally {
      input.dispose();
    }
  }
  return out;
}

/** Rewrites the linear output layer so it predicts mean + scale * (what it predicted). */
function foldTargetScale(loaded: LoadedTensorflow, model: Sequential, mean: number, scale: number): void {
  const { tf } = loaded;
  const output = model.getLayer('output');
  const [kernel, bias] = output.getWeights() as [Tensor, Tensor];
  const folded = tf.tidy(() => [tf.mul(kernel, scale), tf.add(tf.mul(bias, scale), mean)]);
  output.setWeights(folded);
  folded.forEach((t) => t.dispose());
}

/** A seeded hold-out of `rows`: stratified for classifiers when every class can give a row. */
function holdOut(data: SupervisedData, rows: readonly number[], fraction: number, seed: number): { fit: number[]; validation: number[] } {
  const labels = data.task === 'regression' ? rows.map(() => 0) : rows.map((row) => data.classIndex[row]!);
  let stratify = data.task !== 'regression';
  if (stratify) {
    const counts = new Map<number, number>();
    for (const label of labels) counts.set(label as number, (counts.get(label as number) ?? 0) + 1);
    stratify = [...counts.values()].every((count) => count >= 2) && Math.ceil(fraction * rows.length) >= counts.size;
  }
  const split = splitIndices(labels, { testSize: fraction, stratify, seed: seed + 7919 });
  return { fit: split.train.map((i) => rows[i]!), validation: split.test.map((i) => rows[i]!) };
}
