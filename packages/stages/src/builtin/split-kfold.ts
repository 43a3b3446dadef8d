import { z } from 'zod';
import { StageError } from '@pipewright/core';
import { defineStage } from '../define-stage.ts';
import { writeJson } from '../json-io.ts';
import { mulberry32, shuffleInPlace } from '../seeded-random.ts';
import { labelColumn, readTable, requireTarget } from '../table-io.ts';

const params = z.strictObject({
  /** Number of folds; every row is in the test part of exactly one. */
  k: z.int().min(2).max(1000).default(5),
  /** Keep each class' share about equal in every fold (StratifiedKFold). Needs a categorical target. */
  stratify: z.boolean().default(true),
  /** Shuffle before assigning folds; without it, folds are exactly scikit-learn's (KFold / StratifiedKFold, shuffle=False). */
  shuffle: z.boolean().default(true),
  /** Seed of the shuffle: the same seed and data always give the same folds. */
  seed: z.int().default(42),
});

/** The `folds` output: row indices (0-based, ascending) of each fold's train and test parts. */
export interface KFoldSplits {
  kind: 'kfold';
  k: number;
  stratified: boolean;
  shuffle: boolean;
  seed: number;
  rows: number;
  target: string;
  /** The fold (0..k-1) whose test part holds each row. */
  testFold: number[];
  folds: { train: number[]; test: number[] }[];
}

/**
 * The test fold of every row. Unstratified: consecutive blocks of the (shuffled) row order, the
 * first `rows % k` folds one row larger (KFold). Stratified: scikit-learn's StratifiedKFold
 * allocation — classes in order of first appearance, each fold's per-class count from dealing the
 * class-sorted labels round-robin, and each class' fold labels (shuffled when asked) handed to
 * its rows in order.
 */
export function assignFolds(
  labels: readonly (number | string)[],
  options: { k: number; stratify: boolean; shuffle: boolean; seed: number },
): Int32Array {
  const { k } = options;
  const n = labels.length;
  if (n < k) {
    throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', `cannot make ${k} folds of ${n} rows`, { k, rows: n });
  }
  const random = mulberry32(options.seed);
  const folds = new Int32Array(n);
  if (!options.stratify) {
    const order = Int32Array.from({ length: n }, (_, i) => i);
    if (options.shuffle) shuffleInPlace(order, random);
    let start = 0;
    for (let f = 0; f < k; f++) {
      const size = Math.floor(n / k) + (f < n % k ? 1 : 0);
      for (let p = start; p < start + size; p++) folds[order[p]!] = f;
      start += size;
    }
    return folds;
  }
  // Classes by order of first appearance (StratifiedKFold's y_encoded).
  const classIndex = new Map<number | string, number>();
  const encoded = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let c = classIndex.get(labels[i]!);
    if (c === undefined) {
      c = classIndex.size;
      classIndex.set(labels[i]!, c);
    }
    encoded[i] = c;
  }
  const classes = classIndex.size;
  const counts = new Int32Array(classes);
  for (let i = 0; i < n; i++) counts[encoded[i]!]!++;
  if (Math.max(...counts) < k) {
    throw StageError.nonRetryable('PW_ERR_BAD_DATA', `cannot stratify into ${k} folds: no class has ${k} rows`, { k, largestClass: Math.max(...counts) });
  }
  // allocation[f][c] = how many of class c land in fold f: deal the class-sorted labels round-robin.
  const allocation = Array.from({ length: k }, () => new Int32Array(classes));
  let position = 0;
  for (let c = 0; c < classes; c++) {
    for (let m = 0; m < counts[c]!; m++) allocation[position++ % k]![c]!++;
  }
  const perClass: number[][] = Array.from({ length: classes }, () => []);
  for (let c = 0; c < classes; c++) {
    for (let f = 0; f < k; f++) for (let m = 0; m < allocation[f]![c]!; m++) perClass[c]!.push(f);
    if (options.shuffle) shuffleInPlace(perClass[c]!, random);
  }
  const next = new Int32Array(classes);
  for (let i = 0; i < n; i++) {
    const c = encoded[i]!;
    folds[i] = perClass[c]![next[c]!++]!;
  }
  return folds;
}

export const splitKfoldStage = defineStage({
  type: 'split.kfold@1',
  description:
    'Assigns every row to one of k folds (stratified by the target class unless stratify is false, seeded) ' +
    'and outputs the train and test row indices of each fold, with the data table passed through unchanged.',
  inputs: { data: 'table' },
  outputs: { data: 'table', folds: 'json' },
  params,
  defaultTimeoutMs: 10 * 60_000,
  async run(ctx) {
    const dataRef = ctx.inputs.data!;
    const table = await readTable(ctx.store, dataRef);
    const target = requireTarget(table, dataRef);
    const { k, stratify, shuffle, seed } = ctx.params;
    const labels = labelColumn(table, target);
    const testFold = assignFolds(labels, ctx.params);
    if (stratify) {
      const counts = new Map<number | string, number>();
      for (const label of labels) counts.set(label, (counts.get(label) ?? 0) + 1);
      const least = Math.min(...counts.values());
      if (least < k) ctx.logger.warn('the least populated class has fewer rows than folds', { least, k });
    }
    const folds = Array.from({ length: k }, () => ({ train: [] as number[], test: [] as number[] }));
    for (let i = 0; i < testFold.length; i++) {
      for (let f = 0; f < k; f++) (f === testFold[i] ? folds[f]!.test : folds[f]!.train).push(i);
    }
    const splits: KFoldSplits = { kind: 'kfold', k, stratified: stratify, shuffle, seed, rows: labels.length, target, testFold: [...testFold], folds };
    return {
      outputs: {
        data: dataRef,
        folds: await writeJson(ctx.store, { ...splits, data: dataRef.digest }, { kind: 'kfold', k, rows: labels.length }),
      },
      metrics: { k, rows: labels.length },
    };
  },
});
