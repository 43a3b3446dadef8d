import { z } from 'zod';
import { StageError } from '@pipewright/core';
import { defineStage } from '../define-stage.ts';
import { readJson, writeJson } from '../json-io.ts';
import { searchMetricParam } from './run-trial.ts';
import { summarizeTrials, summaryMetrics } from './summarize-trials.ts';
import type { TrialResult } from './summarize-trials.ts';

const params = z.strictObject({
  /** Rank by this metric instead of the one the trials were scored by (every trial reports all). */
  metric: searchMetricParam.optional(),
});

export const selectBestStage = defineStage({
  type: 'select.best@1',
  description:
    'Joins the results of a foreach select.trial@1 stage (its `result` of every instance): the trial ' +
    'table (score per fold, mean, std, rank) and the best param set by the mean of the named metric ' +
    'over folds.',
  inputs: { result: 'json[]' },
  outputs: { search: 'json' },
  params,
  defaultTimeoutMs: 10 * 60_000,
  async run(ctx) {
    // Each artifact holds one trial result (a select.trial instance) or a list of them.
    const results: TrialResult[] = [];
    for (const ref of ctx.inputLists['result'] ?? []) {
      const value = await readJson<unknown>(ctx.store, ref);
      const list = Array.isArray(value) ? value : (value as { results?: unknown })?.results ?? [value];
      for (const item of list as unknown[]) {
        if ((item as Partial<TrialResult> | null)?.kind !== 'trial_result') {
          throw StageError.nonRetryable('PW_ERR_BAD_DATA', `${ref.uri} holds something other than trial results`);
        }
        results.push(item as TrialResult);
      }
    }
    const summary = summarizeTrials(results, ctx.params.metric);
    return {
      outputs: { search: await writeJson(ctx.store, summary, { metric: summary.metric, best: summary.best.mean }) },
      metrics: summaryMetrics(summary),
    };
  },
});
