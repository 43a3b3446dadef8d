import { DataType } from 'apache-arrow';
import type { Table } from 'apache-arrow';
import { z } from 'zod';
import { StageError } from '@pipewright/core';
import { defineStage } from '../define-stage.ts';
import { isNumericColumnType, isTextColumnType, readCategorical, readNumeric } from '../column-values.ts';
import { writeJson } from '../json-io.ts';
import { readTable } from '../table-io.ts';

const column = z.string().min(1);
const columnType = z.enum(['numeric', 'text', 'timestamp', 'boolean']);

/** One expectation; `expect` names the kind. */
export const expectationSchema = z.discriminatedUnion('expect', [
  z.strictObject({ expect: z.literal('column_exists'), column }),
  z.strictObject({ expect: z.literal('column_type'), column, type: columnType }),
  /** At most `maxNullFraction` of the rows missing (null, or NaN in a float column). */
  z.strictObject({ expect: z.literal('not_null'), column, maxNullFraction: z.number().min(0).max(1).default(0) }),
  /** Every present value within [min, max] (or the open side with `strict…`); missing values are not judged. */
  z
    .strictObject({
      expect: z.literal('range'),
      column,
      min: z.number().optional(),
      max: z.number().optional(),
      strictMin: z.boolean().default(false),
      strictMax: z.boolean().default(false),
    })
    .refine((e) => e.min !== undefined || e.max !== undefined, { error: 'give min, max or both' }),
  /** Every present value is one of `values`; missing values are not judged. */
  z.strictObject({ expect: z.literal('allowed_values'), column, values: z.array(z.union([z.string(), z.number()])).min(1).max(100_000) }),
  /** No two rows share the value (or the combination of `columns`); rows with a missing key are not judged. */
  z
    .strictObject({ expect: z.literal('unique'), column: column.optional(), columns: z.array(column).min(1).optional() })
    .refine((e) => (e.column === undefined) !== (e.columns === undefined), { error: 'give column or columns' }),
  z
    .strictObject({ expect: z.literal('row_count'), min: z.int().min(0).optional(), max: z.int().min(0).optional() })
    .refine((e) => e.min !== undefined || e.max !== undefined, { error: 'give min, max or both' }),
]);
export type Expectation = z.output<typeof expectationSchema>;

const params = z.strictObject({
  expectations: z.array(expectationSchema).min(1).max(10_000),
});

/** One expectation's outcome. */
export interface ExpectationResult {
  /** Position in `expectations`. */
  index: number;
  expectation: Expectation;
  success: boolean;
  /** What was measured: type, null count, min/max, row count, … */
  observed: Record<string, unknown>;
  /** Rows that broke it (for per-row expectations). */
  unexpectedCount?: number;
  /** Up to five of them, with their values. */
  examples?: { row: number; value: unknown }[];
}

/** The `report` output, and the `details` of the failure when an expectation breaks. */
export interface ExpectationsReport {
  kind: 'expectations_report';
  success: boolean;
  rows: number;
  evaluated: number;
  failed: number;
  results: ExpectationResult[];
}

const MAX_EXAMPLES = 5;

function typeName(type: DataType): 'numeric' | 'text' | 'timestamp' | 'boolean' | string {
  if (DataType.isBool(type)) return 'boolean';
  if (isNumericColumnType(type)) return 'numeric';
  if (isTextColumnType(type)) return 'text';
  if (DataType.isTimestamp(type) || DataType.isDate(type)) return 'timestamp';
  return String(type);
}

/** Missing flags of a column: null, or NaN in a float column. */
function missingMask(table: Table, name: string): Uint8Array {
  const vector = table.getChild(name)!;
  const mask = new Uint8Array(vector.length);
  if (isNumericColumnType(vector.type)) {
    const values = readNumeric(table, name);
    for (let i = 0; i < values.length; i++) mask[i] = values[i] !== values[i] ? 1 : 0;
  } else if (vector.nullCount > 0) {
    for (let i = 0; i < vector.length; i++) mask[i] = vector.isValid(i) ? 0 : 1;
  }
  return mask;
}

/** Evaluates every expectation against `table`; never throws for a data problem. */
export function evaluateExpectations(table: Table, expectations: readonly Expectation[]): ExpectationsReport {
  const rows = table.numRows;
  const results = expectations.map((expectation, index): ExpectationResult => {
    const result = (success: boolean, observed: Record<string, unknown>, extra: Partial<ExpectationResult> = {}): ExpectationResult => ({
      index,
      expectation,
      success,
      observed,
      ...extra,
    });
    if (expectation.expect === 'row_count') {
      const ok = (expectation.min === undefined || rows >= expectation.min) && (expectation.max === undefined || rows <= expectation.max);
      return result(ok, { rows });
    }
    const names = expectation.expect === 'unique' ? (expectation.columns ?? [expectation.column!]) : [expectation.column];
    const absent = names.filter((n) => table.getChild(n) === null);
    if (absent.length > 0) return result(false, { missingColumns: absent });
    const name = names[0]!;
    const type = table.getChild(name)!.type;
    switch (expectation.expect) {
      case 'column_exists':
        return result(true, { type: typeName(type) });
      case 'column_type':
        return result(typeName(type) === expectation.type, { type: typeName(type) });
      case 'not_null': {
        const mask = missingMask(table, name);
        const examples: { row: number; value: unknown }[] = [];
        let missing = 0;
        for (let i = 0; i < rows; i++) {
          if (mask[i]) {
            missing++;
            if (examples.length < MAX_EXAMPLES) examples.push({ row: i, value: null });
          }
        }
        const fraction = rows === 0 ? 0 : missing / rows;
        return result(fraction <= expectation.maxNullFraction, { nullCount: missing, nullFraction: fraction }, { unexpectedCount: missing, examples });
      }
      case 'range': {
        if (!isNumericColumnType(type)) return result(false, { type: typeName(type), reason: 'not numeric' });
        const values = readNumeric(table, name);
        const { min, max, strictMin, strictMax } = expectation;
        let observedMin = Infinity;
        let observedMax = -Infinity;
        let bad = 0;
        const examples: { row: number; value: unknown }[] = [];
        for (let i = 0; i < values.length; i++) {
          const v = values[i]!;
          if (v !== v) continue;
          if (v < observedMin) observedMin = v;
          if (v > observedMax) observedMax = v;
          const below = min !== undefined && (strictMin ? v <= min : v < min);
          const above = max !== undefined && (strictMax ? v >= max : v > max);
          if (below || above) {
            bad++;
            if (examples.length < MAX_EXAMPLES) examples.push({ row: i, value: v });
          }
        }
        const observed = observedMin === Infinity ? { min: null, max: null } : { min: observedMin, max: observedMax };
        return result(bad === 0, observed, { unexpectedCount: bad, examples });
      }
      case 'allowed_values': {
        if (!isNumericColumnType(type) && !isTextColumnType(type)) return result(false, { type: typeName(type), reason: 'not numeric or text' });
        const allowed = new Set<string | number>(expectation.values);
        const values = readCategorical(table, name);
        let bad = 0;
        const examples: { row: number; value: unknown }[] = [];
        const distinctBad = new Set<string | number>();
        for (let i = 0; i < values.length; i++) {
          const v = values[i]!;
          if (v === null || allowed.has(v)) continue;
          bad++;
          if (distinctBad.size < 20) distinctBad.add(v);
          if (examples.length < MAX_EXAMPLES) examples.push({ row: i, value: v });
        }
        return result(bad === 0, { unexpectedValues: [...distinctBad] }, { unexpectedCount: bad, examples });
      }
      case 'unique': {
        const keys = names.map((n) => readCategorical(table, n));
        const firstRow = new Map<string | number, number>();
        let duplicates = 0;
        const examples: { row: number; value: unknown }[] = [];
        for (let i = 0; i < rows; i++) {
          let key: string | number;
          if (keys.length === 1) {
            const v = keys[0]![i]!;
            if (v === null) continue;
            // Numbers and their text spellings must not collide: prefix text.
            key = typeof v === 'number' ? v : `s${v}`;
          } else {
            const parts = keys.map((k) => k[i]!);
            if (parts.some((v) => v === null)) continue;
            key = JSON.stringify(parts);
          }
          if (firstRow.has(key)) {
            duplicates++;
            if (examples.length < MAX_EXAMPLES) examples.push({ row: i, value: keys.length === 1 ? keys[0]![i] : keys.map((k) => k[i]) });
          } else firstRow.set(key, i);
        }
        return result(duplicates === 0, { distinct: firstRow.size }, { unexpectedCount: duplicates, examples });
      }
    }
  });
  const failed = results.filter((r) => !r.success).length;
  return { kind: 'expectations_report', success: failed === 0, rows, evaluated: results.length, failed, results };
}

function describe(result: ExpectationResult): string {
  const e = result.expectation;
  const target = e.expect === 'row_count' ? 'table' : e.expect === 'unique' ? (e.columns ?? [e.column]).join('+') : e.column;
  const count = result.unexpectedCount !== undefined ? ` (${result.unexpectedCount} rows)` : '';
  return `${e.expect} on ${target}${count}`;
}

export const validateExpectationsStage = defineStage({
  type: 'validate.expectations@1',
  description:
    'Checks a table against expectations (column types, missing values, ranges, allowed values, uniqueness, ' +
    'row count) and passes it through unchanged with a report. When any expectation breaks, the stage fails ' +
    'without retry (PW_ERR_BAD_DATA) and the failure carries the full report.',
  inputs: { data: 'table' },
  outputs: { data: 'table', report: 'json' },
  params,
  defaultTimeoutMs: 10 * 60_000,
  async run(ctx) {
    const dataRef = ctx.inputs.data!;
    const table = await readTable(ctx.store, dataRef);
    const report = evaluateExpectations(table, ctx.params.expectations);
    if (!report.success) {
      const broken = report.results.filter((r) => !r.success);
      throw StageError.nonRetryable(
        'PW_ERR_BAD_DATA',
        `${report.failed} of ${report.evaluated} expectations failed: ${broken.slice(0, 5).map(describe).join('; ')}${broken.length > 5 ? '; …' : ''}`,
        report,
      );
    }
    ctx.logger.info('all expectations met', { evaluated: report.evaluated, rows: report.rows });
    return {
      outputs: {
        data: dataRef,
        report: await writeJson(ctx.store, { ...report, data: dataRef.digest }, { kind: report.kind, success: true }),
      },
      metrics: { expectations: report.evaluated, expectations_failed: 0 },
    };
  },
});
