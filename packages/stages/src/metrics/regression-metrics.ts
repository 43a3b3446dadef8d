/**
 * Regression metrics as pure functions, defined as scikit-learn defines them; the fixtures in
 * sklearn-fixtures.json pin them to its values.
 */

export interface RegressionScores {
  /** Mean squared error. */
  mse: number;
  /** Square root of the MSE, in the target's unit. */
  rmse: number;
  /** Mean absolute error. */
  mae: number;
  /** Coefficient of determination: 1 - SS_res / SS_tot. */
  r2: number;
  /**
   * Mean absolute percentage error as a fraction (0.1 = 10 %), each error divided by
   * max(|y|, float64 epsilon): a zero target makes it enormous rather than infinite, as in
   * scikit-learn.
   */
  mape: number;
}

export function meanSquaredError(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  assertPaired(yTrue, yPred);
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) sum += (yTrue[i]! - yPred[i]!) ** 2;
  return sum / yTrue.length;
}

export function meanAbsoluteError(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  assertPaired(yTrue, yPred);
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) sum += Math.abs(yTrue[i]! - yPred[i]!);
  return sum / yTrue.length;
}

export function meanAbsolutePercentageError(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  assertPaired(yTrue, yPred);
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) sum += Math.abs(yTrue[i]! - yPred[i]!) / Math.max(Math.abs(yTrue[i]!), Number.EPSILON);
  return sum / yTrue.length;
}

/**
 * R², scikit-learn's `r2_score` with `force_finite=True`: for a constant target (SS_tot = 0) it
 * is 1 when the predictions are perfect and 0 otherwise, instead of NaN or -Infinity.
 */
export function r2Score(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  assertPaired(yTrue, yPred);
  let mean = 0;
  for (let i = 0; i < yTrue.length; i++) mean += yTrue[i]!;
  mean /= yTrue.length;
  let residual = 0;
  let total = 0;
  for (let i = 0; i < yTrue.length; i++) {
    residual += (yTrue[i]! - yPred[i]!) ** 2;
    total += (yTrue[i]! - mean) ** 2;
  }
  if (total === 0) return residual === 0 ? 1 : 0;
  return 1 - residual / total;
}

export function regressionScores(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): RegressionScores {
  const mse = meanSquaredError(yTrue, yPred);
  return {
    mse,
    rmse: Math.sqrt(mse),
    mae: meanAbsoluteError(yTrue, yPred),
    r2: r2Score(yTrue, yPred),
    mape: meanAbsolutePercentageError(yTrue, yPred),
  };
}

function assertPaired(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new Error(`regression metrics: ${a.length} targets but ${b.length} predictions`);
  if (a.length === 0) throw new Error('regression metrics: no samples');
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]!) || !Number.isFinite(b[i]!)) {
      throw new Error(`regression metrics: sample ${i} is not finite (target ${a[i]}, prediction ${b[i]})`);
    }
  }
}
