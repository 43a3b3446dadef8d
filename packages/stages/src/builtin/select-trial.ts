import { z } from 'zod';
import { StageError } from '@pipewright/core';
import { defineStage } from '../define-stage.ts';
import { readJson, writeJson } from '../json-io.ts';
import { readTable } from '../table-io.ts';
import { prepareSupervisedData } from './dense-network.ts';
import { ESTIMATORS, estimatorParam, parseEstimatorParams, runTrial, searchMetricParam } from './run-trial.ts';
import type { TrialParams } from './search-space.ts';
import { checkFolds, trialResult } from './select-search.ts';

const params = z.strictObject({
  estimator: estimatorParam.default('mlp'),
  /** The trial's estimator params (an entry of select.grid/random's `trials` carries them). */
  params: z.record(z.string(), z.json()).default({}),
  /** Which fold of the `folds` input to validate on (0-based). */
  fold: z.int().min(0),
  /** The trial's number, carried into the result for the join. */
  trial: z.int().min(0).default(0),
  /** @defaultValue accuracy, or r2 for regressors */
  metric: searchMetricParam.optional(),
});

export const selectTrialStage = defineStage({
  type: 'select.trial@1',
  description:
    'One trial of a cross-validated search: trains the estimator with the given params on the train ' +
    'rows of one fold (from split.kfold@1 or select.grid/random) and scores it on that fold\'s test rows. ' +
    'Outputs a result for select.best@1 to join.',
  inputs: { train: 'table', folds: 'json' },
  outputs: { result: 'json' },
  params,
  defaultTimeoutMs: 60 * 60_000,
  async run(ctx) {
    const { estimator, fold, trial } = ctx.params;
    const metric = ctx.params.metric ?? (ESTIMATORS[estimator].kind === 'regression' ? 'r2' : 'accuracy');
    const parsed = parseEstimatorParams(estimator, ctx.params.params);
    const trainRef = ctx.inputs.train!;
    const table = await readTable(ctx.store, trainRef);
    const splits = checkFolds(await readJson(ctx.store, ctx.inputs.folds!), table.numRows, ctx.inputs.folds!);
    const part = splits.folds[fold];
    if (!part) throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', `fold ${fold} does not exist: the split has ${splits.folds.length}`);
    const data = prepareSupervisedData(table, trainRef, ESTIMATORS[estimator].kind, ctx.logger);
    const scored = await runTrial(estimator, parsed, data, part.train, part.test, metric, ctx.signal);
    if (scored.backend) ctx.setBackend(scored.backend);
    const result = trialResult(estimator, { trial, fold, params: ctx.params.params as TrialParams }, metric, scored);
    return {
      outputs: { result: await writeJson(ctx.store, result, { trial, fold, metric, score: scored.score }) },
      metrics: { score: scored.score, trial, fold, seconds: scored.seconds },
    };
  },
});
