import { z } from 'zod';
import { StageError } from '@pipewright/core';
import type { ArtifactRef } from '@pipewright/core';
import { defineStage } from '../define-stage.ts';
import type { StageContext, StageResult } from '../define-stage.ts';
import { writeJson } from '../json-io.ts';
import { readTable } from '../table-io.ts';
import { prepareSupervisedData } from './dense-network.ts';
import type { SupervisedData } from './dense-network.ts';
import { ESTIMATORS, estimatorParam, parseEstimatorParams, runTrial, searchMetricParam, checkMetric } from './run-trial.ts';
import type { EstimatorName, SearchMetric } from './run-trial.ts';
import { expandGrid, gridSpaceParam, randomSpaceParam, sampleSpace, trialList } from './search-space.ts';
import type { TrialParams, TrialSpec } from './search-space.ts';
import { assignFolds } from './split-kfold.ts';
import type { KFoldSplits } from './split-kfold.ts';
import { summarizeTrials, summaryMetrics } from './summarize-trials.ts';
import type { TrialResult } from './summarize-trials.ts';

const commonParams = {
  /** What to train: logistic, mlp, random_forest, linear, mlp_regressor, random_forest_regressor. */
  estimator: estimatorParam.default('mlp'),
  /** Params every trial shares (epochs, batchSize…); the search space's values go on top. */
  base: z.record(z.string(), z.json()).default({}),
  /** Metric to rank trials by, averaged over folds. @defaultValue accuracy, or r2 for regressors */
  metric: searchMetricParam.optional(),
  /** Folds of the cross-validation (stratified by class for classifiers). */
  folds: z.int().min(2).max(50).default(5),
  /** Seeds the folds (and, for select.random, the draws). */
  seed: z.int().default(42),
  /**
   * Run every trial here, one after another, and output the trial table in `search`. Without it
   * the stage only plans: `trials` lists the (param set, fold) pairs for select.trial@1 stages
   * fanned out at run time and joined by select.best@1.
   */
  inline: z.boolean().default(false),
};

const gridParams = z.strictObject({
  ...commonParams,
  /** Param name -> values to try; the grid is their cartesian product. */
  space: gridSpaceParam,
  /** Refuse grids with more combinations than this. */
  maxTrials: z.int().min(1).max(10_000).default(100),
});

const randomParams = z.strictObject({
  ...commonParams,
  /** Param name -> values to pick from, or { uniform | logUniform | int: [lo, hi] }. */
  space: randomSpaceParam,
  /** Param sets to draw. */
  trials: z.int().min(1).max(1_000).default(10),
});

/** The `search` output of a search that only planned (inline: false). */
export interface SearchPlan {
  kind: 'search_plan';
  estimator: EstimatorName;
  metric: SearchMetric;
  folds: number;
  trials: number;
}

const description =
  'cross-validated search over a param space for a train.* estimator. Outputs the (param set x fold) ' +
  'trial list, the folds (seeded, stratified for classifiers) and, with inline: true, runs every trial ' +
  'itself and outputs the trial table with the best param set by the mean of the named metric over ' +
  'folds (metrics best_score and best_<param>). Without inline, run the trials as a select.trial@1 ' +
  'stage with `foreach: <this stage>.trials`, joined by select.best@1.';

export const selectGridStage = defineStage({
  type: 'select.grid@1',
  description: `Grid search: a ${description}`,
  inputs: { train: 'table' },
  outputs: { trials: 'json', folds: 'json', search: 'json' },
  params: gridParams,
  defaultTimeoutMs: 6 * 60 * 60_000,
  run: (ctx) => search(ctx, expandGrid(ctx.params.space, ctx.params.maxTrials)),
});

export const selectRandomStage = defineStage({
  type: 'select.random@1',
  description: `Random search (seeded draws): a ${description}`,
  inputs: { train: 'table' },
  outputs: { trials: 'json', folds: 'json', search: 'json' },
  params: randomParams,
  defaultTimeoutMs: 6 * 60 * 60_000,
  run: (ctx) => search(ctx, sampleSpace(ctx.params.space, ctx.params.trials, ctx.params.seed)),
});

type CommonParams = z.output<z.ZodObject<typeof commonParams>>;

async function search(ctx: StageContext<CommonParams>, paramSets: TrialParams[]): Promise<StageResult> {
  const { estimator, base, folds: k, seed, inline } = ctx.params;
  const metric = ctx.params.metric ?? (ESTIMATORS[estimator].kind === 'regression' ? 'r2' : 'accuracy');
  checkMetric(estimator, metric);
  const trials = trialList(paramSets, base as TrialParams, k);
  // Every param set must be valid before anything trains: a typo fails the search at once.
  const parsed = paramSets.map((set) => parseEstimatorParams(estimator, { ...base, ...set }));

  const trainRef = ctx.inputs.train!;
  const table = await readTable(ctx.store, trainRef);
  const data = prepareSupervisedData(table, trainRef, ESTIMATORS[estimator].kind, ctx.logger);
  const splits = makeFolds(data, k, seed);
  const foldsRef = await writeJson(ctx.store, { ...splits, data: trainRef.digest }, { kind: 'kfold', k, rows: data.rows });
  // The list goes in the metadata too: a `foreach: <this stage>.trials` fans out from it.
  const trialsRef = await writeJson(ctx.store, trials, { trials: paramSets.length, folds: k, runs: trials.length, items: trials });

  if (!inline) {
    const plan: SearchPlan = { kind: 'search_plan', estimator, metric, folds: k, trials: paramSets.length };
    return {
      outputs: { trials: trialsRef, folds: foldsRef, search: await writeJson(ctx.store, plan) },
      metrics: { trials: paramSets.length, folds: k, runs: trials.length },
    };
  }

  const results = await runInline(ctx, data, splits, trials, parsed, estimator, metric);
  const summary = summarizeTrials(results, metric);
  ctx.logger.info('search done', { estimator, metric, best: summary.best });
  return {
    outputs: {
      trials: trialsRef,
      folds: foldsRef,
      search: await writeJson(ctx.store, { ...summary, results }, { metric, best: summary.best.mean }),
    },
    metrics: summaryMetrics(summary),
  };
}

/** k folds over the data's rows: stratified by class for classifiers (StratifiedKFold), shuffled. */
export function makeFolds(data: SupervisedData, k: number, seed: number): KFoldSplits {
  const classification = data.task !== 'regression';
  const labels = classification ? data.labels : new Array<number>(data.rows).fill(0);
  const testFold = assignFolds(labels, { k, stratify: classification, shuffle: true, seed });
  const folds = Array.from({ length: k }, () => ({ train: [] as number[], test: [] as number[] }));
  for (let i = 0; i < testFold.length; i++) {
    for (let f = 0; f < k; f++) (f === testFold[i] ? folds[f]!.test : folds[f]!.train).push(i);
  }
  return { kind: 'kfold', k, stratified: classification, shuffle: true, seed, rows: data.rows, target: data.target, testFold: [...testFold], folds };
}

async function runInline(
  ctx: StageContext<CommonParams>,
  data: SupervisedData,
  splits: KFoldSplits,
  trials: readonly TrialSpec[],
  parsed: readonly Record<string, unknown>[],
  estimator: EstimatorName,
  metric: SearchMetric,
): Promise<TrialResult[]> {
  const results: TrialResult[] = [];
  const byTrial = new Map<number, number[]>();
  for (const spec of trials) {
    ctx.signal.throwIfAborted();
    const fold = splits.folds[spec.fold]!;
    const scored = await runTrial(estimator, parsed[spec.trial]!, data, fold.train, fold.test, metric, ctx.signal);
    if (scored.backend) ctx.setBackend(scored.backend);
    results.push(trialResult(estimator, spec, metric, scored));
    const scores = byTrial.get(spec.trial) ?? [];
    scores.push(scored.score);
    byTrial.set(spec.trial, scores);
    if (scores.length === splits.k) {
      ctx.reportMetrics([{ name: `cv_${metric}`, step: spec.trial, value: scores.reduce((a, b) => a + b, 0) / scores.length }]);
    }
  }
  return results;
}

export function trialResult(
  estimator: EstimatorName,
  spec: Pick<TrialSpec, 'trial' | 'fold' | 'params'>,
  metric: SearchMetric,
  scored: Awaited<ReturnType<typeof runTrial>>,
): TrialResult {
  return {
    kind: 'trial_result',
    estimator,
    trial: spec.trial,
    fold: spec.fold,
    params: spec.params,
    metric,
    score: scored.score,
    metrics: scored.metrics,
    trainRows: scored.trainRows,
    validationRows: scored.validationRows,
    ...(scored.epochs === undefined ? {} : { epochs: scored.epochs }),
  };
}

/** Reads a folds artifact (split.kfold@1's or select.grid@1's) and checks it fits `rows`. */
export function checkFolds(splits: unknown, rows: number, ref: ArtifactRef): KFoldSplits {
  const s = splits as Partial<KFoldSplits> | null;
  if (!s || s.kind !== 'kfold' || !Array.isArray(s.folds) || typeof s.rows !== 'number') {
    throw StageError.nonRetryable('PW_ERR_BAD_DATA', `the folds input is not a k-fold split (${ref.uri})`);
  }
  if (s.rows !== rows) {
    throw StageError.nonRetryable('PW_ERR_BAD_DATA', `the folds cover ${s.rows} rows but the train table has ${rows}`, { folds: s.rows, rows });
  }
  return s as KFoldSplits;
}
