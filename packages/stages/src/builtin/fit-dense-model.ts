import type { LayersModel } from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import type { StageContext, StageResult } from '../define-stage.ts';
import { readTable } from '../table-io.ts';
import { loadTensorflow } from '../tf-backend.ts';
import { saveModel } from '../tf-artifact-io.ts';
import { classWeightParam, classWeightsFor, readClassWeights } from './class-weights.ts';
import type { ClassWeightParam } from './class-weights.ts';
import { earlyStoppingParam, metadataOf, prepareSupervisedData, trainDenseNetwork } from './dense-network.ts';
import type { DenseNetworkOptions, EarlyStoppingOptions } from './dense-network.ts';


/** Params every TensorFlow.js trainer takes. */
export const denseTrainingParams = {
  epochs: z.number().int().min(1).max(100_000).default(100),
  batchSize: z.number().int().min(1).default(32),
  /** Keras-style L2 penalty, l2 * sum(w^2), on every kernel (not the biases). */
  l2: z.number().min(0).default(0),
  /** Seeds the weight initialisers, the per-epoch shuffle and the early-stopping hold-out. */
  seed: z.number().int().default(42),
  /** Stop when the held-out loss stops improving; see earlyStoppingParam. @defaultValue off */
  earlyStopping: earlyStoppingParam.optional(),
};

/** Params of the classifiers on top of denseTrainingParams. */
export const classifierParams = {
  /** `balanced`, or a weight per label (`{ "1": 20 }`). @defaultValue every class weighs 1 */
  classWeight: classWeightParam.optional(),
};

export interface FitDenseOptions {
  kind: 'classification' | 'regression';
  hidden: readonly number[];
  epochs: number;
  learningRate: number;
  batchSize: number;
  seed: number;
  l2: number;
  outputInitializer: 'zeros' | 'glorotUniform';
  earlyStopping?: EarlyStoppingOptions | undefined;
  classWeight?: ClassWeightParam | undefined;
}

/**
 * Trains a dense network on the `train` input and saves it with its metadata: the body of every
 * train.* stage built on TensorFlow.js. Records the backend, reports each epoch's metrics and
 * checks the abort signal between batches.
 *
 * Class weights come from the `classWeight` param or, when the engine binds one, a `weights`
 * json input (the param wins).
 */
export async function fitDenseModel(ctx: StageContext<unknown>, options: FitDenseOptions): Promise<StageResult> {
  const loaded = await loadTensorflow();
  ctx.setBackend(loaded.backend);

  const trainRef = ctx.inputs.train!;
  const table = await readTable(ctx.store, trainRef);
  const data = prepareSupervisedData(table, trainRef, options.kind, ctx.logger);
  const weightsRef = ctx.inputs['weights'];
  const classWeight = options.classWeight ?? (weightsRef ? await readClassWeights(ctx.store, weightsRef) : undefined);
  const classWeights = options.kind === 'classification' ? classWeightsFor(classWeight, data.labels, data.classes) : undefined;
  const network: DenseNetworkOptions = { ...options, classWeights, normalizeTarget: true };

  const trained = await trainDenseNetwork(loaded, data, undefined, network, {
    signal: ctx.signal,
    onEpoch: (epoch, metrics) => ctx.reportMetrics(Object.entries(metrics).map(([name, value]) => ({ name, step: epoch, value }))),
  });
  try {
    const metadata = metadataOf(data);
    trained.model.setUserDefinedMetadata({ pipewright: metadata });
    const modelRef = await saveModel(trained.model as LayersModel, ctx.store, {
      ...metadata,
      trainedOn: trainRef.digest,
      ...(classWeights ? { classWeights: Object.fromEntries(data.classes.map((c, k) => [String(c), classWeights[k]!])) } : {}),
    });
    const metrics: Record<string, number> = { ...trained.metrics, epochs: trained.epochsRun };
    if (options.earlyStopping) metrics.best_epoch = trained.bestEpoch;
    ctx.logger.info('trained model', { backend: loaded.backend, task: data.task, rows: data.rows, ...metrics });
    return { outputs: { model: modelRef }, metrics };
  } finally {
    trained.model.dispose();
  }
}
