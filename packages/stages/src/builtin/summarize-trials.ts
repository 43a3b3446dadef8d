import { StageError } from '@pipewright/core';
import type { TrialParams } from './search-space.ts';
import { SEARCH_METRICS } from './run-trial.ts';
import type { EstimatorName, SearchMetric } from './run-trial.ts';

/** The `result` of one trial on one fold (select.trial@1's output, and an inline search's rows). */
export interface TrialResult {
  kind: 'trial_result';
  estimator: EstimatorName;
  trial: number;
  fold: number;
  params: TrialParams;
  metric: SearchMetric;
  score: number;
  /** Every metric computed on the fold's validation rows. */
  metrics: Record<string, number>;
  trainRows: number;
  validationRows: number;
  epochs?: number;
}

/** One row of the trial table: a param set, its score on every fold, their mean and spread. */
export interface TrialSummary {
  trial: number;
  params: TrialParams;
  /** Indexed by fold. */
  scores: number[];
  mean: number;
  /** Population standard deviation over folds (numpy's default, as GridSearchCV's std_test_score). */
  std: number;
  /** 1 = best; ties share the better rank (GridSearchCV's rank_test_score). */
  rank: number;
}

/** The `search` output of select.best@1 and of an inline select.grid/random. */
export interface SearchSummary {
  kind: 'search_summary';
  estimator: EstimatorName;
  metric: SearchMetric;
  greaterIsBetter: boolean;
  folds: number;
  best: { trial: number; params: TrialParams; mean: number; std: number };
  /** Every trial, by trial number. */
  trials: TrialSummary[];
}

/**
 * Joins trial results into the trial table and picks the best mean over folds (ties: the
 * earlier trial, as GridSearchCV). Fails non-retryably when results mix estimators or metrics,
 * repeat a (trial, fold), or leave a trial without every fold.
 */
export function summarizeTrials(results: readonly TrialResult[], metric?: SearchMetric): SearchSummary {
  if (results.length === 0) throw StageError.nonRetryable('PW_ERR_BAD_DATA', 'no trial results to join');
  const first = results[0]!;
  const ranked = metric ?? first.metric;
  const mixed = results.find((r) => r.estimator !== first.estimator || (metric === undefined && r.metric !== first.metric));
  if (mixed) {
    throw StageError.nonRetryable('PW_ERR_BAD_DATA', 'the trial results mix estimators or metrics', {
      estimators: [...new Set(results.map((r) => r.estimator))],
      metrics: [...new Set(results.map((r) => r.metric))],
    });
  }
  const byTrial = new Map<number, { params: TrialParams; scores: Map<number, number> }>();
  for (const result of results) {
    const score = result.metric === ranked ? result.score : result.metrics[ranked];
    if (score === undefined) {
      throw StageError.nonRetryable('PW_ERR_BAD_DATA', `trial ${result.trial} fold ${result.fold} has no ${ranked}`);
    }
    const entry = byTrial.get(result.trial) ?? { params: result.params, scores: new Map<number, number>() };
    if (entry.scores.has(result.fold)) {
      throw StageError.nonRetryable('PW_ERR_BAD_DATA', `trial ${result.trial} fold ${result.fold} appears twice`);
    }
    entry.scores.set(result.fold, score);
    byTrial.set(result.trial, entry);
  }
  const folds = Math.max(...[...byTrial.values()].map((e) => e.scores.size));
  const greaterIsBetter = SEARCH_METRICS[ranked] === 'max';
  const trials: TrialSummary[] = [...byTrial.entries()]
    .sort(([a], [b]) => a - b)
    .map(([trial, entry]) => {
      const scores = Array.from({ length: folds }, (_, fold) => {
        const score = entry.scores.get(fold);
        if (score === undefined) throw StageError.nonRetryable('PW_ERR_BAD_DATA', `trial ${trial} has no result for fold ${fold}`);
        return score;
      });
      const mean = scores.reduce((a, b) => a + b, 0) / folds;
      const std = Math.sqrt(scores.reduce((a, s) => a + (s - mean) ** 2, 0) / folds);
      return { trial, params: entry.params, scores, mean, std, rank: 0 };
    });
  const better = (a: number, b: number) => (greaterIsBetter ? a > b : a < b);
  for (const row of trials) row.rank = 1 + trials.filter((other) => better(other.mean, row.mean)).length;
  const best = trials.reduce((a, b) => (better(b.mean, a.mean) ? b : a));
  return {
    kind: 'search_summary',
    estimator: first.estimator,
    metric: ranked,
    greaterIsBetter,
    folds,
    best: { trial: best.trial, params: best.params, mean: best.mean, std: best.std },
    trials,
  };
}

/** Stage metrics of a summary: best_score, trials, and best_<param> for every numeric param. */
export function summaryMetrics(summary: SearchSummary): Record<string, number> {
  const metrics: Record<string, number> = { best_score: summary.best.mean, best_std: summary.best.std, trials: summary.trials.length, folds: summary.folds };
  for (const [key, value] of Object.entries(summary.best.params)) {
    if (typeof value === 'number') metrics[`best_${key}`] = value;
  }
  return metrics;
}
