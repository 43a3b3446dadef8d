import type { Table } from 'apache-arrow';
import { StageError } from '@pipewright/core';
import type { ArtifactRef } from '@pipewright/core';
import type { StageContext } from './define-stage.ts';
import { isNumericColumnType, isTextColumnType } from './column-values.ts';
import { readTable, requireTarget } from './table-io.ts';

/** The two tables a leak-free (fit on train, apply to both) stage reads. */
export interface TrainTest {
  train: Table;
  test: Table;
  trainRef: ArtifactRef;
  testRef: ArtifactRef;
  /** The train table's target column; the test table must have it too. */
  target: string;
}

/** Reads the `train` and `test` inputs and checks they name the same target. */
export async function readTrainTest(ctx: Pick<StageContext<unknown>, 'inputs' | 'store'>): Promise<TrainTest> {
  const trainRef = ctx.inputs['train']!;
  const testRef = ctx.inputs['test']!;
  const train = await readTable(ctx.store, trainRef);
  const test = await readTable(ctx.store, testRef);
  const target = requireTarget(train, trainRef);
  requireTarget(test, testRef);
  return { train, test, trainRef, testRef, target };
}

/** `any` is numeric or text: the kinds the preprocessing stages understand. */
export type ColumnKind = 'numeric' | 'text' | 'any';

/**
 * The columns a stage works on: the requested ones (checked to exist in every table, and never
 * the target), or by default every column of `kind` in the first table except the target.
 */
export function selectColumns(
  tables: readonly Table[],
  target: string | undefined,
  requested: readonly string[] | undefined,
  kind: ColumnKind,
): string[] {
  const first = tables[0]!;
  const matches = (table: Table, name: string): boolean => {
    const type = table.schema.fields.find((f) => f.name === name)?.type;
    if (type === undefined) return false;
    if (kind === 'numeric') return isNumericColumnType(type);
    if (kind === 'text') return isTextColumnType(type);
    return isNumericColumnType(type) || isTextColumnType(type);
  };
  if (requested === undefined) {
    return first.schema.fields.filter((f) => f.name !== target && matches(first, f.name)).map((f) => f.name);
  }
  const duplicate = requested.find((name, i) => requested.indexOf(name) !== i);
  if (duplicate !== undefined) throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', `column ${duplicate} is listed twice`, { column: duplicate });
  for (const name of requested) {
    if (name === target) throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', `refusing to transform the target column ${target}`, { column: name });
    for (const table of tables) {
      if (!table.schema.fields.some((f) => f.name === name)) {
        throw StageError.nonRetryable('PW_ERR_BAD_DATA', `column ${name} is not in the table`, { column: name, columns: table.schema.names });
      }
      if (!matches(table, name)) {
        const type = String(table.schema.fields.find((f) => f.name === name)!.type);
        throw StageError.nonRetryable('PW_ERR_BAD_DATA', `column ${name} is ${type}, not ${kind === 'any' ? 'numeric or text' : kind}`, { column: name, type });
      }
    }
  }
  return [...requested];
}
