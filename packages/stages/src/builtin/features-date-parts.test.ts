import { makeData, TimestampMillisecond } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTable } from '../column-data.ts';
import { StageTestEnvironment } from '../testing/stage-test-environment.ts';
import { numericColumn, readTable, tableFromColumns, tableTarget, TARGET_METADATA_KEY, writeTable } from '../table-io.ts';
import { daysFromCivil, featuresDatePartsStage } from './features-date-parts.ts';

let env: StageTestEnvironment;
beforeAll(async () => {
  env = await StageTestEnvironment.create();
});
afterAll(async () => {
  await env.dispose();
});

/** Parts the slow way, with Date, for comparison. */
function reference(ms: number) {
  const d = new Date(ms);
  const start = Date.UTC(d.getUTCFullYear(), 0, 1);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    weekday: (d.getUTCDay() + 6) % 7,
    hour: d.getUTCHours(),
    dayofyear: Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - start) / 86_400_000) + 1,
  };
}

describe('features.date_parts@1', () => {
  it('extracts parts of ISO text (wall clock, offsets ignored) and drops the source', async () => {
    const t = tableFromColumns(
      [
        { name: 'when', kind: 'utf8', values: ['2024-02-29', '2023-12-31T23:59:59Z', '2000-03-01 07:30', null, '1999-01-04T10:00:00.123+05:30', ' '] },
        { name: 'y', kind: 'float64', values: [0, 1, 0, 1, 0, 1] },
      ],
      'y',
    );
    const data = await writeTable(env.store, t);
    const run = await env.run(featuresDatePartsStage, { params: { columns: ['when'] }, inputs: { data } });
    const out = await readTable(env.store, run.outputs.data!);
    expect(out.schema.names).toEqual(['when_year', 'when_month', 'when_day', 'when_weekday', 'when_hour', 'when_dayofyear', 'y']);
    expect(tableTarget(out)).toBe('y');
    expect(numericColumn(out, 'when_year')).toEqual([2024, 2023, 2000, null, 1999, null]);
    expect(numericColumn(out, 'when_month')).toEqual([2, 12, 3, null, 1, null]);
    expect(numericColumn(out, 'when_day')).toEqual([29, 31, 1, null, 4, null]);
    // 2024-02-29 Thursday, 2023-12-31 Sunday, 2000-03-01 Wednesday, 1999-01-04 Monday.
    expect(numericColumn(out, 'when_weekday')).toEqual([3, 6, 2, null, 0, null]);
    expect(numericColumn(out, 'when_hour')).toEqual([0, 23, 7, null, 10, null]);
    expect(numericColumn(out, 'when_dayofyear')).toEqual([60, 365, 61, null, 4, null]);
  });

  it('extracts parts of timestamp columns in UTC, matching Date over four centuries', async () => {
    const instants: number[] = [];
    for (let ms = Date.UTC(1850, 0, 1); ms < Date.UTC(2250, 0, 1); ms += 86_400_000 * 7.3 + 3_600_000 * 5) instants.push(ms);
    instants.push(Date.UTC(1969, 11, 31, 23, 59, 59, 999), Date.UTC(1970, 0, 1), Date.UTC(2000, 1, 29, 12));
    const ts = makeData({ type: new TimestampMillisecond('UTC'), length: instants.length, nullCount: 0, data: BigInt64Array.from(instants, (v) => BigInt(v)) as never });
    const y = tableFromColumns([{ name: 'y', kind: 'float64', values: instants.map(() => 0) }]);
    const t = buildTable([{ name: 'at', data: ts }, { name: 'y', data: y.getChild('y')!.data[0]! }], new Map([[TARGET_METADATA_KEY, 'y']]));
    const data = await writeTable(env.store, t);
    const run = await env.run(featuresDatePartsStage, { params: { columns: ['at'], dropSource: false }, inputs: { data } });
    const out = await readTable(env.store, run.outputs.data!);
    expect(out.schema.names.slice(0, 2)).toEqual(['at', 'at_year']);
    const parts = ['year', 'month', 'day', 'weekday', 'hour', 'dayofyear'] as const;
    const columns = Object.fromEntries(parts.map((p) => [p, numericColumn(out, `at_${p}`)]));
    instants.forEach((ms, i) => {
      const expected = reference(ms);
      for (const p of parts) if (columns[p]![i] !== expected[p]) expect.fail(`${new Date(ms).toISOString()} ${p}: ${columns[p]![i]} != ${expected[p]}`);
    });
    expect(daysFromCivil(1970, 1, 1)).toBe(0);
    expect(daysFromCivil(2000, 3, 1)).toBe(11017);
  });

  it('refuses text that is not an ISO date, numeric columns and the target', async () => {
    const t = tableFromColumns(
      [
        { name: 'when', kind: 'utf8', values: ['2024-02-30', '2024-01-01'] },
        { name: 'n', kind: 'float64', values: [1, 2] },
        { name: 'y', kind: 'utf8', values: ['2024-01-01', '2024-01-02'] },
      ],
      'y',
    );
    const data = await writeTable(env.store, t);
    await expect(env.run(featuresDatePartsStage, { params: { columns: ['when'] }, inputs: { data } })).rejects.toMatchObject({
      code: 'PW_ERR_BAD_DATA',
      message: expect.stringMatching(/2024-02-30/),
    });
    await expect(env.run(featuresDatePartsStage, { params: { columns: ['n'] }, inputs: { data } })).rejects.toMatchObject({ code: 'PW_ERR_BAD_DATA' });
    await expect(env.run(featuresDatePartsStage, { params: { columns: ['y'] }, inputs: { data } })).rejects.toMatchObject({ code: 'PW_ERR_BAD_PARAMS' });
    const run = await env.run(featuresDatePartsStage, { params: { columns: ['y'], parts: ['month'] }, inputs: { data: await writeTable(env.store, t, { target: 'n' }) } });
    expect(numericColumn(await readTable(env.store, run.outputs.data!), 'y_month')).toEqual([1, 1]);
  });
});
