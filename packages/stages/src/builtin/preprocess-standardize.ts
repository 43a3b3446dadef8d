import { z } from 'zod';
import { StageError } from '@pipewright/core';
import type { Table } from 'apache-arrow';
import { defineStage } from '../define-stage.ts';
import { writeJson } from '../json-io.ts';
import { numericColumn, numericColumnNames, readTable, replaceColumns, requireTarget, writeTable } from '../table-io.ts';

const params = z.strictObject({
  /** Columns to scale. @defaultValue every numeric column except the target */
  columns: z.array(z.string().min(1)).min(1).optional(),
});

/** What `preprocess.standardize@1` learned from the training set; applied unchanged to any table. */
export interface StandardScaler {
  kind: 'standard_scaler';
  columns: string[];
  means: number[];
  /** Population standard deviations (ddof = 0, as scikit-learn's StandardScaler); 1 for constant columns. */
  stds: number[];
}

/** Fits means and standard deviations on `table`, ignoring missing values. */
export function fitStandardScaler(table: Table, columns: readonly string[]): StandardScaler {
  const means: number[] = [];
  const stds: number[] = [];
  for (const name of columns) {
    const values = numericColumn(table, name).filter((v): v is number => v !== null);
    if (values.length === 0) {
      throw StageError.nonRetryable('PW_ERR_BAD_DATA', `column ${name} has no values to fit a scaler on`, { column: name });
    }
    // Two passes: the textbook one-pass formula loses precision on large, tightly spread values.
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length;
    const std = Math.sqrt(variance);
    means.push(mean);
    // A constant column would divide by zero; scikit-learn leaves it centred but unscaled.
    stds.push(std > 10 * Number.EPSILON * Math.max(1, Math.abs(mean)) ? std : 1);
  }
  return { kind: 'standard_scaler', columns: [...columns], means, stds };
}

/** Returns `table` with the scaler's columns replaced by (x - mean) / std; missing stays missing. */
export function applyStandardScaler(table: Table, scaler: StandardScaler): Table {
  const replacements = new Map<string, (number | null)[]>();
  scaler.columns.forEach((name, j) => {
    const mean = scaler.means[j]!;
    const std = scaler.stds[j]!;
    replacements.set(
      name,
      numericColumn(table, name).map((v) => (v === null ? null : (v - mean) / std)),
    );
  });
  return replaceColumns(table, replacements);
}

export const preprocessStandardizeStage = defineStage({
  type: 'preprocess.standardize@1',
  description:
    'Scales numeric feature columns to zero mean and unit variance. Means and standard deviations are ' +
    'fitted on the train table only and applied to both, so nothing about the test rows leaks into training.',
  inputs: { train: 'table', test: 'table' },
  outputs: { train: 'table', test: 'table', scaler: 'json' },
  params,
  defaultTimeoutMs: 10 * 60_000,
  async run(ctx) {
    const trainRef = ctx.inputs.train!;
    const testRef = ctx.inputs.test!;
    const train = await readTable(ctx.store, trainRef);
    const test = await readTable(ctx.store, testRef);
    const target = requireTarget(train, trainRef);
    const columns = ctx.params.columns ?? numericColumnNames(train, [target]);
    if (columns.includes(target)) {
      throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', `refusing to scale the target column ${target}`);
    }
    if (columns.length === 0) {
      throw StageError.nonRetryable('PW_ERR_BAD_DATA', 'the train table has no numeric feature columns to scale');
    }
    const scaler = fitStandardScaler(train, columns);
    ctx.signal.throwIfAborted();
    const scaled = { target, metadata: { standardized: columns } };
    return {
      outputs: {
        train: await writeTable(ctx.store, applyStandardScaler(train, scaler), scaled),
        test: await writeTable(ctx.store, applyStandardScaler(test, scaler), scaled),
        scaler: await writeJson(ctx.store, { ...scaler, fittedOn: trainRef.digest }, { kind: scaler.kind, columns }),
      },
    };
  },
});
