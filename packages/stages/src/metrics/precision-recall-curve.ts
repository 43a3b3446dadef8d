import type { Label } from './classification-metrics.ts';
import { oneVsRestMacro } from './one-vs-rest-macro.ts';

/**
 * scikit-learn's `precision_recall_curve`: one point per distinct score, in increasing threshold
 * order, then the point (precision 1, recall 0) that has no threshold. A sample is predicted
 * positive at threshold t when its score >= t. Tied scores form one point, so the curve does
 * not depend on the order of tied samples.
 */
export interface PrecisionRecallCurve {
  precision: number[];
  recall: number[];
  /** One shorter than precision and recall: the last point has no threshold. */
  thresholds: number[];
}

export function precisionRecallCurve(isPositive: readonly boolean[], scores: ArrayLike<number>): PrecisionRecallCurve {
  const points = descendingPoints(isPositive, scores);
  const n = points.length;
  const precision = new Array<number>(n + 1);
  const recall = new Array<number>(n + 1);
  const thresholds = new Array<number>(n);
  for (let k = 0; k < n; k++) {
    const point = points[n - 1 - k]!;
    precision[k] = point.precision;
    recall[k] = point.recall;
    thresholds[k] = point.threshold;
  }
  precision[n] = 1;
  recall[n] = 0;
  return { precision, recall, thresholds };
}

/**
 * Average precision, the area under the precision-recall step curve without interpolation:
 * sum over thresholds, highest first, of (R_k - R_{k-1}) * P_k (scikit-learn's
 * `average_precision_score`). "PR-AUC" in reports means this number: unlike the trapezoidal area
 * it never rewards the optimistic straight line between two points.
 *
 * @returns 0 when no sample is positive, as scikit-learn does (it also warns).
 */
export function averagePrecisionScore(isPositive: readonly boolean[], scores: ArrayLike<number>): number {
  let sum = 0;
  let previousRecall = 0;
  for (const point of descendingPoints(isPositive, scores)) {
    sum += (point.recall - previousRecall) * point.precision;
    previousRecall = point.recall;
  }
  // scikit-learn's recall is 1 at every threshold when nothing is positive: the area is 0.
  return isPositive.includes(true) ? sum : 0;
}

/**
 * One-vs-rest average precision averaged over classes with equal weight
 * (`average_precision_score(label_binarize(y, classes=classes), proba, average='macro')`).
 * `probabilities` is row-major, `yTrue.length x classes.length`, columns in `classes` order.
 */
export function averagePrecisionOneVsRestMacro(yTrue: readonly Label[], probabilities: ArrayLike<number>, classes: readonly Label[]): number {
  return oneVsRestMacro('averagePrecisionOneVsRestMacro', averagePrecisionScore, yTrue, probabilities, classes);
}

/** The operating point `recallAtPrecision` found. */
export interface RecallAtPrecision {
  /** Highest recall whose precision is at least the asked one; 0 when no threshold reaches it. */
  recall: number;
  /** Precision at that point. */
  precision: number;
  /**
   * Score from which to predict positive to get that recall; Infinity (predict nothing
   * positive) when no threshold reaches the precision.
   */
  threshold: number;
}

/**
 * Recall at a fixed precision: the best recall over the precision-recall curve's points whose
 * precision is >= `minPrecision` — in fraud detection, how many frauds are caught when at most
 * 1 - minPrecision of the alerts may be false. Equals scikit-learn's
 * `max(recall[precision >= minPrecision])` over `precision_recall_curve`. Of points with equal
 * recall the highest threshold (best precision) is reported.
 */
export function recallAtPrecision(
  isPositive: readonly boolean[],
  scores: ArrayLike<number>,
  minPrecision: number,
): RecallAtPrecision {
  let best: RecallAtPrecision = { recall: 0, precision: 1, threshold: Number.POSITIVE_INFINITY };
  for (const point of descendingPoints(isPositive, scores)) {
    if (point.precision >= minPrecision && point.recall > best.recall) {
      best = { recall: point.recall, precision: point.precision, threshold: point.threshold };
    }
  }
  return best;
}

interface CurvePoint {
  threshold: number;
  precision: number;
  recall: number;
}

/** Curve points by decreasing threshold, one per distinct score (scikit-learn's `_binary_clf_curve`). */
function descendingPoints(isPositive: readonly boolean[], scores: ArrayLike<number>): CurvePoint[] {
  if (isPositive.length !== scores.length) {
    throw new Error(`precision-recall curve: ${isPositive.length} labels but ${scores.length} scores`);
  }
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i])) throw new Error(`precision-recall curve: score ${i} is NaN`);
  }
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  let positives = 0;
  for (const positive of isPositive) if (positive) positives++;
  const points: CurvePoint[] = [];
  let tp = 0;
  let seen = 0;
  for (let start = 0; start < order.length; ) {
    const threshold = scores[order[start]!]!;
    let end = start;
    while (end < order.length && scores[order[end]!] === threshold) {
      if (isPositive[order[end]!]) tp++;
      end++;
    }
    seen = end;
    points.push({ threshold, precision: tp / seen, recall: positives === 0 ? 1 : tp / positives });
    start = end;
  }
  return points;
}
