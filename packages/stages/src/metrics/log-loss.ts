import type { Label } from './classification-metrics.ts';

/** Float64 machine epsilon: scikit-learn's `eps='auto'` for float64 probabilities. */
const EPS = Number.EPSILON;

/**
 * Mean cross-entropy of the true labels under the predicted probabilities (scikit-learn's
 * `log_loss(y, p, labels=classes)`, natural log). As there, each probability is clipped to
 * [eps, 1 - eps] and every row renormalised, so one confident mistake costs about 36 nats
 * instead of infinity.
 *
 * @param probabilities binary: one score per sample, the probability of `classes[1]`;
 *   otherwise row-major `yTrue.length x classes.length`, columns in `classes` order.
 * @param classes every label the model knows, in probability-column order; a true label outside
 *   them is an error, as in scikit-learn.
 */
export function logLoss(yTrue: readonly Label[], probabilities: ArrayLike<number>, classes: readonly Label[]): number {
  const n = yTrue.length;
  const k = classes.length;
  if (k < 2) throw new Error('logLoss: needs at least two classes');
  if (n === 0) throw new Error('logLoss: no samples');
  const binaryScores = probabilities.length === n && k === 2;
  if (!binaryScores && probabilities.length !== n * k) {
    throw new Error(`logLoss: expected ${n} or ${n}x${k} probabilities, got ${probabilities.length}`);
  }
  const index = new Map(classes.map((label, c) => [label, c]));
  let total = 0;
  const row = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const truth = index.get(yTrue[i]!);
    if (truth === undefined) throw new Error(`logLoss: label ${String(yTrue[i])} is not one of the classes`);
    if (binaryScores) {
      const p = clip(probabilities[i]!);
      row[0] = 1 - p;
      row[1] = p;
    } else {
      for (let c = 0; c < k; c++) row[c] = clip(probabilities[i * k + c]!);
    }
    let sum = 0;
    for (let c = 0; c < k; c++) sum += row[c]!;
    total += -Math.log(row[truth]! / sum);
  }
  return total / n;
}

function clip(p: number): number {
  if (Number.isNaN(p)) throw new Error('logLoss: a probability is NaN');
  return p < EPS ? EPS : p > 1 - EPS ? 1 - EPS : p;
}
