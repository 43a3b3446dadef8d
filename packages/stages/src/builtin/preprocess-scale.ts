import type { Table } from 'apache-arrow';
import { z } from 'zod';
import { StageError } from '@pipewright/core';
import { defineStage } from '../define-stage.ts';
import { buildTable, float64Data, keptColumn } from '../column-data.ts';
import type { NamedColumn } from '../column-data.ts';
import { readNumeric } from '../column-values.ts';
import { readTrainTest, selectColumns } from '../fitted-stage-io.ts';
import { writeJson } from '../json-io.ts';
import { medianOfSorted, pairwiseSum, percentileOfSorted, presentValues } from '../quantile.ts';
import { writeTable } from '../table-io.ts';

const params = z
  .strictObject({
    /**
     * `standard`: (x - mean) / std (population std, as StandardScaler); `minmax`: onto
     * `featureRange` (MinMaxScaler); `robust`: (x - median) / IQR (RobustScaler).
     */
    method: z.enum(['standard', 'minmax', 'robust']).default('standard'),
    /** Columns to scale. @defaultValue every numeric column except the target */
    columns: z.array(z.string().min(1)).min(1).optional(),
    /** standard: subtract the mean. */
    withMean: z.boolean().default(true),
    /** standard: divide by the standard deviation. */
    withStd: z.boolean().default(true),
    /** minmax: the target range. */
    featureRange: z.tuple([z.number(), z.number()]).default([0, 1]),
    /** minmax: clip test values that fall outside the range. */
    clip: z.boolean().default(false),
    /** robust: the percentiles whose distance is the scale. */
    quantileRange: z.tuple([z.number().min(0).max(100), z.number().min(0).max(100)]).default([25, 75]),
    /** robust: subtract the median. */
    withCentering: z.boolean().default(true),
    /** robust: divide by the quantile range. */
    withScaling: z.boolean().default(true),
  })
  .refine((p) => p.featureRange[0] < p.featureRange[1], { error: 'featureRange must be increasing', path: ['featureRange'] })
  .refine((p) => p.quantileRange[0] < p.quantileRange[1], { error: 'quantileRange must be increasing', path: ['quantileRange'] });

/**
 * What `preprocess.scale@1` learned from the train table. Each is applied in the arithmetic form
 * scikit-learn uses (`(x - mean) / scale`, `x * scale + min`, `(x - center) / scale`), so the
 * results agree to the last bits, not merely to rounding.
 */
export type FittedScaler =
  | { kind: 'standard_scaler'; columns: string[]; mean: number[]; variance: number[]; scale: number[]; withMean: boolean; withStd: boolean }
  | { kind: 'minmax_scaler'; columns: string[]; dataMin: number[]; dataMax: number[]; scale: number[]; min: number[]; featureRange: [number, number]; clip: boolean }
  | { kind: 'robust_scaler'; columns: string[]; center: number[]; scale: number[]; quantileRange: [number, number] };

const EPS = 2 ** -52;

/** A zero (or near zero) scale becomes 1, so constant columns are shifted but not blown up (`_handle_zeros_in_scale`). */
function safeScale(scale: number, constant: boolean): number {
  return constant ? 1 : scale;
}

type Params = z.output<typeof params>;

/** Fits the chosen scaler on `table` over the present values of `columns`. */
export function fitScaler(table: Table, columns: readonly string[], p: Params): FittedScaler {
  // Only the robust scaler needs order statistics; sorting is the expensive part of fitting.
  const stats = columns.map((name) => {
    const values = readNumeric(table, name);
    const present = presentValues(values);
    if (present.length === 0) {
      throw StageError.nonRetryable('PW_ERR_BAD_DATA', `column ${name} has no values in the train table to fit a scaler on`, { column: name });
    }
    return { present, sorted: p.method === 'robust' ? present.slice().sort() : present };
  });
  switch (p.method) {
    case 'standard': {
      const mean: number[] = [];
      const variance: number[] = [];
      const scale: number[] = [];
      for (const { present } of stats) {
        // StandardScaler's corrected two-pass algorithm (_incremental_mean_and_var).
        const n = present.length;
        const m = pairwiseSum(present, 0, n) / n;
        let correction = 0;
        const squares = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          const d = present[i]! - m;
          correction += d;
          squares[i] = d * d;
        }
        const v = (pairwiseSum(squares, 0, n) - (correction * correction) / n) / n;
        // _is_constant_feature: the variance is within rounding error of zero.
        const constant = v <= n * EPS * v + (n * m * EPS) ** 2;
        mean.push(m);
        variance.push(v);
        scale.push(safeScale(Math.sqrt(v), constant));
      }
      return { kind: 'standard_scaler', columns: [...columns], mean, variance, scale, withMean: p.withMean, withStd: p.withStd };
    }
    case 'minmax': {
      const [lo, hi] = p.featureRange;
      const dataMin = stats.map((s) => s.present.reduce((a, b) => (b < a ? b : a), Infinity));
      const dataMax = stats.map((s) => s.present.reduce((a, b) => (b > a ? b : a), -Infinity));
      const scale = dataMin.map((min, j) => {
        const range = dataMax[j]! - min;
        return (hi - lo) / safeScale(range, range < 10 * EPS);
      });
      const min = dataMin.map((d, j) => lo - d * scale[j]!);
      return { kind: 'minmax_scaler', columns: [...columns], dataMin, dataMax, scale, min, featureRange: [lo, hi], clip: p.clip };
    }
    case 'robust': {
      const [qLow, qHigh] = p.quantileRange;
      const center = stats.map((s) => (p.withCentering ? medianOfSorted(s.sorted) : 0));
      const scale = stats.map((s) => {
        if (!p.withScaling) return 1;
        const iqr = percentileOfSorted(s.sorted, qHigh) - percentileOfSorted(s.sorted, qLow);
        return safeScale(iqr, iqr < 10 * EPS);
      });
      return { kind: 'robust_scaler', columns: [...columns], center, scale, quantileRange: [qLow, qHigh] };
    }
  }
}

/** Returns `table` with the scaler's columns transformed (as Float64); missing stays missing. */
export function applyScaler(table: Table, scaler: FittedScaler): Table {
  const index = new Map(scaler.columns.map((name, j) => [name, j]));
  const columns = table.schema.fields.map((field): NamedColumn => {
    const j = index.get(field.name);
    if (j === undefined) return keptColumn(table, field.name);
    const x = readNumeric(table, field.name);
    const n = x.length;
    switch (scaler.kind) {
      case 'standard_scaler': {
        const mean = scaler.withMean ? scaler.mean[j]! : 0;
        const scale = scaler.withStd ? scaler.scale[j]! : 1;
        for (let i = 0; i < n; i++) x[i] = (x[i]! - mean) / scale;
        break;
      }
      case 'minmax_scaler': {
        const scale = scaler.scale[j]!;
        const min = scaler.min[j]!;
        const [lo, hi] = scaler.featureRange;
        for (let i = 0; i < n; i++) {
          let v = x[i]! * scale + min;
          if (scaler.clip) v = v < lo ? lo : v > hi ? hi : v;
          x[i] = v;
        }
        break;
      }
      case 'robust_scaler': {
        const center = scaler.center[j]!;
        const scale = scaler.scale[j]!;
        for (let i = 0; i < n; i++) x[i] = (x[i]! - center) / scale;
        break;
      }
    }
    return { name: field.name, data: float64Data(x) };
  });
  return buildTable(columns, table.schema.metadata, table.numRows);
}

export const preprocessScaleStage = defineStage({
  type: 'preprocess.scale@1',
  description:
    'Scales numeric columns as scikit-learn\'s StandardScaler, MinMaxScaler or RobustScaler do. The ' +
    'statistics are fitted on the train table only and applied to both tables; missing values stay missing.',
  inputs: { train: 'table', test: 'table' },
  outputs: { train: 'table', test: 'table', scaler: 'json' },
  params,
  defaultTimeoutMs: 10 * 60_000,
  async run(ctx) {
    const { train, test, trainRef, target } = await readTrainTest(ctx);
    const columns = selectColumns([train, test], target, ctx.params.columns, 'numeric');
    if (columns.length === 0) throw StageError.nonRetryable('PW_ERR_BAD_DATA', 'the train table has no numeric feature columns to scale');
    const scaler = fitScaler(train, columns, ctx.params);
    ctx.signal.throwIfAborted();
    const metadata = { scaled: columns, method: ctx.params.method };
    return {
      outputs: {
        train: await writeTable(ctx.store, applyScaler(train, scaler), { target, metadata }),
        test: await writeTable(ctx.store, applyScaler(test, scaler), { target, metadata }),
        scaler: await writeJson(ctx.store, { ...scaler, fittedOn: trainRef.digest }, { kind: scaler.kind, columns }),
      },
    };
  },
});
