import { z } from 'zod';
import { defineStage } from '../define-stage.ts';
import { gatherRows } from '../column-data.ts';
import { readTrainTest } from '../fitted-stage-io.ts';
import { writeJson } from '../json-io.ts';
import { mulberry32 } from '../seeded-random.ts';
import { labelColumn, sortedClasses, writeTable } from '../table-io.ts';

const params = z.strictObject({
  /** Append randomly drawn (with replacement) rows of the smaller classes to the train table. */
  oversample: z.boolean().default(true),
  /**
   * Each smaller class is oversampled to floor(ratio x the largest class' count) rows (a class
   * already that large is left alone); 1 balances the classes exactly.
   */
  ratio: z.number().gt(0).max(1).default(1),
  /** Seed of the draws: the same seed and data always give the same rows. */
  seed: z.int().default(42),
});

/** The `weights` output: "balanced" class weights of the train table as it came in. */
export interface ClassWeights {
  kind: 'class_weights';
  /** Sorted as scikit-learn orders classes. */
  classes: (number | string)[];
  /** n_samples / (n_classes * count), as compute_class_weight('balanced'). */
  weights: number[];
  /** Class (as a string key) -> weight, for lookups. */
  byClass: Record<string, number>;
  /** Rows per class before and after oversampling. */
  counts: number[];
  countsAfter: number[];
}

/** scikit-learn's `compute_class_weight('balanced', classes=classes, y=labels)`. */
export function balancedClassWeights(labels: readonly (number | string)[]): { classes: (number | string)[]; weights: number[]; counts: number[] } {
  const classes = sortedClasses(labels);
  const index = new Map(classes.map((c, k) => [c, k]));
  const counts = new Array<number>(classes.length).fill(0);
  for (const label of labels) counts[index.get(label)!]!++;
  const weights = counts.map((count) => labels.length / (classes.length * count));
  return { classes, weights, counts };
}

/**
 * Row indices of the oversampled table: every original row, then for each smaller class (in
 * sorted order) the extra rows drawn uniformly with replacement from that class (imbalanced-learn's
 * RandomOverSampler).
 */
export function oversampleIndices(labels: readonly (number | string)[], ratio: number, seed: number): Int32Array {
  const { classes, counts } = balancedClassWeights(labels);
  const index = new Map(classes.map((c, k) => [c, k]));
  const members: number[][] = classes.map(() => []);
  labels.forEach((label, i) => members[index.get(label)!]!.push(i));
  const wanted = Math.floor(ratio * Math.max(...counts));
  const extra = counts.map((count) => Math.max(0, wanted - count));
  const out = new Int32Array(labels.length + extra.reduce((a, b) => a + b, 0));
  for (let i = 0; i < labels.length; i++) out[i] = i;
  const random = mulberry32(seed);
  let at = labels.length;
  classes.forEach((_, c) => {
    const pool = members[c]!;
    for (let m = 0; m < extra[c]!; m++) out[at++] = pool[Math.floor(random() * pool.length)]!;
  });
  return out;
}

export const preprocessBalanceStage = defineStage({
  type: 'preprocess.balance@1',
  description:
    'Handles class imbalance: outputs "balanced" class weights of the train table (as scikit-learn computes ' +
    'them) and, unless oversample is false, oversamples the smaller classes of the train table by seeded ' +
    'random draws with replacement. The test table passes through untouched. Use the weights or the ' +
    'oversampled table, not both.',
  inputs: { train: 'table', test: 'table' },
  outputs: { train: 'table', test: 'table', weights: 'json' },
  params,
  defaultTimeoutMs: 10 * 60_000,
  async run(ctx) {
    const { train, trainRef, testRef, target } = await readTrainTest(ctx);
    const labels = labelColumn(train, target);
    const { classes, weights, counts } = balancedClassWeights(labels);
    let trainOut = trainRef;
    let countsAfter = counts;
    if (ctx.params.oversample) {
      const indices = oversampleIndices(labels, ctx.params.ratio, ctx.params.seed);
      countsAfter = balancedClassWeights(Array.from(indices, (i) => labels[i]!)).counts;
      if (indices.length > labels.length) {
        const oversampled = gatherRows(train, indices);
        trainOut = await writeTable(ctx.store, oversampled, {
          target,
          metadata: { oversampled: { ratio: ctx.params.ratio, seed: ctx.params.seed, rowsBefore: labels.length } },
        });
      }
    }
    const result: ClassWeights = {
      kind: 'class_weights',
      classes,
      weights,
      byClass: Object.fromEntries(classes.map((c, k) => [String(c), weights[k]!])),
      counts,
      countsAfter,
    };
    return {
      outputs: {
        train: trainOut,
        test: testRef,
        weights: await writeJson(ctx.store, { ...result, fittedOn: trainRef.digest }, { kind: 'class_weights', classes: classes.length }),
      },
      metrics: { rows_before: labels.length, rows_after: countsAfter.reduce((a, b) => a + b, 0) },
    };
  },
});
