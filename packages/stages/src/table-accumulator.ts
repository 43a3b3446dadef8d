import type { Table } from 'apache-arrow';
import { StageError } from '@pipewright/core';
import { ColumnAccumulator } from './column-accumulator.ts';
import { buildTable } from './column-data.ts';
import { TARGET_METADATA_KEY } from './table-io.ts';

/**
 * Rows in, one Arrow table out, for the ingest stages. Columns keep the order in which they were
 * first seen; a column first seen at row k is missing in the rows before it, and a column a row
 * does not mention is missing in that row.
 */
export class TableAccumulator {
  private readonly columns: ColumnAccumulator[] = [];
  private readonly byName = new Map<string, ColumnAccumulator>();
  private rowCount = 0;

  constructor(
    /** Refuses a table wider than this (a JSON file with a fresh key per record, say). */
    private readonly maxColumns = 10_000,
  ) {}

  /** Rows completed with endRow(). */
  get rows(): number {
    return this.rowCount;
  }

  get columnNames(): string[] {
    return this.columns.map((c) => c.name);
  }

  /** The named column, created (missing in every earlier row) on first use. */
  column(name: string, fixed?: 'number' | 'text' | 'timestamp'): ColumnAccumulator {
    let column = this.byName.get(name);
    if (column === undefined) {
      if (this.columns.length >= this.maxColumns) {
        throw StageError.nonRetryable('PW_ERR_BAD_DATA', `the data has more than ${this.maxColumns} columns`, {
          maxColumns: this.maxColumns,
        });
      }
      column = new ColumnAccumulator(name, fixed);
      column.padTo(this.rowCount);
      this.columns.push(column);
      this.byName.set(name, column);
    }
    return column;
  }

  /** The column at `index` in first-seen order (for sources with a fixed header). */
  at(index: number): ColumnAccumulator {
    return this.columns[index]!;
  }

  /** Ends the current row: columns it did not set become missing. */
  endRow(): void {
    this.rowCount++;
    for (const column of this.columns) if (column.rows < this.rowCount) column.pushNull();
  }

  /** The table, with `target` recorded in its schema metadata. */
  finish(target?: string): Table {
    const metadata = new Map<string, string>();
    if (target !== undefined) metadata.set(TARGET_METADATA_KEY, target);
    return buildTable(
      this.columns.map((c) => ({ name: c.name, data: c.finish() })),
      metadata,
      this.rowCount,
    );
  }
}
