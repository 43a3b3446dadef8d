import { Bool, Field, Int32, Int64, makeData, RecordBatch, Schema, Struct, Table, tableFromIPC, tableToIPC, Uint8 } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { buildTable, float64Data, gatherRows, utf8Data } from './column-data.ts';
import { readCategorical, readNumeric } from './column-values.ts';
import { numericColumn, tableFromColumns, tableTarget } from './table-io.ts';

describe('column helpers', () => {
  it('gathers rows (with repeats) of every column type, keeping nulls and metadata', () => {
    const t = tableFromColumns(
      [
        { name: 'x', kind: 'float64', values: [1.5, null, 3.5, 4] },
        { name: 's', kind: 'utf8', values: ['a', 'bé', null, ''] },
        { name: 'y', kind: 'float64', values: [0, 1, 0, 1] },
      ],
      'y',
    );
    const out = gatherRows(t, Int32Array.from([3, 1, 1, 0, 2]));
    expect(numericColumn(out, 'x')).toEqual([4, null, null, 1.5, 3.5]);
    expect(out.getChild('s')!.toArray()).toEqual(['', 'bé', 'bé', 'a', null]);
    expect(tableTarget(out)).toBe('y');
    // Survives serialisation.
    const back = tableFromIPC(tableToIPC(out));
    expect(back.getChild('s')!.toArray()).toEqual(['', 'bé', 'bé', 'a', null]);
  });

  it('reads ints, 64-bit ints and booleans as numbers, with nulls as NaN', () => {
    const fields = [new Field('i', new Int32(), true), new Field('l', new Int64(), true), new Field('b', new Bool(), true), new Field('u', new Uint8(), true)];
    const children = [
      makeData({ type: new Int32(), length: 3, nullCount: 1, nullBitmap: Uint8Array.from([0b101]), data: Int32Array.from([-1, 0, 7]) }),
      makeData({ type: new Int64(), length: 3, nullCount: 0, data: BigInt64Array.from([1n, -2n, 2n ** 40n]) as never }),
      makeData({ type: new Bool(), length: 3, nullCount: 0, data: Uint8Array.from([0b110]) }),
      makeData({ type: new Uint8(), length: 3, nullCount: 0, data: Uint8Array.from([1, 2, 255]) }),
    ];
    const schema = new Schema(fields);
    const t = new Table(schema, new RecordBatch(schema, makeData({ type: new Struct(fields), length: 3, nullCount: 0, children })));
    expect([...readNumeric(t, 'i')]).toEqual([-1, Number.NaN, 7]);
    expect([...readNumeric(t, 'l')]).toEqual([1, -2, 2 ** 40]);
    expect([...readNumeric(t, 'b')]).toEqual([0, 1, 1]);
    expect([...readNumeric(t, 'u')]).toEqual([1, 2, 255]);
    expect(readCategorical(t, 'i')).toEqual([-1, null, 7]);
  });

  it('writes NaN as null and refuses duplicate column names', () => {
    const data = float64Data(Float64Array.from([1, Number.NaN]));
    expect(data.nullCount).toBe(1);
    const t = buildTable([{ name: 'a', data }, { name: 'b', data: utf8Data(['x', null]) }]);
    expect(numericColumn(t, 'a')).toEqual([1, null]);
    expect(() => buildTable([{ name: 'a', data }, { name: 'a', data }])).toThrow(/duplicate/);
  });
});
