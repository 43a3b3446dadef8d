import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJsonStream } from '../read-json-stream.ts';
import { StageTestEnvironment } from '../testing/stage-test-environment.ts';
import { numericColumn, readTable, tableTarget } from '../table-io.ts';
import { createIngestJsonStage } from './ingest-json.ts';

let dir: string;
let env: StageTestEnvironment;
const RECORDS = [
  { id: 1, name: 'Åsa', score: 0.5, ok: true, tags: ['a', 'b'] },
  { id: 2, name: null, score: 1.5, ok: false, extra: 'late key' },
  { id: 3, name: 'Bo "quoted", [bracketed] {braced}', ok: true },
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pw-ingest-json-'));
  await mkdir(join(dir, 'data'));
  await writeFile(join(dir, 'data', 'records.json'), `\uFEFF  ${JSON.stringify(RECORDS, null, 2)}\n`);
  await writeFile(join(dir, 'data', 'records.jsonl'), `${RECORDS.map((r) => JSON.stringify(r)).join('\n')}\n\n`);
  await writeFile(join(dir, 'data', 'truncated.json'), JSON.stringify(RECORDS).slice(0, -5));
  await writeFile(join(dir, 'data', 'scalars.json'), '[1, 2, 3]');
  await writeFile(join(dir, 'data', 'empty.json'), '[]');
  await writeFile(join(dir, 'data', 'bad.jsonl'), '{"a": 1}\n{"a": 2,}\n');
  env = await StageTestEnvironment.create();
});
afterAll(async () => {
  await env.dispose();
  await rm(dir, { recursive: true, force: true });
});

const stage = () => createIngestJsonStage({ baseDir: join(dir, 'data') });

async function fromChunks(chunks: string[], format: 'auto' | 'json' | 'jsonl' = 'auto') {
  return readJsonStream(Readable.from(chunks.map((c) => Buffer.from(c))), { format, signal: new AbortController().signal });
}

describe('ingest.json@1', () => {
  for (const file of ['records.json', 'records.jsonl']) {
    it(`reads ${file} into typed columns, keys in first-seen order`, async () => {
      const run = await env.run(stage(), { params: { path: file, target: 'ok' } });
      const table = await readTable(env.store, run.outputs.data!);
      expect(table.schema.names).toEqual(['id', 'name', 'score', 'ok', 'tags', 'extra']);
      expect(table.schema.fields.map((f) => String(f.type))).toEqual(['Float64', 'Utf8', 'Float64', 'Float64', 'Utf8', 'Utf8']);
      expect(numericColumn(table, 'id')).toEqual([1, 2, 3]);
      expect(numericColumn(table, 'score')).toEqual([0.5, 1.5, null]);
      expect(numericColumn(table, 'ok')).toEqual([1, 0, 1]);
      expect(table.getChild('name')!.toArray()).toEqual(['Åsa', null, 'Bo "quoted", [bracketed] {braced}']);
      expect(table.getChild('tags')!.toArray()).toEqual(['["a","b"]', null, null]);
      expect(table.getChild('extra')!.toArray()).toEqual([null, 'late key', null]);
      expect(tableTarget(table)).toBe('ok');
      expect(run.outputs.data!.metadata).toMatchObject({ rows: 3, source: { path: file, format: file.endsWith('l') ? 'jsonl' : 'json' } });
    });
  }

  it('splits array elements correctly whatever the chunk boundaries (strings, escapes, nesting, UTF-8)', async () => {
    const text = JSON.stringify([
      { s: 'a,b]}', n: 1, o: { x: [1, { y: '\\"' }] } },
      { s: 'ü€😀', n: -2.5e3, o: null },
      { s: '\\', n: 0 },
    ]);
    const bytes = Buffer.from(text);
    const whole = await fromChunks([text]);
    for (let size = 1; size <= 7; size++) {
      // Split bytes, not characters, so multi-byte sequences straddle chunks.
      const parts: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
      const result = await readJsonStream(Readable.from(parts), { signal: new AbortController().signal });
      expect(result.table.getChild('s')!.toArray()).toEqual(['a,b]}', 'ü€😀', '\\']);
      expect(numericColumn(result.table, 'n')).toEqual([1, -2500, 0]);
      expect(result.table.getChild('o')!.toArray()).toEqual(whole.table.getChild('o')!.toArray());
    }
  });

  it('turns a column holding numbers and strings into text', async () => {
    const { table } = await fromChunks(['{"code": 7}\n{"code": "A12"}\n{"code": 1.5}\n'], 'jsonl');
    expect(String(table.getChild('code')!.type)).toBe('Utf8');
    expect(table.getChild('code')!.toArray()).toEqual(['7', 'A12', '1.5']);
  });

  it('refuses malformed, truncated, non-record and empty documents as bad data', async () => {
    for (const path of ['truncated.json', 'scalars.json', 'empty.json', 'bad.jsonl']) {
      await expect(env.run(stage(), { params: { path, target: 'a' } }), path).rejects.toMatchObject({ code: 'PW_ERR_BAD_DATA', retryable: false });
    }
    await expect(fromChunks(['[{"a":1}] x'])).rejects.toMatchObject({ code: 'PW_ERR_BAD_DATA' });
    await expect(fromChunks(['[{"a":1},,{"a":2}]'])).rejects.toMatchObject({ code: 'PW_ERR_BAD_DATA' });
  });

  it('fails without retry on a missing target, and refuses paths outside the data directory', async () => {
    await expect(env.run(stage(), { params: { path: 'records.json', target: 'nope' } })).rejects.toMatchObject({ code: 'PW_ERR_BAD_DATA' });
    await expect(env.run(stage(), { params: { path: '../x.json', target: 'a' } })).rejects.toMatchObject({ code: 'PW_ERR_BAD_PARAMS' });
  });

  it('streams a large JSON Lines input in bounded chunks', async () => {
    const rows = 50_000;
    function* lines() {
      for (let i = 0; i < rows; i++) yield Buffer.from(`{"i": ${i}, "label": "${i % 3 === 0 ? 'a' : 'b'}", "x": ${i / 7}}\n`);
    }
    const { table } = await readJsonStream(Readable.from(lines()), { signal: new AbortController().signal });
    expect(table.numRows).toBe(rows);
    const x = numericColumn(table, 'x');
    expect(x[rows - 1]).toBe((rows - 1) / 7);
    expect(table.getChild('label')!.get(3)).toBe('a');
  });
});
