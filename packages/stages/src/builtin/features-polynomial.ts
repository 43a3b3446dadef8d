import type { Table } from 'apache-arrow';
import { z } from 'zod';
import { StageError } from '@pipewright/core';
import { defineStage } from '../define-stage.ts';
import { buildTable, float64Data, keptColumn } from '../column-data.ts';
import type { NamedColumn } from '../column-data.ts';
import { readNumeric } from '../column-values.ts';
import { readTrainTest, selectColumns } from '../fitted-stage-io.ts';
import { writeJson } from '../json-io.ts';
import { writeTable } from '../table-io.ts';

const params = z.strictObject({
  /** Highest total degree of a term. */
  degree: z.int().min(2).max(3).default(2),
  /** Only products of distinct columns (a*b, not a^2). */
  interactionOnly: z.boolean().default(false),
  /** Add a constant column named `1` (scikit-learn's default; most models have their own intercept). */
  includeBias: z.boolean().default(false),
  /** Columns to expand. @defaultValue every numeric column except the target */
  columns: z.array(z.string().min(1)).min(1).optional(),
  /** Refuse an expansion wider than this (50 columns at degree 3 already make 23,425). */
  maxOutputColumns: z.int().min(1).max(100_000).default(10_000),
});

/** The `features` output: which terms were made from which columns. */
export interface PolynomialFeatures {
  kind: 'polynomial_features';
  inputColumns: string[];
  degree: number;
  interactionOnly: boolean;
  includeBias: boolean;
  /** As scikit-learn's get_feature_names_out: `1`, `a`, `a^2`, `a b`, … */
  outputColumns: string[];
  /** powers[t][j]: exponent of input column j in term t (PolynomialFeatures.powers_). */
  powers: number[][];
}

/**
 * The terms in PolynomialFeatures' order: by degree, then as itertools'
 * combinations(_with_replacement) of column indices.
 */
export function polynomialTerms(n: number, degree: number, interactionOnly: boolean, includeBias: boolean): number[][] {
  const terms: number[][] = includeBias ? [[]] : [];
  const extend = (prefix: number[], from: number, left: number): void => {
    if (left === 0) {
      terms.push(prefix);
      return;
    }
    for (let j = from; j < n; j++) extend([...prefix, j], interactionOnly ? j + 1 : j, left - 1);
  };
  for (let d = 1; d <= degree; d++) extend([], 0, d);
  return terms;
}

/** scikit-learn's feature name of a term: `a^2 b`, or `1` for the bias. */
export function termName(term: readonly number[], names: readonly string[]): string {
  if (term.length === 0) return '1';
  const parts: string[] = [];
  for (let k = 0; k < term.length; ) {
    let e = 1;
    while (k + e < term.length && term[k + e] === term[k]) e++;
    parts.push(e === 1 ? names[term[k]!]! : `${names[term[k]!]!}^${e}`);
    k += e;
  }
  return parts.join(' ');
}

export function describePolynomial(columns: readonly string[], p: { degree: number; interactionOnly: boolean; includeBias: boolean }): PolynomialFeatures {
  const terms = polynomialTerms(columns.length, p.degree, p.interactionOnly, p.includeBias);
  return {
    kind: 'polynomial_features',
    inputColumns: [...columns],
    degree: p.degree,
    interactionOnly: p.interactionOnly,
    includeBias: p.includeBias,
    outputColumns: terms.map((t) => termName(t, columns)),
    powers: terms.map((t) => {
      const row = new Array<number>(columns.length).fill(0);
      for (const j of t) row[j]!++;
      return row;
    }),
  };
}

/**
 * Returns `table` with the input columns replaced, where the first of them stood, by the terms.
 * A term is computed as scikit-learn does — the term without its first factor, times that
 * factor — so values agree bit for bit. Missing values propagate.
 */
export function applyPolynomial(table: Table, features: PolynomialFeatures): Table {
  const inputs = features.inputColumns.map((name) => readNumeric(table, name));
  const rows = table.numRows;
  const cache = new Map<string, Float64Array>();
  const termValues = (term: readonly number[]): Float64Array => {
    if (term.length === 0) return new Float64Array(rows).fill(1);
    if (term.length === 1) return inputs[term[0]!]!;
    const key = term.join(',');
    let values = cache.get(key);
    if (values === undefined) {
      const rest = termValues(term.slice(1));
      const factor = inputs[term[0]!]!;
      values = new Float64Array(rows);
      for (let i = 0; i < rows; i++) values[i] = rest[i]! * factor[i]!;
      cache.set(key, values);
    }
    return values;
  };
  const block: NamedColumn[] = features.powers.map((row, t) => {
    const term: number[] = [];
    row.forEach((e, j) => {
      for (let k = 0; k < e; k++) term.push(j);
    });
    // float64Data takes ownership and rewrites NaN cells, so hand it a copy of shared arrays.
    return { name: features.outputColumns[t]!, data: float64Data(Float64Array.from(termValues(term))) };
  });
  const inputSet = new Set(features.inputColumns);
  const out: NamedColumn[] = [];
  let placed = false;
  for (const field of table.schema.fields) {
    if (!inputSet.has(field.name)) out.push(keptColumn(table, field.name));
    else if (!placed) {
      out.push(...block);
      placed = true;
    }
  }
  const seen = new Set<string>();
  for (const column of out) {
    if (seen.has(column.name)) {
      throw StageError.nonRetryable('PW_ERR_BAD_DATA', `the expansion would create column ${column.name}, which already exists`, { column: column.name });
    }
    seen.add(column.name);
  }
  return buildTable(out, table.schema.metadata, rows);
}

export const featuresPolynomialStage = defineStage({
  type: 'features.polynomial@1',
  description:
    'Replaces numeric columns by their polynomial and interaction terms up to degree 2 or 3, named and ' +
    'ordered as scikit-learn\'s PolynomialFeatures, in both the train and the test table.',
  inputs: { train: 'table', test: 'table' },
  outputs: { train: 'table', test: 'table', features: 'json' },
  params,
  defaultTimeoutMs: 10 * 60_000,
  async run(ctx) {
    const { train, test, trainRef, target } = await readTrainTest(ctx);
    const columns = selectColumns([train, test], target, ctx.params.columns, 'numeric');
    if (columns.length === 0) throw StageError.nonRetryable('PW_ERR_BAD_DATA', 'the train table has no numeric columns to expand');
    const features = describePolynomial(columns, ctx.params);
    if (features.outputColumns.length > ctx.params.maxOutputColumns) {
      throw StageError.nonRetryable(
        'PW_ERR_BAD_PARAMS',
        `degree ${ctx.params.degree} of ${columns.length} columns makes ${features.outputColumns.length} columns, more than maxOutputColumns ${ctx.params.maxOutputColumns}`,
        { columns: features.outputColumns.length, maxOutputColumns: ctx.params.maxOutputColumns },
      );
    }
    const metadata = { polynomial: { degree: ctx.params.degree, inputs: columns.length, outputs: features.outputColumns.length } };
    const outTrain = applyPolynomial(train, features);
    ctx.signal.throwIfAborted();
    const outTest = applyPolynomial(test, features);
    return {
      outputs: {
        train: await writeTable(ctx.store, outTrain, { target, metadata }),
        test: await writeTable(ctx.store, outTest, { target, metadata }),
        features: await writeJson(ctx.store, { ...features, fittedOn: trainRef.digest }, { kind: features.kind, columns: features.outputColumns.length }),
      },
      metrics: { columns_out: features.outputColumns.length },
    };
  },
});
