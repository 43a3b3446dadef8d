import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ColumnAccumulator, spellsLikeString } from './column-accumulator.ts';
import { readCsvStream } from './read-csv-stream.ts';
import { numericColumn } from './table-io.ts';
import { Vector } from 'apache-arrow';

describe('ColumnAccumulator', () => {
  it('types a column by its values and turns numbers back into their source spelling when text arrives', () => {
    const column = new ColumnAccumulator('code');
    column.pushNumber(7, '007');
    column.pushNull();
    column.pushNumber(1.5, '1.50');
    column.pushNumber(12, '12');
    expect(column.kind).toBe('number');
    column.pushText('A12');
    column.pushNumber(3, '3');
    const data = column.finish();
    expect(String(data.type)).toBe('Utf8');
    expect([...new Vector([data])]).toEqual(['007', null, '1.50', '12', 'A12', '3']);
  });

  it('grows past its initial buffers and keeps nulls in place', () => {
    const column = new ColumnAccumulator('x');
    for (let i = 0; i < 10_000; i++) {
      if (i % 7 === 0) column.pushNull();
      else column.pushNumber(i);
    }
    const values = [...new Vector([column.finish()])] as (number | null)[];
    expect(values.length).toBe(10_000);
    expect(values[7]).toBeNull();
    expect(values[9_999]).toBe(9_999);
    const text = new ColumnAccumulator('t');
    for (let i = 0; i < 5_000; i++) text.pushText(i % 2 ? 'ünïcödé😀' : '');
    const strings = [...new Vector([text.finish()])];
    expect(strings[4_999]).toBe('ünïcödé😀');
    expect(strings[4_998]).toBe('');
  });

  it('an all-missing column is text; a fixed numeric column refuses text', () => {
    const empty = new ColumnAccumulator('e');
    empty.padTo(3);
    const data = empty.finish();
    expect(String(data.type)).toBe('Utf8');
    expect(data.nullCount).toBe(3);
    const fixed = new ColumnAccumulator('n', 'number');
    expect(() => fixed.pushText('x')).toThrow();
  });

  it('spellsLikeString agrees with String(Number(s)) on tricky literals', () => {
    for (const s of ['0', '-0', '007', '1.50', '1.5', '.5', '5.', '-5', '+5', '1e3', '123456789012345', '1234567890123456789', '0.0000001', '0.000001', '-0.0', '10.01']) {
      expect(spellsLikeString(s), s).toBe(String(Number(s)) === s);
    }
  });
});

describe('readCsvStream', () => {
  it('streams a large CSV in small chunks into typed columns', async () => {
    const rows = 30_000;
    function* chunks() {
      yield 'id,score,zip,label\n';
      for (let i = 0; i < rows; i++) yield `${i},${(i / 4).toFixed(2)},${i === rows - 1 ? 'N/A' : String(i % 100).padStart(5, '0')},${i % 2 ? 'yes' : 'no'}\n`;
    }
    const { table, header } = await readCsvStream(Readable.from(chunks()), { signal: new AbortController().signal });
    expect(header).toEqual(['id', 'score', 'zip', 'label']);
    expect(table.numRows).toBe(rows);
    expect(table.schema.fields.map((f) => String(f.type))).toEqual(['Float64', 'Float64', 'Float64', 'Utf8']);
    expect(numericColumn(table, 'score')[rows - 1]).toBe((rows - 1) / 4);
    expect(numericColumn(table, 'zip')[rows - 1]).toBeNull();
  });

  it('keeps the spelling of numeric-looking cells in a column that turns out to be text', async () => {
    const { table } = await readCsvStream(Readable.from(['zip,y\n00501,1\n1.50,0\n90210,1\nSW1A,0\n']), { signal: new AbortController().signal });
    expect(table.getChild('zip')!.toArray()).toEqual(['00501', '1.50', '90210', 'SW1A']);
  });
});
