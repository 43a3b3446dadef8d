import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalArtifactStore, INLINE_BLOB_MAX_BYTES } from '@pipewright/artifacts';
import type { ArtifactStore } from '@pipewright/artifacts';
import { readJson, writeJson } from './json-io.ts';

let root: string;
let store: ArtifactStore;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pw-json-io-'));
  store = createLocalArtifactStore({ root });
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('writeJson / readJson', () => {
  it('keeps a small document inline in its uri and reads it back', async () => {
    const ref = await writeJson(store, { ok: true, score: 0.93 }, { kind: 'report' });
    expect(ref.uri.startsWith('data:')).toBe(true);
    expect(ref).toMatchObject({ type: 'json', mediaType: 'application/json', metadata: { kind: 'report' } });
    expect(ref.sizeBytes).toBeLessThanOrEqual(INLINE_BLOB_MAX_BYTES);
    expect(await readJson(store, ref)).toEqual({ ok: true, score: 0.93 });
  });

  it('writes a larger document to a file with the same digest it would have inline', async () => {
    const value = { rows: Array.from({ length: 200 }, (_, i) => i) };
    const ref = await writeJson(store, value);
    expect(ref.uri.startsWith('file:///')).toBe(true);
    expect(ref.sizeBytes).toBeGreaterThan(INLINE_BLOB_MAX_BYTES);
    expect(await readJson(store, ref)).toEqual(value);
  });
});
