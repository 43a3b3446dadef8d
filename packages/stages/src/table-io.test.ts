import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC, tableFromArrays } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalArtifactStore } from '@pipewright/artifacts';
import type { ArtifactStore } from '@pipewright/artifacts';
import {
  ARROW_FILE_MEDIA_TYPE,
  featureMatrix,
  labelColumn,
  numericColumn,
  numericColumnNames,
  readTable,
  replaceColumns,
  tableFromColumns,
  tableTarget,
  takeRows,
  targetVector,
  TARGET_METADATA_KEY,
  writeTable,
} from './table-io.ts';

let root: string;
let store: ArtifactStore;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pw-table-io-'));
  store = createLocalArtifactStore({ root });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const sample = () =>
  tableFromColumns(
    [
      { name: '2', kind: 'float64', values: [1.5, 2.5, null, 4.5] },
      { name: '1', kind: 'utf8', values: ['a', null, 'c', 'd'] },
      { name: 'x', kind: 'float64', values: new Float64Array([10, 20, 30, 40]) },
      { name: 'label', kind: 'float64', values: [0, 1, 1, 0] },
    ],
    'label',
  );

describe('table io', () => {
  it('keeps column order, even for names that look like array indices', () => {
    expect(sample().schema.names).toEqual(['2', '1', 'x', 'label']);
  });

  it('round-trips through the store as Arrow IPC file format, target in the schema metadata', async () => {
    const ref = await writeTable(store, sample());
    expect(ref).toMatchObject({
      type: 'table',
      mediaType: ARROW_FILE_MEDIA_TYPE,
      metadata: { rows: 4, columns: ['2', '1', 'x', 'label'], target: 'label' },
    });
    const bytes = await store.get(ref.uri);
    expect(new TextDecoder().decode(bytes.subarray(0, 6))).toBe('ARROW1'); // file format magic
    expect(tableFromIPC(bytes).schema.metadata.get(TARGET_METADATA_KEY)).toBe('label');

    const back = await readTable(store, ref);
    expect(tableTarget(back)).toBe('label');
    expect(numericColumn(back, '2')).toEqual([1.5, 2.5, null, 4.5]);
    expect(back.getChild('1')!.toArray()).toEqual(['a', null, 'c', 'd']);
    expect(String(back.schema.fields[0]!.type)).toBe('Float64');
    expect(String(back.schema.fields[1]!.type)).toBe('Utf8');
  });

  it('reports a table missing from the store as PW_ERR_INPUT_MISSING', async () => {
    const ref = await writeTable(store, sample());
    const gone = { ...ref, digest: `sha256:${'0'.repeat(64)}`, uri: store.uriFor(`sha256:${'0'.repeat(64)}`) };
    await expect(readTable(store, gone)).rejects.toMatchObject({ code: 'PW_ERR_INPUT_MISSING', retryable: false });
  });

  it('writes the same table to the same digest', async () => {
    expect((await writeTable(store, sample())).digest).toBe((await writeTable(store, sample())).digest);
  });

  it('builds row-major feature matrices and target vectors', () => {
    const table = sample();
    const m = featureMatrix(table, ['x', 'label'], Float32Array);
    expect(m).toMatchObject({ rows: 4, cols: 2 });
    expect(Array.from(m.values)).toEqual([10, 0, 20, 1, 30, 1, 40, 0]);
    expect(m.values).toBeInstanceOf(Float32Array);
    expect(targetVector(table, 'label', Float64Array)).toEqual(new Float64Array([0, 1, 1, 0]));
    expect(numericColumnNames(table, ['label'])).toEqual(['2', 'x']);
    expect(labelColumn(table, 'label')).toEqual([0, 1, 1, 0]);
  });

  it('refuses missing values and unknown columns with a non-retryable PW_ERR_BAD_DATA', () => {
    const table = sample();
    expect(() => featureMatrix(table, ['2'], Float64Array)).toThrow(expect.objectContaining({ code: 'PW_ERR_BAD_DATA', retryable: false }));
    expect(() => featureMatrix(table, ['nope'], Float64Array)).toThrow(/nope/);
    expect(() => featureMatrix(table, ['1'], Float64Array)).toThrow(/not numeric/);
  });

  it('reads integer columns from foreign Arrow tables as doubles', () => {
    const table = tableFromArrays({ a: new Int32Array([1, 2, 3]), b: new BigInt64Array([4n, 5n, 6n]) });
    expect(numericColumnNames(table)).toEqual(['a', 'b']);
    expect(Array.from(featureMatrix(table, ['a', 'b'], Float64Array).values)).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('takes rows and replaces columns without losing the metadata', () => {
    const picked = takeRows(sample(), [3, 0]);
    expect(picked.numRows).toBe(2);
    expect(picked.getChild('1')!.toArray()).toEqual(['d', 'a']);
    expect(tableTarget(picked)).toBe('label');

    const replaced = replaceColumns(picked, new Map([['x', [0.5, -0.5]]]));
    expect(replaced.schema.names).toEqual(['2', '1', 'x', 'label']);
    expect(numericColumn(replaced, 'x')).toEqual([0.5, -0.5]);
    expect(tableTarget(replaced)).toBe('label');
  });
});
