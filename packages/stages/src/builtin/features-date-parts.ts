import { DataType } from 'apache-arrow';
import type { Table } from 'apache-arrow';
import { z } from 'zod';
import { StageError } from '@pipewright/core';
import { defineStage } from '../define-stage.ts';
import { buildTable, float64Data, keptColumn } from '../column-data.ts';
import type { NamedColumn } from '../column-data.ts';
import { isTextColumnType, readText } from '../column-values.ts';
import { readTable, requireColumn, tableTarget, writeTable } from '../table-io.ts';

export const DATE_PARTS = ['year', 'month', 'day', 'weekday', 'hour', 'dayofyear'] as const;
export type DatePart = (typeof DATE_PARTS)[number];

const params = z.strictObject({
  /** Date, timestamp or ISO 8601 text columns to expand. */
  columns: z.array(z.string().min(1)).min(1),
  /** Which parts, each as a column `<column>_<part>`; weekday is 0 for Monday (pandas' dayofweek). */
  parts: z.array(z.enum(DATE_PARTS)).min(1).default([...DATE_PARTS]),
  /** Remove the source columns (models take numbers). */
  dropSource: z.boolean().default(true),
});

const MS_PER_DAY = 86_400_000;

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Writes the parts of the UTC instant `ms` into `out` at `i` (civil_from_days; no Date objects). */
function partsOfInstant(ms: number, out: Float64Array[], parts: readonly DatePart[], i: number): void {
  const days = Math.floor(ms / MS_PER_DAY);
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doyMarch = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doyMarch + 2) / 153);
  const day = doyMarch - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const hour = Math.floor((ms - days * MS_PER_DAY) / 3_600_000);
  write(out, parts, i, year, month, day, days, hour);
}

function write(out: Float64Array[], parts: readonly DatePart[], i: number, year: number, month: number, day: number, days: number, hour: number): void {
  for (let p = 0; p < parts.length; p++) {
    switch (parts[p]!) {
      case 'year':
        out[p]![i] = year;
        break;
      case 'month':
        out[p]![i] = month;
        break;
      case 'day':
        out[p]![i] = day;
        break;
      case 'weekday':
        // 1970-01-01 was a Thursday (3 when Monday is 0).
        out[p]![i] = (((days + 3) % 7) + 7) % 7;
        break;
      case 'hour':
        out[p]![i] = hour;
        break;
      case 'dayofyear':
        out[p]![i] = days - daysFromCivil(year, 1, 1) + 1;
        break;
    }
  }
}

function digits(text: string, at: number, count: number): number {
  let v = 0;
  for (let k = at; k < at + count; k++) {
    const c = text.charCodeAt(k) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * Parses `YYYY-MM-DD[(T| )HH:MM[:SS[.fff…]]][Z|±HH[:MM]]` without allocating, as the wall-clock
 * time written (an offset is accepted and ignored: the hour a person saw is the useful feature).
 * Returns false for anything else, including impossible dates.
 */
function partsOfIso(text: string, out: Float64Array[], parts: readonly DatePart[], i: number): boolean {
  const s = text.trim();
  if (s.length < 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return false;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  if (day > monthDays) return false;
  let hour = 0;
  let k = 10;
  if (k < s.length && (s[k] === 'T' || s[k] === 't' || s[k] === ' ')) {
    hour = digits(s, k + 1, 2);
    const minute = digits(s, k + 4, 2);
    if (hour < 0 || hour > 23 || s[k + 3] !== ':' || minute < 0 || minute > 59) return false;
    k += 6;
    if (s[k] === ':') {
      const second = digits(s, k + 1, 2);
      if (second < 0 || second > 60) return false;
      k += 3;
      if (s[k] === '.' || s[k] === ',') {
        k++;
        const start = k;
        while (k < s.length && s.charCodeAt(k) >= 48 && s.charCodeAt(k) <= 57) k++;
        if (k === start) return false;
      }
    }
  }
  if (k < s.length) {
    const rest = s.slice(k);
    if (!/^(?:[Zz]|[+-]\d\d(?::?\d\d)?)$/.test(rest)) return false;
  }
  write(out, parts, i, year, month, day, daysFromCivil(year, month, day), hour);
  return true;
}

/** The parts of one column, one Float64Array per part; missing and unparseable cells are NaN. */
export function extractDateParts(table: Table, name: string, parts: readonly DatePart[]): { values: Float64Array[]; invalid: { row: number; value: string }[] } {
  const column = requireColumn(table, name);
  const rows = column.length;
  const values = parts.map(() => new Float64Array(rows).fill(Number.NaN));
  const invalid: { row: number; value: string }[] = [];
  if (DataType.isTimestamp(column.type) || DataType.isDate(column.type)) {
    for (let i = 0; i < rows; i++) {
      const ms: unknown = column.get(i);
      if (typeof ms === 'number' && Number.isFinite(ms)) partsOfInstant(ms, values, parts, i);
    }
  } else if (isTextColumnType(column.type)) {
    const texts = readText(table, name);
    for (let i = 0; i < rows; i++) {
      const text = texts[i];
      if (text === null || text === undefined || text.trim() === '') continue;
      if (!partsOfIso(text, values, parts, i) && invalid.length < 5) invalid.push({ row: i, value: text });
    }
  } else {
    throw StageError.nonRetryable('PW_ERR_BAD_DATA', `column ${name} is ${String(column.type)}, not a date, timestamp or ISO text`, { column: name });
  }
  return { values, invalid };
}

export const featuresDatePartsStage = defineStage({
  type: 'features.date_parts@1',
  description:
    'Adds year, month, day, weekday (Monday 0), hour and day-of-year columns for date, timestamp (UTC) or ' +
    'ISO 8601 text columns (read as the wall-clock time written). Missing dates give missing parts; text ' +
    'that is not an ISO date fails the stage.',
  inputs: { data: 'table' },
  outputs: { data: 'table' },
  params,
  defaultTimeoutMs: 10 * 60_000,
  async run(ctx) {
    const dataRef = ctx.inputs.data!;
    const table = await readTable(ctx.store, dataRef);
    const { columns, parts, dropSource } = ctx.params;
    const target = tableTarget(table);
    if (target !== undefined && columns.includes(target)) {
      throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', `refusing to transform the target column ${target}`);
    }
    const added = new Map<string, NamedColumn[]>();
    for (const name of columns) {
      const { values, invalid } = extractDateParts(table, name, parts);
      if (invalid.length > 0) {
        throw StageError.nonRetryable('PW_ERR_BAD_DATA', `column ${name} has text that is not an ISO 8601 date, e.g. ${JSON.stringify(invalid[0]!.value)} (row ${invalid[0]!.row})`, {
          column: name,
          examples: invalid,
        });
      }
      added.set(
        name,
        parts.map((part, p) => ({ name: `${name}_${part}`, data: float64Data(values[p]!) })),
      );
    }
    const out: NamedColumn[] = [];
    for (const field of table.schema.fields) {
      const parts = added.get(field.name);
      if (parts === undefined || !dropSource) out.push(keptColumn(table, field.name));
      if (parts !== undefined) out.push(...parts);
    }
    const seen = new Set<string>();
    for (const column of out) {
      if (seen.has(column.name)) throw StageError.nonRetryable('PW_ERR_BAD_DATA', `column ${column.name} already exists`, { column: column.name });
      seen.add(column.name);
    }
    const result = buildTable(out, table.schema.metadata, table.numRows);
    return {
      outputs: { data: await writeTable(ctx.store, result, { metadata: { dateParts: { columns, parts } } }) },
      metrics: { columns_added: columns.length * parts.length },
    };
  },
});
