/**
 * Classification metrics as pure functions over label arrays, matching scikit-learn's
 * definitions (including its zero_division=0 convention); the tests pin them to values computed
 * with scikit-learn.
 */

export type Label = number | string;

/** Fraction of predictions equal to the truth. */
export function accuracyScore(yTrue: readonly Label[], yPred: readonly Label[]): number {
  assertSameLength(yTrue, yPred);
  if (yTrue.length === 0) throw new Error('accuracyScore: no samples');
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) correct++;
  return correct / yTrue.length;
}

/**
 * `matrix[i][j]` = number of samples whose true label is `labels[i]` and predicted label is
 * `labels[j]` (scikit-learn's orientation: rows are truth). Labels outside `labels` are ignored.
 */
export function confusionMatrix(yTrue: readonly Label[], yPred: readonly Label[], labels: readonly Label[]): number[][] {
  assertSameLength(yTrue, yPred);
  const index = new Map(labels.map((label, i) => [label, i]));
  const matrix = labels.map(() => labels.map(() => 0));
  for (let k = 0; k < yTrue.length; k++) {
    const i = index.get(yTrue[k]!);
    const j = index.get(yPred[k]!);
    if (i !== undefined && j !== undefined) matrix[i]![j]!++;
  }
  return matrix;
}

export interface PrecisionRecallF1 {
  precision: number;
  recall: number;
  f1: number;
}

/** Precision, recall and F1 of one class against the rest; 0 where a ratio is 0/0. */
export function binaryPrecisionRecallF1(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  positive: Label,
): PrecisionRecallF1 {
  assertSameLength(yTrue, yPred);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const actual = yTrue[i] === positive;
    const predicted = yPred[i] === positive;
    if (actual && predicted) tp++;
    else if (predicted) fp++;
    else if (actual) fn++;
  }
  return {
    precision: ratio(tp, tp + fp),
    recall: ratio(tp, tp + fn),
    // 2PR/(P+R) written over counts: exact, and 0 when there is nothing to score.
    f1: ratio(2 * tp, 2 * tp + fp + fn),
  };
}

/** Unweighted mean over `labels` of each class' precision, recall and F1 (average='macro'). */
export function macroPrecisionRecallF1(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  labels: readonly Label[],
): PrecisionRecallF1 {
  if (labels.length === 0) throw new Error('macroPrecisionRecallF1: no labels');
  const sum = { precision: 0, recall: 0, f1: 0 };
  for (const label of labels) {
    const one = binaryPrecisionRecallF1(yTrue, yPred, label);
    sum.precision += one.precision;
    sum.recall += one.recall;
    sum.f1 += one.f1;
  }
  return { precision: sum.precision / labels.length, recall: sum.recall / labels.length, f1: sum.f1 / labels.length };
}

/** Precision, recall, F1 and support (true count) of one class. */
export interface ClassScores extends PrecisionRecallF1 {
  label: Label;
  support: number;
}

/** Each label's precision, recall, F1 and support, in `labels` order (average=None). */
export function precisionRecallF1PerClass(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  labels: readonly Label[],
): ClassScores[] {
  assertSameLength(yTrue, yPred);
  return labels.map((label) => {
    let support = 0;
    for (const actual of yTrue) if (actual === label) support++;
    return { label, ...binaryPrecisionRecallF1(yTrue, yPred, label), support };
  });
}

/**
 * Precision, recall and F1 averaged over `labels`: `macro` weighs every class equally, `weighted`
 * by its support (scikit-learn's average='weighted', which is 0 when no label has support).
 */
export function averagedPrecisionRecallF1(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  labels: readonly Label[],
  average: 'macro' | 'weighted',
): PrecisionRecallF1 {
  if (average === 'macro') return macroPrecisionRecallF1(yTrue, yPred, labels);
  const perClass = precisionRecallF1PerClass(yTrue, yPred, labels);
  const total = perClass.reduce((sum, c) => sum + c.support, 0);
  if (total === 0) return { precision: 0, recall: 0, f1: 0 };
  const sum = { precision: 0, recall: 0, f1: 0 };
  for (const c of perClass) {
    sum.precision += c.precision * c.support;
    sum.recall += c.recall * c.support;
    sum.f1 += c.f1 * c.support;
  }
  return { precision: sum.precision / total, recall: sum.recall / total, f1: sum.f1 / total };
}

/**
 * Mean recall over the classes present in `yTrue` (scikit-learn's balanced_accuracy_score:
 * a class that is only ever predicted has no recall and is left out). Equals accuracy on a
 * balanced test set; on an imbalanced one, always predicting the majority class scores 1/k.
 */
export function balancedAccuracyScore(yTrue: readonly Label[], yPred: readonly Label[]): number {
  assertSameLength(yTrue, yPred);
  if (yTrue.length === 0) throw new Error('balancedAccuracyScore: no samples');
  const support = new Map<Label, number>();
  const hits = new Map<Label, number>();
  for (let i = 0; i < yTrue.length; i++) {
    const label = yTrue[i]!;
    support.set(label, (support.get(label) ?? 0) + 1);
    if (yPred[i] === label) hits.set(label, (hits.get(label) ?? 0) + 1);
  }
  // Sorted classes, so the sum runs in the order scikit-learn's does.
  const classes = [...support.keys()].sort(compareLabels);
  let sum = 0;
  for (const label of classes) sum += (hits.get(label) ?? 0) / support.get(label)!;
  return sum / classes.length;
}

/** Numbers ascending, strings by code unit: the order of scikit-learn's `unique_labels`. */
export function compareLabels(a: Label, b: Label): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

function assertSameLength(a: readonly unknown[], b: readonly unknown[]): void {
  if (a.length !== b.length) throw new Error(`label arrays differ in length: ${a.length} vs ${b.length}`);
}
