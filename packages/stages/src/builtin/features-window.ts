import type { Table } from 'apache-arrow';
import { z } from 'zod';
import { StageError } from '@pipewright/core';
import { defineStage } from '../define-stage.ts';
import {
  isNumericType,
  numericColumn,
  numericColumnNames,
  readTable,
  requireColumn,
  tableFromColumns,
  tableTarget,
  writeTable,
} from '../table-io.ts';
import type { ColumnInput } from '../table-io.ts';

export const WINDOW_STATS = ['mean', 'std', 'min', 'max', 'slope', 'last'] as const;
export type WindowStat = (typeof WINDOW_STATS)[number];

const params = z.strictObject({
  /** Column identifying a series (a machine); windows never cross series. @defaultValue one series */
  group: z.string().min(1).optional(),
  /** Column ordering the readings of a series (time, cycle); sorted ascending. */
  order: z.string().min(1),
  /** Sensor columns to summarise. @defaultValue every numeric column but group, order, target and label event */
  columns: z.array(z.string().min(1)).min(1).optional(),
  /** Readings per window: the current one and the `window - 1` before it. */
  window: z.int().min(2).max(10_000),
  stats: z.array(z.enum(WINDOW_STATS)).min(1).default(['mean', 'std', 'min', 'max', 'slope']),
  /** Emit every `step`-th row of a series (the last row always counts from the first full window). */
  step: z.int().min(1).default(1),
  /**
   * Label each window with whether `event` (a 0/1 column, e.g. `failure`) is 1 in one of the
   * next `horizon` readings of the series. Windows whose horizon runs past the end of a series
   * without an event are dropped (whether the machine would have failed is unknown), and so is
   * the reading of an event itself.
   */
  label: z
    .strictObject({
      event: z.string().min(1),
      horizon: z.int().min(1),
      /** Name of the label column, made the table's target. */
      name: z.string().min(1).default('failure_soon'),
    })
    .optional(),
  /** Columns copied through from the window's last reading (ids, timestamps) for joining back. */
  keep: z.array(z.string().min(1)).default([]),
});
export type WindowParams = z.output<typeof params>;

/**
 * Rolling-window features of sensor series, computed from the current and past readings only
 * (so nothing of the future leaks into a row): per column, over the last `window` readings of
 * the same series, the mean, the sample standard deviation (ddof 1, as pandas' rolling std), the
 * min, the max, the least-squares slope per reading, and the last value. Rows without a full
 * window are dropped. Columns are named `<column>_<stat>_w<window>`.
 */
export function windowFeatures(table: Table, p: WindowParams): Table {
  const rows = table.numRows;
  const groupColumn = p.group === undefined ? undefined : requireColumn(table, p.group);
  const orderValues = numericOrder(table, p.order);
  const groupKey = (i: number) => (groupColumn ? String(groupColumn.get(i)) : '');
  const target = tableTarget(table);
  const excluded = new Set([p.group, p.order, target, p.label?.event, ...p.keep].filter((c): c is string => c !== undefined));
  const columns = p.columns ?? numericColumnNames(table).filter((c) => !excluded.has(c));
  if (columns.length === 0) throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', 'no sensor columns to summarise');
  const values = columns.map((name) => {
    const column = numericColumn(table, name);
    const missing = column.findIndex((v) => v === null);
    if (missing >= 0) {
      throw StageError.nonRetryable('PW_ERR_BAD_DATA', `column ${name} has a missing value (row ${missing}); impute before windowing`, { column: name });
    }
    return column as number[];
  });
  const events = p.label ? numericColumn(table, p.label.event) : undefined;

  // Series in order of first appearance; readings sorted by the order column (stable).
  const series = new Map<string, number[]>();
  for (let i = 0; i < rows; i++) {
    const key = groupKey(i);
    const members = series.get(key) ?? [];
    members.push(i);
    series.set(key, members);
  }
  const out: number[] = [];
  const labels: number[] = [];
  for (const members of series.values()) {
    members.sort((a, b) => orderValues[a]! - orderValues[b]! || a - b);
    for (let t = p.window - 1; t < members.length; t += p.step) {
      if (events && p.label) {
        // The reading of the event itself has nothing left to predict.
        if (events[members[t]!] === 1) continue;
        let failed = false;
        for (let h = 1; h <= p.label.horizon && t + h < members.length; h++) {
          if (events[members[t + h]!] === 1) failed = true;
        }
        // Censored: the series ends inside the horizon with no event recorded.
        if (!failed && t + p.label.horizon >= members.length) continue;
        labels.push(failed ? 1 : 0);
      }
      out.push(members[t]!, t);
    }
  }

  const emitted = out.length / 2;
  const rowAt = (k: number) => out[2 * k]!;
  const indexAt = (k: number) => out[2 * k + 1]!;
  const seriesOf = new Map<number, number[]>();
  for (const members of series.values()) for (const i of members) seriesOf.set(i, members);
  const result: ColumnInput[] = [];
  for (const name of p.keep) {
    const column = requireColumn(table, name);
    const numeric = isNumericType(column.type);
    const kept = Array.from({ length: emitted }, (_, k) => {
      const v: unknown = column.get(rowAt(k));
      return v === null || v === undefined ? null : numeric ? Number(v) : String(v);
    });
    result.push(numeric ? { name, kind: 'float64', values: kept as (number | null)[] } : { name, kind: 'utf8', values: kept as (string | null)[] });
  }
  const window = new Float64Array(p.window);
  columns.forEach((name, c) => {
    const features = new Map<WindowStat, Float64Array>(p.stats.map((s) => [s, new Float64Array(emitted)]));
    for (let k = 0; k < emitted; k++) {
      const members = seriesOf.get(rowAt(k))!;
      const t = indexAt(k);
      for (let j = 0; j < p.window; j++) window[j] = values[c]![members[t - p.window + 1 + j]!]!;
      const stats = summarise(window);
      for (const [stat, column] of features) column[k] = stats[stat];
    }
    for (const [stat, column] of features) result.push({ name: `${name}_${stat}_w${p.window}`, kind: 'float64', values: column });
  });
  let newTarget = target !== undefined && p.keep.includes(target) ? target : undefined;
  if (p.label) {
    result.push({ name: p.label.name, kind: 'float64', values: labels });
    newTarget = p.label.name;
  }
  return tableFromColumns(result, newTarget);
}

function summarise(w: Float64Array): Record<WindowStat, number> {
  const n = w.length;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of w) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / n;
  const centre = (n - 1) / 2;
  let squares = 0;
  let covariance = 0;
  let spread = 0;
  for (let j = 0; j < n; j++) {
    const d = w[j]! - mean;
    squares += d * d;
    covariance += (j - centre) * d;
    spread += (j - centre) ** 2;
  }
  return { mean, std: Math.sqrt(squares / (n - 1)), min, max, slope: covariance / spread, last: w[n - 1]! };
}

function numericOrder(table: Table, name: string): Float64Array {
  const column = requireColumn(table, name);
  const out = new Float64Array(column.length);
  for (let i = 0; i < column.length; i++) {
    const v: unknown = column.get(i);
    const n = typeof v === 'string' ? Date.parse(v) : v instanceof Date ? v.getTime() : Number(v);
    if (v === null || v === undefined || Number.isNaN(n)) {
      throw StageError.nonRetryable('PW_ERR_BAD_DATA', `order column ${name} has a missing or unordered value at row ${i}`, { column: name, row: i });
    }
    out[i] = n;
  }
  return out;
}

export const featuresWindowStage = defineStage({
  type: 'features.window@1',
  description:
    'Rolling-window features of sensor time series: per series (group) in time order (order), over the ' +
    'last `window` readings, the mean, std, min, max and slope of each sensor, from past readings only. ' +
    'Optionally labels each window with whether an event (failure) follows within `horizon` readings, ' +
    'as the target for predictive maintenance.',
  inputs: { data: 'table' },
  outputs: { data: 'table' },
  params,
  defaultTimeoutMs: 30 * 60_000,
  async run(ctx) {
    const dataRef = ctx.inputs.data!;
    const table = await readTable(ctx.store, dataRef);
    const windowed = windowFeatures(table, ctx.params);
    ctx.signal.throwIfAborted();
    const metrics: Record<string, number> = { rows: windowed.numRows, features: windowed.numCols - ctx.params.keep.length - (ctx.params.label ? 1 : 0) };
    if (ctx.params.label) {
      const label = numericColumn(windowed, ctx.params.label.name);
      metrics.positive_rate = label.reduce<number>((a, v) => a + (v ?? 0), 0) / Math.max(1, label.length);
    }
    return { outputs: { data: await writeTable(ctx.store, windowed, { metadata: { window: ctx.params.window } }) }, metrics };
  },
});
