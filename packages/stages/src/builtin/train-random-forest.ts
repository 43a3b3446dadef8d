import { z } from 'zod';
import { StageError } from '@pipewright/core';
import type { ArtifactRef } from '@pipewright/core';
import type { ArtifactStore } from '@pipewright/artifacts';
import { defineStage } from '../define-stage.ts';
import type { StageContext, StageResult } from '../define-stage.ts';
import { readArtifactBytes } from '../read-artifact.ts';
import { readTable } from '../table-io.ts';
import { classWeightParam, classWeightsFor } from './class-weights.ts';
import { metadataOf, prepareSupervisedData } from './dense-network.ts';
import type { ModelMetadata } from './model-metadata.ts';
import { parseModelMetadata } from './model-metadata.ts';
import { fitRandomForest } from './random-forest.ts';
import type { RandomForestOptions, SerializedForest } from './random-forest.ts';

/** Media type of a random-forest model artifact (type `model`): JSON, see RandomForestArtifact. */
export const RANDOM_FOREST_MEDIA_TYPE = 'application/vnd.pipewright.random-forest+json';

/** The content of a random-forest model artifact. */
export interface RandomForestArtifact {
  pipewright: ModelMetadata;
  params: Record<string, unknown>;
  forest: SerializedForest;
}

const commonParams = {
  nEstimators: z.number().int().min(1).max(2_000).default(100),
  /** Deepest a tree may grow (root = 0). */
  maxDepth: z.number().int().min(1).max(64).default(16),
  minSamplesSplit: z.number().int().min(2).default(2),
  minSamplesLeaf: z.number().int().min(1).default(1),
  /** Most thresholds per feature, at training-set quantiles (exact midpoints when fewer distinct values). */
  maxBins: z.number().int().min(2).max(256).default(255),
  bootstrap: z.boolean().default(true),
  seed: z.number().int().default(42),
};
const maxFeatures = z.union([z.enum(['sqrt', 'log2', 'all']), z.number().gt(0).max(1)]);

const classifierParams = z.strictObject({
  ...commonParams,
  /** Features tried per split: sqrt, log2, all, or a fraction. */
  maxFeatures: maxFeatures.default('sqrt'),
  /** `balanced` or a weight per label; weighs the split criterion and leaf distributions. */
  classWeight: classWeightParam.optional(),
});
const regressorParams = z.strictObject({
  ...commonParams,
  maxFeatures: maxFeatures.default('all'),
});

export const trainRandomForestStage = defineStage({
  type: 'train.random_forest@1',
  description:
    'A random-forest classifier, the tabular baseline: bootstrap samples, sqrt(features) tried per ' +
    'split, histogram CART trees on the gini criterion, class probabilities averaged over trees. ' +
    'Seeded and reproducible; no TensorFlow.js. The model artifact is JSON (media type ' +
    `${RANDOM_FOREST_MEDIA_TYPE}) that evaluate.classification reads like any other model.`,
  inputs: { train: 'table' },
  outputs: { model: 'model' },
  params: classifierParams,
  defaultTimeoutMs: 60 * 60_000,
  run: (ctx) => fitForest(ctx, 'classification'),
});

export const trainRandomForestRegressorStage = defineStage({
  type: 'train.random_forest_regressor@1',
  description:
    'A random-forest regressor: bootstrap samples, histogram CART trees on squared error, the mean ' +
    'over trees. Seeded and reproducible; the model artifact is JSON that evaluate.regression reads.',
  inputs: { train: 'table' },
  outputs: { model: 'model' },
  params: regressorParams,
  defaultTimeoutMs: 60 * 60_000,
  run: (ctx) => fitForest(ctx, 'regression'),
});

async function fitForest(
  ctx: StageContext<z.output<typeof classifierParams> | z.output<typeof regressorParams>>,
  kind: 'classification' | 'regression',
): Promise<StageResult> {
  const trainRef = ctx.inputs.train!;
  const table = await readTable(ctx.store, trainRef);
  const data = prepareSupervisedData(table, trainRef, kind, ctx.logger);
  const params = ctx.params;
  const classWeight = 'classWeight' in params ? params.classWeight : undefined;
  const options: RandomForestOptions = {
    task: kind,
    nEstimators: params.nEstimators,
    maxDepth: params.maxDepth,
    minSamplesSplit: params.minSamplesSplit,
    minSamplesLeaf: params.minSamplesLeaf,
    maxFeatures: params.maxFeatures,
    maxBins: params.maxBins,
    bootstrap: params.bootstrap,
    seed: params.seed,
    ...(kind === 'classification'
      ? { classCount: data.classes.length, classWeights: classWeightsFor(classWeight, data.labels, data.classes) }
      : {}),
  };
  const started = performance.now();
  const forest = fitRandomForest(data.x, data.rows, data.features.length, kind === 'classification' ? data.classIndex : data.values, options, ctx.signal);
  const seconds = (performance.now() - started) / 1000;
  const meta = metadataOf(data);
  const artifact: RandomForestArtifact = { pipewright: meta, params: { ...params }, forest };
  const nodes = forest.trees.reduce((sum, tree) => sum + tree.feature.length, 0);
  const modelRef = await writeForest(ctx.store, artifact, { ...meta, trainedOn: trainRef.digest, trees: forest.trees.length, nodes });
  ctx.logger.info('trained random forest', { task: meta.task, rows: data.rows, trees: forest.trees.length, nodes, seconds });
  return { outputs: { model: modelRef }, metrics: { trees: forest.trees.length, nodes, train_seconds: seconds } };
}

async function writeForest(store: ArtifactStore, artifact: RandomForestArtifact, metadata: Record<string, unknown>): Promise<ArtifactRef> {
  const stored = await store.put(new TextEncoder().encode(JSON.stringify(artifact)));
  return { ...stored, type: 'model', mediaType: RANDOM_FOREST_MEDIA_TYPE, metadata: { ...metadata, format: 'random-forest' } };
}

/** Reads a model artifact written by train.random_forest*. */
export async function readForest(store: ArtifactStore, ref: ArtifactRef): Promise<{ meta: ModelMetadata; forest: SerializedForest }> {
  let artifact: RandomForestArtifact;
  try {
    artifact = JSON.parse(new TextDecoder().decode(await readArtifactBytes(store, ref))) as RandomForestArtifact;
  } catch (error) {
    if (error instanceof SyntaxError) throw StageError.nonRetryable('PW_ERR_BAD_DATA', `random-forest artifact is not JSON: ${ref.uri}`);
    throw error;
  }
  if (artifact?.forest?.format !== 'pipewright.random-forest/1') {
    throw StageError.nonRetryable('PW_ERR_BAD_DATA', `not a pipewright random-forest model: ${ref.uri}`);
  }
  return { meta: parseModelMetadata({ pipewright: artifact.pipewright }, ref.metadata), forest: artifact.forest };
}
