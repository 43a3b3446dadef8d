import { describe, expect, it } from 'vitest';
import {
  accuracyScore,
  binaryPrecisionRecallF1,
  confusionMatrix,
  macroPrecisionRecallF1,
} from './classification-metrics.ts';

// Expected values computed with scikit-learn 1.2.1 (/usr/bin/python3, Debian python3-sklearn):
//   accuracy_score, precision_score, recall_score, f1_score, confusion_matrix.
// Data: numpy default_rng(7), see roc-auc.test.ts for the scores these predictions came from.
const BINARY_TRUE = [1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1];
const BINARY_PRED = [1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1];

const MULTI_TRUE = [1, 2, 2, 2, 2, 0, 1, 2, 0, 0, 1, 2, 2, 2, 1, 0, 2, 1, 2, 2, 2, 0, 2, 1, 1, 2, 2, 1, 0, 2];
const MULTI_PRED = [1, 2, 2, 2, 2, 0, 1, 2, 0, 0, 0, 2, 0, 2, 2, 0, 2, 1, 2, 2, 2, 0, 2, 1, 1, 2, 2, 1, 0, 2];

const TOLERANCE = 1e-9;

describe('binary classification metrics (positive class 1)', () => {
  it('matches scikit-learn', () => {
    expect(accuracyScore(BINARY_TRUE, BINARY_PRED)).toBeCloseTo(0.675, 12);
    const { precision, recall, f1 } = binaryPrecisionRecallF1(BINARY_TRUE, BINARY_PRED, 1);
    expect(Math.abs(precision - 0.72)).toBeLessThan(TOLERANCE);
    expect(Math.abs(recall - 0.75)).toBeLessThan(TOLERANCE);
    expect(Math.abs(f1 - 0.7346938775510204)).toBeLessThan(TOLERANCE);
    expect(confusionMatrix(BINARY_TRUE, BINARY_PRED, [0, 1])).toEqual([
      [9, 7],
      [6, 18],
    ]);
  });

  it('scores 0 where scikit-learn divides by zero (zero_division=0)', () => {
    expect(binaryPrecisionRecallF1([0, 1, 1, 0, 1], [0, 0, 0, 0, 0], 1)).toEqual({ precision: 0, recall: 0, f1: 0 });
  });
});

describe('multiclass metrics', () => {
  it('macro averages match scikit-learn', () => {
    expect(Math.abs(accuracyScore(MULTI_TRUE, MULTI_PRED) - 0.9)).toBeLessThan(TOLERANCE);
    const macro = macroPrecisionRecallF1(MULTI_TRUE, MULTI_PRED, [0, 1, 2]);
    expect(Math.abs(macro.precision - 0.8958333333333334)).toBeLessThan(TOLERANCE);
    expect(Math.abs(macro.recall - 0.8958333333333334)).toBeLessThan(TOLERANCE);
    expect(Math.abs(macro.f1 - 0.8839285714285715)).toBeLessThan(TOLERANCE);
    expect(confusionMatrix(MULTI_TRUE, MULTI_PRED, [0, 1, 2])).toEqual([
      [6, 0, 0],
      [1, 6, 1],
      [1, 0, 15],
    ]);
  });

  it('handles string labels', () => {
    const yTrue = ['cat', 'dog', 'dog', 'bird', 'cat', 'bird', 'dog'];
    const yPred = ['cat', 'dog', 'cat', 'bird', 'bird', 'bird', 'dog'];
    expect(confusionMatrix(yTrue, yPred, ['bird', 'cat', 'dog'])).toEqual([
      [2, 0, 0],
      [1, 1, 0],
      [0, 1, 2],
    ]);
    expect(Math.abs(macroPrecisionRecallF1(yTrue, yPred, ['bird', 'cat', 'dog']).f1 - 0.7000000000000001)).toBeLessThan(TOLERANCE);
    const dog = binaryPrecisionRecallF1(yTrue, yPred, 'dog');
    expect(Math.abs(dog.precision - 1.0)).toBeLessThan(TOLERANCE);
    expect(Math.abs(dog.recall - 0.6666666666666666)).toBeLessThan(TOLERANCE);
    expect(Math.abs(dog.f1 - 0.8)).toBeLessThan(TOLERANCE);
  });

  it('rejects arrays of different lengths', () => {
    expect(() => accuracyScore([1, 0], [1])).toThrow(/differ in length/);
  });
});
