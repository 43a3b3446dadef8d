import {
  accuracyScore,
  averagedPrecisionRecallF1,
  balancedAccuracyScore,
  binaryPrecisionRecallF1,
  confusionMatrix,
  precisionRecallF1PerClass,
} from './classification-metrics.ts';
import type { ClassScores, Label } from './classification-metrics.ts';
import { logLoss } from './log-loss.ts';
import { averagePrecisionOneVsRestMacro, averagePrecisionScore, recallAtPrecision } from './precision-recall-curve.ts';
import type { RecallAtPrecision } from './precision-recall-curve.ts';
import { rocAucOneVsRestMacro, rocAucScore } from './roc-auc.ts';

export interface ClassificationScores {
  /**
   * Flat scalar metrics (scikit-learn's definitions): accuracy, balanced_accuracy; precision,
   * recall, f1 (of the positive class for binary, macro for multiclass); their _macro and
   * _weighted averages; roc_auc and pr_auc (average precision; one-vs-rest macro for
   * multiclass); log_loss; recall_at_precision when asked. A metric that is undefined on these
   * labels (roc_auc with one class present) is left out.
   */
  metrics: Record<string, number>;
  perClass: ClassScores[];
  /** Rows are true labels, columns predicted labels, both in `classes` order. */
  confusionMatrix: number[][];
  predicted: Label[];
  /** Binary with `minPrecision`: the operating point that gives recall_at_precision. */
  operatingPoint?: RecallAtPrecision & { minPrecision: number };
  /** Metrics left out, and why. */
  undefinedMetrics: Record<string, string>;
}

/**
 * Scores predicted probabilities against the truth.
 *
 * @param probabilities binary: P(classes[1]) per sample; otherwise row-major samples x classes.
 * @param options.threshold binary: probability from which classes[1] is predicted.
 * @param options.minPrecision binary: also report the best recall at this precision.
 */
export function scoreClassification(
  yTrue: readonly Label[],
  probabilities: ArrayLike<number>,
  classes: readonly Label[],
  options: { threshold?: number; minPrecision?: number | undefined } = {},
): ClassificationScores {
  const binary = classes.length === 2;
  const k = classes.length;
  const threshold = options.threshold ?? 0.5;
  const predicted: Label[] = binary
    ? Array.from({ length: yTrue.length }, (_, i) => (probabilities[i]! >= threshold ? classes[1]! : classes[0]!))
    : yTrue.map((_, i) => {
        let best = 0;
        for (let c = 1; c < k; c++) if (probabilities[i * k + c]! > probabilities[i * k + best]!) best = c;
        return classes[best]!;
      });

  const metrics: Record<string, number> = {
    accuracy: accuracyScore(yTrue, predicted),
    balanced_accuracy: balancedAccuracyScore(yTrue, predicted),
  };
  const headline = binary ? binaryPrecisionRecallF1(yTrue, predicted, classes[1]!) : averagedPrecisionRecallF1(yTrue, predicted, classes, 'macro');
  Object.assign(metrics, headline);
  for (const average of ['macro', 'weighted'] as const) {
    const scores = averagedPrecisionRecallF1(yTrue, predicted, classes, average);
    metrics[`precision_${average}`] = scores.precision;
    metrics[`recall_${average}`] = scores.recall;
    metrics[`f1_${average}`] = scores.f1;
  }

  const undefinedMetrics: Record<string, string> = {};
  const present = new Set(yTrue);
  const absent = classes.filter((c) => !present.has(c));
  if (absent.length > 0) {
    undefinedMetrics.roc_auc = `class ${absent.map(String).join(', ')} is absent from the test labels`;
  } else {
    metrics.roc_auc = binary
      ? rocAucScore(yTrue.map((label) => label === classes[1]), probabilities)
      : rocAucOneVsRestMacro(yTrue, probabilities, classes);
  }
  metrics.pr_auc = binary
    ? averagePrecisionScore(yTrue.map((label) => label === classes[1]), probabilities)
    : averagePrecisionOneVsRestMacro(yTrue, probabilities, classes);
  const unseen = [...present].filter((label) => !classes.includes(label));
  if (unseen.length > 0) undefinedMetrics.log_loss = `test labels ${unseen.map(String).join(', ')} are not classes of the model`;
  else metrics.log_loss = logLoss(yTrue, probabilities, classes);

  let operatingPoint: ClassificationScores['operatingPoint'];
  if (options.minPrecision !== undefined) {
    if (!binary) {
      undefinedMetrics.recall_at_precision = 'recall at a fixed precision is defined for binary targets';
    } else {
      const point = recallAtPrecision(yTrue.map((label) => label === classes[1]), probabilities, options.minPrecision);
      operatingPoint = { minPrecision: options.minPrecision, ...point };
      metrics.recall_at_precision = point.recall;
    }
  }

  return {
    metrics,
    perClass: precisionRecallF1PerClass(yTrue, predicted, classes),
    confusionMatrix: confusionMatrix(yTrue, predicted, classes),
    predicted,
    ...(operatingPoint ? { operatingPoint } : {}),
    undefinedMetrics,
  };
}
