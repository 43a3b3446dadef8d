import type { Label } from './classification-metrics.ts';

/**
 * A binary score averaged over classes with equal weight, one class against the rest, as
 * scikit-learn's `average='macro'` on binarized labels. `probabilities` is row-major,
 * `yTrue.length x classes.length`, columns in `classes` order.
 */
export function oneVsRestMacro(
  name: string,
  score: (isPositive: readonly boolean[], scores: ArrayLike<number>) => number,
  yTrue: readonly Label[],
  probabilities: ArrayLike<number>,
  classes: readonly Label[],
): number {
  const k = classes.length;
  if (probabilities.length !== yTrue.length * k) {
    throw new Error(`${name}: expected ${yTrue.length}x${k} probabilities, got ${probabilities.length}`);
  }
  let sum = 0;
  for (let c = 0; c < k; c++) {
    const column = new Float64Array(yTrue.length);
    for (let i = 0; i < yTrue.length; i++) column[i] = probabilities[i * k + c]!;
    sum += score(
      yTrue.map((label) => label === classes[c]),
      column,
    );
  }
  return sum / k;
}
