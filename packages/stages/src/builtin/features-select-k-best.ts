import type { Table } from 'apache-arrow';
import { z } from 'zod';
import { StageError } from '@pipewright/core';
import { defineStage } from '../define-stage.ts';
import { buildTable, keptColumn } from '../column-data.ts';
import { readNumeric } from '../column-values.ts';
import { fClassif } from '../f-classif.ts';
import { readTrainTest, selectColumns } from '../fitted-stage-io.ts';
import { writeJson } from '../json-io.ts';
import { mutualInfoClassif } from '../mutual-info-classif.ts';
import { mulberry32 } from '../seeded-random.ts';
import { labelColumn, sortedClasses, writeTable } from '../table-io.ts';

const params = z.strictObject({
  /** `f_classif`: ANOVA F; `mutual_info_classif`: k-nearest-neighbour mutual information. */
  score: z.enum(['f_classif', 'mutual_info_classif']).default('f_classif'),
  /** How many of the candidate columns to keep. */
  k: z.int().min(1),
  /** Candidate columns. @defaultValue every numeric column except the target */
  columns: z.array(z.string().min(1)).min(1).optional(),
  /** mutual_info_classif: neighbours per point. */
  neighbors: z.int().min(1).max(100).default(3),
  /** mutual_info_classif: seed of the tie-breaking jitter. */
  seed: z.int().default(42),
});

/** The `selection` output. */
export interface KBestSelection {
  kind: 'select_k_best';
  score: 'f_classif' | 'mutual_info_classif';
  k: number;
  /** Candidates, in table order, with their scores (and p-values for f_classif). */
  columns: string[];
  scores: (number | null)[];
  pValues?: (number | null)[];
  /** The kept candidates, in table order. */
  selected: string[];
}

/**
 * Indices of the k best scores, as SelectKBest picks them: NaN scores count as the lowest, and
 * among equal scores the later column wins (it takes the tail of a stable ascending argsort).
 * Returned in ascending index order.
 */
export function topK(scores: readonly number[], k: number): number[] {
  const order = scores.map((_, j) => j);
  const value = (j: number): number => (Number.isNaN(scores[j]!) ? -Infinity : scores[j]!);
  order.sort((a, b) => value(a) - value(b) || a - b);
  return order.slice(order.length - k).sort((a, b) => a - b);
}

/** Scores every candidate on `table` (the train table). */
export function scoreFeatures(
  table: Table,
  target: string,
  columns: readonly string[],
  options: { score: 'f_classif' | 'mutual_info_classif'; neighbors: number; seed: number },
): { scores: number[]; pValues?: number[] } {
  const labels = labelColumn(table, target);
  const classes = sortedClasses(labels);
  if (classes.length < 2) throw StageError.nonRetryable('PW_ERR_BAD_DATA', 'the target has a single class; nothing to score against');
  const index = new Map(classes.map((c, k) => [c, k]));
  const classOf = Int32Array.from(labels, (l) => index.get(l)!);
  if (options.score === 'f_classif' && labels.length <= classes.length) {
    throw StageError.nonRetryable('PW_ERR_BAD_DATA', `f_classif needs more rows (${labels.length}) than classes (${classes.length})`);
  }
  const random = mulberry32(options.seed);
  const scores: number[] = [];
  const pValues: number[] = [];
  for (const name of columns) {
    const x = readNumeric(table, name);
    for (let i = 0; i < x.length; i++) {
      if (!Number.isFinite(x[i]!)) {
        throw StageError.nonRetryable('PW_ERR_BAD_DATA', `column ${name} has missing or infinite values; impute them before selecting`, { column: name, row: i });
      }
    }
    if (options.score === 'f_classif') {
      const { f, p } = fClassif(x, classOf, classes.length);
      scores.push(f);
      pValues.push(p);
    } else {
      scores.push(mutualInfoClassif(x, classOf, classes.length, { neighbors: options.neighbors, random }));
    }
  }
  return options.score === 'f_classif' ? { scores, pValues } : { scores };
}

function keepOnly(table: Table, drop: ReadonlySet<string>): Table {
  const columns = table.schema.fields.filter((f) => !drop.has(f.name)).map((f) => keptColumn(table, f.name));
  return buildTable(columns, table.schema.metadata, table.numRows);
}

const finiteOrNull = (v: number): number | null => (Number.isNaN(v) ? null : v);

export const featuresSelectKBestStage = defineStage({
  type: 'features.select_k_best@1',
  description:
    'Keeps the k numeric columns that score best against the target class (ANOVA F or mutual information, ' +
    'as scikit-learn\'s SelectKBest), scored on the train table only; drops the other candidates from both tables.',
  inputs: { train: 'table', test: 'table' },
  outputs: { train: 'table', test: 'table', selection: 'json' },
  params,
  defaultTimeoutMs: 10 * 60_000,
  async run(ctx) {
    const { train, test, trainRef, target } = await readTrainTest(ctx);
    const columns = selectColumns([train, test], target, ctx.params.columns, 'numeric');
    const { k } = ctx.params;
    if (k > columns.length) {
      throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', `k is ${k}, but there are only ${columns.length} candidate columns`, { k, candidates: columns.length });
    }
    const { scores, pValues } = scoreFeatures(train, target, columns, ctx.params);
    ctx.signal.throwIfAborted();
    const keep = topK(scores, k);
    const selected = keep.map((j) => columns[j]!);
    const drop = new Set(columns.filter((_, j) => !keep.includes(j)));
    const selection: KBestSelection = {
      kind: 'select_k_best',
      score: ctx.params.score,
      k,
      columns,
      scores: scores.map(finiteOrNull),
      ...(pValues ? { pValues: pValues.map(finiteOrNull) } : {}),
      selected,
    };
    const metadata = { selected };
    return {
      outputs: {
        train: await writeTable(ctx.store, keepOnly(train, drop), { target, metadata }),
        test: await writeTable(ctx.store, keepOnly(test, drop), { target, metadata }),
        selection: await writeJson(ctx.store, { ...selection, fittedOn: trainRef.digest }, { kind: selection.kind, selected }),
      },
      metrics: { selected: selected.length, candidates: columns.length },
    };
  },
});
