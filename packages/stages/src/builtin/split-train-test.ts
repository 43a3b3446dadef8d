import { z } from 'zod';
import { StageError } from '@pipewright/core';
import { defineStage } from '../define-stage.ts';
import { mulberry32, shuffleInPlace } from '../seeded-random.ts';
import { labelColumn, readTable, requireTarget, sortedClasses, takeRows, writeTable } from '../table-io.ts';

const params = z.strictObject({
  /** Fraction of rows held out for testing; the test set gets ceil(testSize * rows) rows. */
  testSize: z.number().gt(0).lt(1).default(0.25),
  /** Keep each target class' share equal in both sets. Needs a categorical target. */
  stratify: z.boolean().default(true),
  /** Seed of the shuffle: the same seed and data always give the same split. */
  seed: z.number().int().default(42),
});

/**
 * Test-set size per class for a stratified split: each class gets its proportional share, rounded
 * down, and the rows left over go to the classes with the largest remainders (ties to the earlier
 * class), so the shares add up to exactly `testRows`.
 */
export function allocateStratified(classCounts: readonly number[], testRows: number): number[] {
  const total = classCounts.reduce((a, b) => a + b, 0);
  const exact = classCounts.map((count) => (count * testRows) / total);
  const allocation = exact.map(Math.floor);
  let left = testRows - allocation.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((value, i) => ({ i, remainder: value - Math.floor(value) })).sort((a, b) => b.remainder - a.remainder || a.i - b.i);
  for (const { i } of byRemainder) {
    if (left === 0) break;
    if (allocation[i]! < classCounts[i]!) {
      allocation[i]!++;
      left--;
    }
  }
  return allocation;
}

/**
 * Splits row indices into train and test sets, both in ascending order. Deterministic: rows are
 * shuffled by a seeded mulberry32, class by class (classes in sorted order) when stratified.
 */
export function splitIndices(
  labels: readonly (number | string)[],
  options: { testSize: number; stratify: boolean; seed: number },
): { train: number[]; test: number[] } {
  const rows = labels.length;
  const testRows = Math.ceil(options.testSize * rows);
  const trainRows = rows - testRows;
  if (testRows < 1 || trainRows < 1) {
    throw StageError.nonRetryable(
      'PW_ERR_BAD_PARAMS',
      `testSize ${options.testSize} of ${rows} rows leaves ${trainRows} for training and ${testRows} for testing`,
    );
  }
  const random = mulberry32(options.seed);
  const test: number[] = [];
  if (options.stratify) {
    const classes = sortedClasses(labels);
    const members = new Map(classes.map((c) => [c, [] as number[]]));
    labels.forEach((label, i) => members.get(label)!.push(i));
    const counts = classes.map((c) => members.get(c)!.length);
    const smallest = Math.min(...counts);
    if (smallest < 2) {
      throw StageError.nonRetryable(
        'PW_ERR_BAD_DATA',
        `cannot stratify: a target class has only ${smallest} row (a continuous target needs stratify: false)`,
        { classes: classes.length },
      );
    }
    if (testRows < classes.length || trainRows < classes.length) {
      throw StageError.nonRetryable(
        'PW_ERR_BAD_PARAMS',
        `cannot stratify ${classes.length} classes into ${trainRows} train and ${testRows} test rows`,
      );
    }
    const allocation = allocateStratified(counts, testRows);
    classes.forEach((c, k) => {
      const shuffled = shuffleInPlace(members.get(c)!, random);
      test.push(...shuffled.slice(0, allocation[k]));
    });
  } else {
    const shuffled = shuffleInPlace(Array.from({ length: rows }, (_, i) => i), random);
    test.push(...shuffled.slice(0, testRows));
  }
  const inTest = new Uint8Array(rows);
  for (const i of test) inTest[i] = 1;
  const train: number[] = [];
  const testSorted: number[] = [];
  for (let i = 0; i < rows; i++) (inTest[i] ? testSorted : train).push(i);
  return { train, test: testSorted };
}

export const splitTrainTestStage = defineStage({
  type: 'split.train_test@1',
  description:
    'Splits a table into train and test tables with a seeded shuffle, stratified by the target class ' +
    'unless stratify is false. Rows keep their original order within each set.',
  inputs: { data: 'table' },
  outputs: { train: 'table', test: 'table' },
  params,
  defaultTimeoutMs: 10 * 60_000,
  async run(ctx) {
    const dataRef = ctx.inputs.data!;
    const table = await readTable(ctx.store, dataRef);
    const target = requireTarget(table, dataRef);
    const { train, test } = splitIndices(labelColumn(table, target), ctx.params);
    ctx.signal.throwIfAborted();
    const split = { seed: ctx.params.seed, testSize: ctx.params.testSize, stratify: ctx.params.stratify };
    const trainRef = await writeTable(ctx.store, takeRows(table, train), { target, metadata: { split: { ...split, part: 'train' } } });
    const testRef = await writeTable(ctx.store, takeRows(table, test), { target, metadata: { split: { ...split, part: 'test' } } });
    return { outputs: { train: trainRef, test: testRef }, metrics: { train_rows: train.length, test_rows: test.length } };
  },
});
