import { z } from 'zod';
import { StageError } from '@pipewright/core';
import { scoreClassification } from '../metrics/classification-report.ts';
import { regressionScores } from '../metrics/regression-metrics.ts';
import { loadTensorflow } from '../tf-backend.ts';
import { classWeightsFor } from './class-weights.ts';
import type { ClassWeightParam } from './class-weights.ts';
import { predictDense, trainDenseNetwork } from './dense-network.ts';
import type { DenseNetworkOptions, EarlyStoppingOptions, SupervisedData } from './dense-network.ts';
import { fitRandomForest, predictRandomForest } from './random-forest.ts';
import { trainLinearStage } from './train-linear.ts';
import { trainLogisticStage } from './train-logistic.ts';
import { trainMlpRegressorStage } from './train-mlp-regressor.ts';
import { trainMlpStage } from './train-mlp.ts';
import { trainRandomForestRegressorStage, trainRandomForestStage } from './train-random-forest.ts';

/** What a search can train: the train.* stages, by short name; their params apply. */
export const ESTIMATORS = {
  logistic: { stage: trainLogisticStage, kind: 'classification' },
  mlp: { stage: trainMlpStage, kind: 'classification' },
  random_forest: { stage: trainRandomForestStage, kind: 'classification' },
  linear: { stage: trainLinearStage, kind: 'regression' },
  mlp_regressor: { stage: trainMlpRegressorStage, kind: 'regression' },
  random_forest_regressor: { stage: trainRandomForestRegressorStage, kind: 'regression' },
} as const;
export type EstimatorName = keyof typeof ESTIMATORS;
export const estimatorParam = z.enum(Object.keys(ESTIMATORS) as [EstimatorName, ...EstimatorName[]]);

/** Metrics a search can rank by, and which way is better. */
export const SEARCH_METRICS = {
  accuracy: 'max',
  balanced_accuracy: 'max',
  precision: 'max',
  recall: 'max',
  f1: 'max',
  precision_macro: 'max',
  recall_macro: 'max',
  f1_macro: 'max',
  precision_weighted: 'max',
  recall_weighted: 'max',
  f1_weighted: 'max',
  roc_auc: 'max',
  pr_auc: 'max',
  log_loss: 'min',
  r2: 'max',
  mse: 'min',
  rmse: 'min',
  mae: 'min',
  mape: 'min',
} as const;
export type SearchMetric = keyof typeof SEARCH_METRICS;
export const searchMetricParam = z.enum(Object.keys(SEARCH_METRICS) as [SearchMetric, ...SearchMetric[]]);
const REGRESSION_METRICS: ReadonlySet<string> = new Set(['r2', 'mse', 'rmse', 'mae', 'mape']);

/** The estimator's params with its stage's defaults, or a non-retryable PW_ERR_BAD_PARAMS. */
export function parseEstimatorParams(estimator: EstimatorName, params: unknown): Record<string, unknown> {
  const parsed = ESTIMATORS[estimator].stage.params.safeParse(params);
  if (!parsed.success) {
    throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', `invalid params for ${estimator}: ${parsed.error.message}`, {
      issues: parsed.error.issues,
    });
  }
  return parsed.data as Record<string, unknown>;
}

/** Refuses a metric that does not fit the estimator's task (r2 of a classifier…). */
export function checkMetric(estimator: EstimatorName, metric: SearchMetric): void {
  const regression = ESTIMATORS[estimator].kind === 'regression';
  if (regression !== REGRESSION_METRICS.has(metric)) {
    throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', `metric ${metric} does not score a ${ESTIMATORS[estimator].kind} estimator (${estimator})`);
  }
}

export interface TrialScore {
  score: number;
  /** Every metric computed on the validation rows (the ranked one among them). */
  metrics: Record<string, number>;
  trainRows: number;
  validationRows: number;
  /** Wall time; kept out of result artifacts so equal trials give equal digests. */
  seconds: number;
  /** Epochs run (TensorFlow.js estimators). */
  epochs?: number;
  backend?: string;
}

/**
 * Trains `estimator` with `params` (already parsed) on `trainRows` of `data` and scores it on
 * `validationRows`, in-process: one trial on one fold. Nothing is saved.
 */
export async function runTrial(
  estimator: EstimatorName,
  params: Record<string, unknown>,
  data: SupervisedData,
  trainRows: readonly number[],
  validationRows: readonly number[],
  metric: SearchMetric,
  signal: AbortSignal,
): Promise<TrialScore> {
  checkMetric(estimator, metric);
  if (validationRows.length === 0) throw StageError.nonRetryable('PW_ERR_BAD_DATA', 'the fold has no validation rows');
  const started = performance.now();
  const cols = data.features.length;
  const xValidation = new Float32Array(validationRows.length * cols);
  validationRows.forEach((row, r) => xValidation.set(data.x.subarray(row * cols, (row + 1) * cols), r * cols));
  const classWeight = params['classWeight'] as ClassWeightParam | undefined;
  const trainLabels = data.task === 'regression' ? [] : trainRows.map((row) => data.labels[row]!);
  const classWeights = data.task === 'regression' ? undefined : classWeightsFor(classWeight, trainLabels, data.classes);

  let predictions: Float64Array;
  let epochs: number | undefined;
  let backend: string | undefined;
  if (estimator === 'random_forest' || estimator === 'random_forest_regressor') {
    const p = params as z.output<typeof trainRandomForestStage.params>;
    const xTrain = new Float64Array(trainRows.length * cols);
    trainRows.forEach((row, r) => xTrain.set(data.x.subarray(row * cols, (row + 1) * cols), r * cols));
    const y = trainRows.map((row) => (data.task === 'regression' ? data.values[row]! : data.classIndex[row]!));
    const forest = fitRandomForest(
      xTrain,
      trainRows.length,
      cols,
      y,
      {
        task: data.task === 'regression' ? 'regression' : 'classification',
        nEstimators: p.nEstimators,
        maxDepth: p.maxDepth,
        minSamplesSplit: p.minSamplesSplit,
        minSamplesLeaf: p.minSamplesLeaf,
        maxFeatures: p.maxFeatures,
        maxBins: p.maxBins,
        bootstrap: p.bootstrap,
        seed: p.seed,
        classCount: data.classes.length,
        classWeights,
      },
      signal,
    );
    predictions = predictRandomForest(forest, xValidation, validationRows.length);
    if (data.task === 'binary') predictions = Float64Array.from({ length: validationRows.length }, (_, i) => predictions[i * 2 + 1]!);
  } else {
    const loaded = await loadTensorflow();
    backend = loaded.backend;
    const p = params as {
      hidden?: number[];
      epochs: number;
      learningRate: number;
      batchSize: number;
      seed: number;
      l2: number;
      earlyStopping?: EarlyStoppingOptions;
    };
    const linear = estimator === 'logistic' || estimator === 'linear';
    const options: DenseNetworkOptions = {
      hidden: linear ? [] : p.hidden ?? [16],
      epochs: p.epochs,
      learningRate: p.learningRate,
      batchSize: p.batchSize,
      seed: p.seed,
      l2: p.l2,
      outputInitializer: linear ? 'zeros' : 'glorotUniform',
      earlyStopping: p.earlyStopping,
      classWeights,
      normalizeTarget: true,
    };
    const trained = await trainDenseNetwork(loaded, data, trainRows, options, { signal });
    try {
      predictions = Float64Array.from(await predictDense(loaded, trained.model, xValidation, validationRows.length, cols));
      epochs = trained.epochsRun;
    } finally {
      trained.model.dispose();
    }
  }

  let metrics: Record<string, number>;
  if (data.task === 'regression') {
    metrics = { ...regressionScores(Float64Array.from(validationRows, (row) => data.values[row]!), predictions) };
  } else {
    const yTrue = validationRows.map((row) => data.labels[row]!);
    metrics = scoreClassification(yTrue, predictions, data.classes).metrics;
  }
  const score = metrics[metric];
  if (score === undefined) {
    throw StageError.nonRetryable('PW_ERR_BAD_DATA', `${metric} is undefined on this fold (a class is missing from its validation rows)`);
  }
  return {
    score,
    metrics,
    trainRows: trainRows.length,
    validationRows: validationRows.length,
    seconds: (performance.now() - started) / 1000,
    ...(epochs === undefined ? {} : { epochs }),
    ...(backend === undefined ? {} : { backend }),
  };
}
