import type { Label } from './classification-metrics.ts';
import { oneVsRestMacro } from './one-vs-rest-macro.ts';

/**
 * Area under the ROC curve of `scores` for `isPositive`, exactly: the probability that a random
 * positive scores above a random negative, ties counting one half (the Mann–Whitney U statistic,
 * equal to scikit-learn's trapezoidal roc_auc_score). Counting pairs per tie group keeps every
 * intermediate an integer, so the only rounding is the final division.
 *
 * @returns NaN when only one class is present (scikit-learn raises; the caller decides).
 */
export function rocAucScore(isPositive: readonly boolean[], scores: ArrayLike<number>): number {
  if (isPositive.length !== scores.length) {
    throw new Error(`rocAucScore: ${isPositive.length} labels but ${scores.length} scores`);
  }
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i])) throw new Error(`rocAucScore: score ${i} is NaN`);
  }
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let negativesBelow = 0;
  let favourablePairsTimesTwo = 0;
  let positives = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    let groupPositives = 0;
    let groupNegatives = 0;
    while (end < order.length && scores[order[end]!] === scores[order[start]!]) {
      if (isPositive[order[end]!]) groupPositives++;
      else groupNegatives++;
      end++;
    }
    favourablePairsTimesTwo += 2 * groupPositives * negativesBelow + groupPositives * groupNegatives;
    negativesBelow += groupNegatives;
    positives += groupPositives;
    start = end;
  }
  const negatives = negativesBelow;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return favourablePairsTimesTwo / (2 * positives * negatives);
}

/**
 * One-vs-rest ROC AUC averaged over classes with equal weight (scikit-learn's
 * `roc_auc_score(y, proba, multi_class='ovr', average='macro')`). `probabilities` is row-major,
 * `yTrue.length x classes.length`, columns in `classes` order.
 */
export function rocAucOneVsRestMacro(yTrue: readonly Label[], probabilities: ArrayLike<number>, classes: readonly Label[]): number {
  return oneVsRestMacro('rocAucOneVsRestMacro', rocAucScore, yTrue, probabilities, classes);
}
