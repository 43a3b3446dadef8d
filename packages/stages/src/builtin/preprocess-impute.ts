import type { Table } from 'apache-arrow';
import { z } from 'zod';
import { StageError } from '@pipewright/core';
import { defineStage } from '../define-stage.ts';
import { buildTable, float64Data, keptColumn, utf8Data } from '../column-data.ts';
import { compareCodePoints } from '../compare-code-points.ts';
import type { NamedColumn } from '../column-data.ts';
import { isNumericColumnType, readNumeric, readText } from '../column-values.ts';
import { readTrainTest, selectColumns } from '../fitted-stage-io.ts';
import { writeJson } from '../json-io.ts';
import { meanPresent, medianOfSorted, sortedPresent } from '../quantile.ts';
import { writeTable } from '../table-io.ts';

const strategy = z.enum(['mean', 'median', 'most_frequent', 'constant']);
type Strategy = z.output<typeof strategy>;
const fillValue = z.union([z.number(), z.string()]);

const params = z.strictObject({
  /** How to fill the columns in `columns`. mean and median need numeric columns. */
  strategy: strategy.default('mean'),
  /**
   * Columns filled with `strategy`. @defaultValue every numeric column except the target (every
   * column except the target for most_frequent and constant), minus those in `perColumn`
   */
  columns: z.array(z.string().min(1)).min(1).optional(),
  /** The value of the constant strategy. @defaultValue 0 for numeric columns, "missing_value" for text */
  fillValue: fillValue.optional(),
  /** Column -> its own strategy (and fill value), e.g. `{ income: { strategy: median } }`. */
  perColumn: z.record(z.string().min(1), z.strictObject({ strategy, fillValue: fillValue.optional() })).optional(),
});

/** One column of a fitted imputer. */
export interface ImputedColumn {
  name: string;
  strategy: Strategy;
  /** What replaces a missing value, learned from the train table (or the constant). */
  value: number | string;
  /** Missing values the train table had in this column. */
  missingInTrain: number;
}

/** What `preprocess.impute@1` learned from the train table. */
export interface SimpleImputer {
  kind: 'simple_imputer';
  columns: ImputedColumn[];
}

/**
 * Fits fill values on `table` as scikit-learn's SimpleImputer does: mean and median of the
 * present values; most_frequent is the smallest of the most frequent values (numbers by value,
 * text by code point), so ties resolve the same way.
 */
export function fitImputer(table: Table, plan: readonly { name: string; strategy: Strategy; fillValue?: number | string | undefined }[]): SimpleImputer {
  const columns = plan.map(({ name, strategy, fillValue }): ImputedColumn => {
    const type = table.schema.fields.find((f) => f.name === name)!.type;
    const numeric = isNumericColumnType(type);
    if (!numeric && (strategy === 'mean' || strategy === 'median')) {
      throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', `strategy ${strategy} needs a numeric column; ${name} is ${String(type)}`, { column: name });
    }
    if (strategy === 'constant') {
      const value = fillValue ?? (numeric ? 0 : 'missing_value');
      if (numeric && typeof value !== 'number') {
        throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', `fillValue for the numeric column ${name} must be a number`, { column: name });
      }
      return { name, strategy, value: numeric ? value : String(value), missingInTrain: countMissing(table, name, numeric) };
    }
    if (numeric) {
      const values = readNumeric(table, name);
      if (strategy === 'mean') {
        const { mean, count } = meanPresent(values);
        if (count === 0) throw allMissing(name, strategy);
        return { name, strategy, value: mean, missingInTrain: values.length - count };
      }
      const sorted = sortedPresent(values);
      if (sorted.length === 0) throw allMissing(name, strategy);
      const value = strategy === 'median' ? medianOfSorted(sorted) : modeOfSorted(sorted);
      return { name, strategy, value, missingInTrain: values.length - sorted.length };
    }
    const values = readText(table, name);
    const counts = new Map<string, number>();
    let missingInTrain = 0;
    for (const v of values) {
      if (v === null) missingInTrain++;
      else counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    if (counts.size === 0) throw allMissing(name, strategy);
    let best: string | undefined;
    let bestCount = 0;
    for (const [v, count] of counts) {
      if (count > bestCount || (count === bestCount && compareCodePoints(v, best!) < 0)) {
        best = v;
        bestCount = count;
      }
    }
    return { name, strategy, value: best!, missingInTrain };
  });
  return { kind: 'simple_imputer', columns };
}

/** Returns `table` with the imputer's columns filled; every other column is kept as it is. */
export function applyImputer(table: Table, imputer: SimpleImputer): { table: Table; filled: number } {
  const byName = new Map(imputer.columns.map((c) => [c.name, c]));
  let filled = 0;
  const columns = table.schema.fields.map((field): NamedColumn => {
    const spec = byName.get(field.name);
    if (spec === undefined) return keptColumn(table, field.name);
    if (typeof spec.value === 'number') {
      const values = readNumeric(table, field.name);
      for (let i = 0; i < values.length; i++) {
        if (values[i] !== values[i]) {
          values[i] = spec.value;
          filled++;
        }
      }
      return { name: field.name, data: float64Data(values) };
    }
    const values = readText(table, field.name);
    for (let i = 0; i < values.length; i++) {
      if (values[i] === null) {
        values[i] = spec.value;
        filled++;
      }
    }
    return { name: field.name, data: utf8Data(values) };
  });
  return { table: buildTable(columns, table.schema.metadata, table.numRows), filled };
}

export const preprocessImputeStage = defineStage({
  type: 'preprocess.impute@1',
  description:
    'Fills missing values with the mean, median or most frequent value of each column, or a constant. The ' +
    'fill values are fitted on the train table only and applied to both tables.',
  inputs: { train: 'table', test: 'table' },
  outputs: { train: 'table', test: 'table', imputer: 'json' },
  params,
  defaultTimeoutMs: 10 * 60_000,
  async run(ctx) {
    const { train, test, trainRef, target } = await readTrainTest(ctx);
    const { strategy, fillValue } = ctx.params;
    const perColumn = ctx.params.perColumn ?? {};
    const specific = selectColumns([train, test], target, Object.keys(perColumn).length > 0 ? Object.keys(perColumn) : [], 'any');
    const kind = strategy === 'mean' || strategy === 'median' ? 'numeric' : 'any';
    const general = selectColumns([train, test], target, ctx.params.columns, kind).filter((name) => !specific.includes(name));
    if (ctx.params.columns !== undefined) {
      const both = ctx.params.columns.find((name) => specific.includes(name));
      if (both !== undefined) throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', `column ${both} is in both columns and perColumn`, { column: both });
    }
    const plan = [
      ...general.map((name) => ({ name, strategy, fillValue })),
      ...specific.map((name) => ({ name, strategy: perColumn[name]!.strategy, fillValue: perColumn[name]!.fillValue })),
    ];
    if (plan.length === 0) throw StageError.nonRetryable('PW_ERR_BAD_DATA', 'there are no columns to impute');
    // Test columns must be of the same kind as train's: a fill value fitted on numbers cannot fill text.
    for (const { name } of plan) {
      const trainNumeric = isNumericColumnType(train.schema.fields.find((f) => f.name === name)!.type);
      const testNumeric = isNumericColumnType(test.schema.fields.find((f) => f.name === name)!.type);
      if (trainNumeric !== testNumeric) {
        throw StageError.nonRetryable('PW_ERR_BAD_DATA', `column ${name} is numeric in one table and not in the other`, { column: name });
      }
    }
    const imputer = fitImputer(train, plan);
    ctx.signal.throwIfAborted();
    const outTrain = applyImputer(train, imputer);
    const outTest = applyImputer(test, imputer);
    const metadata = { imputed: imputer.columns.map((c) => c.name) };
    return {
      outputs: {
        train: await writeTable(ctx.store, outTrain.table, { target, metadata }),
        test: await writeTable(ctx.store, outTest.table, { target, metadata }),
        imputer: await writeJson(ctx.store, { ...imputer, fittedOn: trainRef.digest }, { kind: imputer.kind, columns: metadata.imputed }),
      },
      metrics: { filled_train: outTrain.filled, filled_test: outTest.filled, columns: imputer.columns.length },
    };
  },
});

function countMissing(table: Table, name: string, numeric: boolean): number {
  if (numeric) {
    const values = readNumeric(table, name);
    let n = 0;
    for (let i = 0; i < values.length; i++) if (values[i] !== values[i]) n++;
    return n;
  }
  return readText(table, name).filter((v) => v === null).length;
}

function allMissing(name: string, strategy: Strategy): StageError {
  return StageError.nonRetryable(
    'PW_ERR_BAD_DATA',
    `column ${name} has no values in the train table to fit ${strategy} on; drop it or use strategy constant`,
    { column: name },
  );
}

/** The smallest of the most frequent values of sorted numbers (scipy.stats.mode). */
function modeOfSorted(sorted: Float64Array): number {
  let best = sorted[0]!;
  let bestCount = 0;
  let run = 0;
  for (let i = 0; i < sorted.length; i++) {
    run = i > 0 && sorted[i] === sorted[i - 1] ? run + 1 : 1;
    if (run > bestCount) {
      bestCount = run;
      best = sorted[i]!;
    }
  }
  return best;
}
