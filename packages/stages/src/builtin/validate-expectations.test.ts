import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StageError } from '@pipewright/core';
import { readJson } from '../json-io.ts';
import { StageTestEnvironment } from '../testing/stage-test-environment.ts';
import { tableFromColumns, writeTable } from '../table-io.ts';
import { loadSklearnFixture } from './fixtures/sklearn-fixture.ts';
import { evaluateExpectations, expectationSchema, validateExpectationsStage } from './validate-expectations.ts';
import type { Expectation, ExpectationsReport } from './validate-expectations.ts';

// Real data: the wine training split of the scikit-learn fixtures.
const { scale } = loadSklearnFixture<{ scale: { columns: string[]; train: Record<string, (number | null)[]> } }>('sklearn-preprocess');
const alcohol = scale.train['alcohol']!;
const magnesium = scale.train['magnesium']!;

let env: StageTestEnvironment;
beforeAll(async () => {
  env = await StageTestEnvironment.create();
});
afterAll(async () => {
  await env.dispose();
});

const rows = alcohol.length;
function table() {
  return tableFromColumns(
    [
      { name: 'id', kind: 'utf8', values: Array.from({ length: rows }, (_, i) => `w${i}`) },
      { name: 'alcohol', kind: 'float64', values: alcohol },
      { name: 'magnesium', kind: 'float64', values: magnesium },
      // Missing in rows 3, 17 and 40 (the fixture's holes).
      { name: 'malic_acid', kind: 'float64', values: scale.train['malic_acid']! },
      { name: 'cellar', kind: 'utf8', values: Array.from({ length: rows }, (_, i) => ['north', 'south', 'east'][i % 3]!) },
      { name: 'class', kind: 'float64', values: Array.from({ length: rows }, (_, i) => i % 3) },
    ],
    'class',
  );
}
const parse = (list: unknown[]): Expectation[] => list.map((e) => expectationSchema.parse(e));

const passing = [
  { expect: 'row_count', min: 100, max: 200 },
  { expect: 'column_exists', column: 'cellar' },
  { expect: 'column_type', column: 'alcohol', type: 'numeric' },
  { expect: 'column_type', column: 'id', type: 'text' },
  { expect: 'not_null', column: 'alcohol' },
  { expect: 'not_null', column: 'malic_acid', maxNullFraction: 0.05 },
  { expect: 'range', column: 'alcohol', min: 11, max: 15 },
  { expect: 'allowed_values', column: 'cellar', values: ['north', 'south', 'east'] },
  { expect: 'allowed_values', column: 'class', values: [0, 1, 2] },
  { expect: 'unique', column: 'id' },
  { expect: 'unique', columns: ['id', 'cellar'] },
];

describe('validate.expectations@1', () => {
  it('passes the table through with a report when every expectation holds', async () => {
    const data = await writeTable(env.store, table());
    const run = await env.run(validateExpectationsStage, { params: { expectations: passing }, inputs: { data } });
    expect(run.outputs.data).toEqual(data);
    const report = await readJson<ExpectationsReport>(env.store, run.outputs.report!);
    expect(report).toMatchObject({ kind: 'expectations_report', success: true, rows, evaluated: passing.length, failed: 0 });
    expect(report.results[5]!.observed).toEqual({ nullCount: 3, nullFraction: 3 / rows });
    expect(report.results[6]!.observed).toEqual({ min: Math.min(...(alcohol as number[])), max: Math.max(...(alcohol as number[])) });
    expect(run.metrics).toEqual({ expectations: passing.length, expectations_failed: 0 });
  });

  it('fails without retry, with the full report as details, when any expectation breaks', async () => {
    const data = await writeTable(env.store, table());
    const breaking = [
      ...passing,
      { expect: 'range', column: 'magnesium', max: 120, strictMax: true },
      { expect: 'not_null', column: 'malic_acid' },
      { expect: 'allowed_values', column: 'cellar', values: ['north', 'south'] },
      { expect: 'unique', column: 'cellar' },
      { expect: 'column_type', column: 'cellar', type: 'numeric' },
      { expect: 'column_exists', column: 'vintage' },
      { expect: 'row_count', max: 10 },
    ];
    const failure = await env.run(validateExpectationsStage, { params: { expectations: breaking }, inputs: { data } }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StageError);
    const error = failure as StageError;
    expect(error).toMatchObject({ code: 'PW_ERR_BAD_DATA', retryable: false });
    expect(error.message).toMatch(/^7 of 18 expectations failed: range on magnesium/);
    const report = error.details as ExpectationsReport;
    expect(report.success).toBe(false);
    expect(report.results.map((r) => r.success)).toEqual([...passing.map(() => true), false, false, false, false, false, false, false]);
    const range = report.results[passing.length]!;
    const over = (magnesium as number[]).map((v, i) => [v, i] as const).filter(([v]) => v >= 120);
    expect(range.unexpectedCount).toBe(over.length);
    expect(range.examples).toEqual(over.slice(0, 5).map(([value, row]) => ({ row, value })));
    expect(report.results[passing.length + 1]!.examples).toEqual([3, 17, 40].map((row) => ({ row, value: null })));
    expect(report.results[passing.length + 2]!.observed).toEqual({ unexpectedValues: ['east'] });
    expect(report.results[passing.length + 3]!.unexpectedCount).toBe(rows - 3);
    expect(report.results[passing.length + 4]!.observed).toEqual({ type: 'text' });
    expect(report.results[passing.length + 5]!.observed).toEqual({ missingColumns: ['vintage'] });
    expect(report.results[passing.length + 6]!.observed).toEqual({ rows });
    // The failure (and so its details) must survive the trip through JSON into the run's record.
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('judges missing values only in not_null, and does not confuse numbers with their spellings', () => {
    const t = tableFromColumns(
      [
        { name: 'code', kind: 'utf8', values: ['1', null, 'x'] },
        { name: 'n', kind: 'float64', values: [1, null, Number.NaN] },
        { name: 'y', kind: 'float64', values: [0, 1, 0] },
      ],
      'y',
    );
    const report = evaluateExpectations(
      t,
      parse([
        { expect: 'range', column: 'n', min: 0, max: 2 },
        { expect: 'allowed_values', column: 'code', values: ['1', 'x'] },
        { expect: 'allowed_values', column: 'code', values: [1, 'x'] },
        { expect: 'unique', column: 'code' },
        { expect: 'not_null', column: 'n', maxNullFraction: 0.5 },
        { expect: 'range', column: 'code', min: 0 },
      ]),
    );
    expect(report.results.map((r) => r.success)).toEqual([true, true, false, true, false, false]);
    expect(report.results[4]!.observed).toEqual({ nullCount: 2, nullFraction: 2 / 3 });
  });

  it('has strict params', () => {
    expect(validateExpectationsStage.params.safeParse({ expectations: [] }).success).toBe(false);
    expect(validateExpectationsStage.params.safeParse({ expectations: [{ expect: 'range', column: 'a' }] }).success).toBe(false);
    expect(validateExpectationsStage.params.safeParse({ expectations: [{ expect: 'nope', column: 'a' }] }).success).toBe(false);
    expect(validateExpectationsStage.params.safeParse({ expectations: [{ expect: 'not_null', column: 'a', extra: 1 }] }).success).toBe(false);
    expect(validateExpectationsStage.params.safeParse({ expectations: [{ expect: 'unique' }] }).success).toBe(false);
  });
});
