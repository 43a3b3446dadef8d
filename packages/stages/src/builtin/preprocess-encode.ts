import type { Table } from 'apache-arrow';
import { z } from 'zod';
import { StageError } from '@pipewright/core';
import { defineStage } from '../define-stage.ts';
import { buildTable, float32Data, float64Data, keptColumn } from '../column-data.ts';
import type { NamedColumn } from '../column-data.ts';
import { isNumericColumnType, readCategorical } from '../column-values.ts';
import { compareCodePoints } from '../compare-code-points.ts';
import { readTrainTest, selectColumns } from '../fitted-stage-io.ts';
import { writeJson } from '../json-io.ts';
import { writeTable } from '../table-io.ts';

const params = z.strictObject({
  /**
   * `onehot`: one 0/1 column per category (`<column>_<category>`), unknown categories all zeros
   * (scikit-learn's `handle_unknown='ignore'`). `ordinal`: the category's index in sorted order,
   * unknown categories -1 (`handle_unknown='use_encoded_value', unknown_value=-1`).
   */
  method: z.enum(['onehot', 'ordinal']).default('onehot'),
  /** Columns to encode. @defaultValue every text column except the target */
  columns: z.array(z.string().min(1)).min(1).optional(),
  /** One-hot refuses a column with more categories than this (an id column, most likely). */
  maxCategories: z.int().min(2).max(100_000).default(1000),
});

type Category = string | number;

/** One encoded column. */
export interface EncodedColumn {
  name: string;
  /** Sorted as scikit-learn sorts them: numbers by value, text by code point. */
  categories: Category[];
  /** Whether the train table had missing values (one-hot gives them their own `<name>_nan` column, as scikit-learn does). */
  missingCategory: boolean;
  /** The columns that replace this one, in order. */
  outputs: string[];
}

/** What `preprocess.encode@1` learned from the train table. */
export interface CategoryEncoder {
  kind: 'onehot_encoder' | 'ordinal_encoder';
  columns: EncodedColumn[];
}

/** Fits sorted categories per column on `table`. */
export function fitEncoder(table: Table, columns: readonly string[], method: 'onehot' | 'ordinal', maxCategories: number): CategoryEncoder {
  const encoded = columns.map((name): EncodedColumn => {
    const values = readCategorical(table, name);
    const seen = new Set<Category>();
    let missing = false;
    for (const v of values) {
      if (v === null) missing = true;
      else seen.add(v);
    }
    const numeric = isNumericColumnType(table.schema.fields.find((f) => f.name === name)!.type);
    const categories = [...seen].sort(numeric ? (a, b) => (a as number) - (b as number) : (a, b) => compareCodePoints(a as string, b as string));
    if (method === 'onehot' && categories.length > maxCategories) {
      throw StageError.nonRetryable(
        'PW_ERR_BAD_DATA',
        `column ${name} has ${categories.length} categories, more than maxCategories ${maxCategories}; use ordinal encoding or drop it`,
        { column: name, categories: categories.length, maxCategories },
      );
    }
    const missingCategory = method === 'onehot' && missing;
    const outputs =
      method === 'ordinal' ? [name] : [...categories.map((c) => `${name}_${String(c)}`), ...(missingCategory ? [`${name}_nan`] : [])];
    return { name, categories, missingCategory, outputs };
  });
  return { kind: method === 'onehot' ? 'onehot_encoder' : 'ordinal_encoder', columns: encoded };
}

/**
 * Returns `table` with each encoded column replaced, in place, by its output columns. One-hot
 * columns are Float32 (0 and 1 are exact, at half the memory); ordinal codes are Float64 with
 * missing values kept missing.
 */
export function applyEncoder(table: Table, encoder: CategoryEncoder): { table: Table; unknown: number } {
  const byName = new Map(encoder.columns.map((c) => [c.name, c]));
  const rows = table.numRows;
  let unknown = 0;
  const out: NamedColumn[] = [];
  for (const field of table.schema.fields) {
    const spec = byName.get(field.name);
    if (spec === undefined) {
      out.push(keptColumn(table, field.name));
      continue;
    }
    const index = new Map<Category, number>(spec.categories.map((c, k) => [c, k]));
    const values = readCategorical(table, field.name);
    if (encoder.kind === 'ordinal_encoder') {
      const codes = new Float64Array(rows);
      for (let i = 0; i < rows; i++) {
        const v = values[i]!;
        if (v === null) codes[i] = Number.NaN;
        else {
          const k = index.get(v);
          if (k === undefined) unknown++;
          codes[i] = k ?? -1;
        }
      }
      out.push({ name: field.name, data: float64Data(codes) });
      continue;
    }
    const indicators = spec.outputs.map(() => new Float32Array(rows));
    const missingColumn = spec.missingCategory ? indicators[indicators.length - 1] : undefined;
    for (let i = 0; i < rows; i++) {
      const v = values[i]!;
      if (v === null) {
        if (missingColumn) missingColumn[i] = 1;
        continue;
      }
      const k = index.get(v);
      if (k === undefined) unknown++;
      else indicators[k]![i] = 1;
    }
    spec.outputs.forEach((name, k) => out.push({ name, data: float32Data(indicators[k]!) }));
  }
  const names = new Set<string>();
  for (const column of out) {
    if (names.has(column.name)) {
      throw StageError.nonRetryable('PW_ERR_BAD_DATA', `encoding would create column ${column.name}, which already exists`, { column: column.name });
    }
    names.add(column.name);
  }
  return { table: buildTable(out, table.schema.metadata, rows), unknown };
}

export const preprocessEncodeStage = defineStage({
  type: 'preprocess.encode@1',
  description:
    'Encodes categorical columns one-hot (unknown categories all zeros) or as ordinal codes (unknown -1). ' +
    'Categories are fitted on the train table only, sorted as scikit-learn sorts them.',
  inputs: { train: 'table', test: 'table' },
  outputs: { train: 'table', test: 'table', encoder: 'json' },
  params,
  defaultTimeoutMs: 10 * 60_000,
  async run(ctx) {
    const { train, test, trainRef, target } = await readTrainTest(ctx);
    const columns = selectColumns([train, test], target, ctx.params.columns, ctx.params.columns === undefined ? 'text' : 'any');
    if (columns.length === 0) throw StageError.nonRetryable('PW_ERR_BAD_DATA', 'there are no categorical (text) columns to encode');
    for (const name of columns) {
      const kinds = [train, test].map((t) => isNumericColumnType(t.schema.fields.find((f) => f.name === name)!.type));
      if (kinds[0] !== kinds[1]) throw StageError.nonRetryable('PW_ERR_BAD_DATA', `column ${name} is numeric in one table and not in the other`, { column: name });
    }
    const encoder = fitEncoder(train, columns, ctx.params.method, ctx.params.maxCategories);
    ctx.signal.throwIfAborted();
    const outTrain = applyEncoder(train, encoder);
    const outTest = applyEncoder(test, encoder);
    const metadata = { encoded: columns, method: ctx.params.method };
    return {
      outputs: {
        train: await writeTable(ctx.store, outTrain.table, { target, metadata }),
        test: await writeTable(ctx.store, outTest.table, { target, metadata }),
        encoder: await writeJson(ctx.store, { ...encoder, fittedOn: trainRef.digest }, { kind: encoder.kind, columns }),
      },
      metrics: {
        columns_out: outTrain.table.numCols,
        unknown_test: outTest.unknown,
      },
    };
  },
});
