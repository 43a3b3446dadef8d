import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArtifactStoreError, createLocalArtifactStore } from './local-artifact-store.ts';
import type { ArtifactStore } from './artifact-store.ts';
import { INLINE_BLOB_MAX_BYTES } from './inline-blob.ts';

let root: string;
let store: ArtifactStore;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'pw-artifacts-'));
  store = createLocalArtifactStore({ root });
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Every file under `dir`, relative, sorted. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

function chunked(bytes: Uint8Array, chunkSize: number): Readable {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.byteLength; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
  return Readable.from(chunks);
}

function pseudoRandomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('createLocalArtifactStore', () => {
  it('stores bytes under sha256/<2 hex>/<hex> and returns a file:// uri', async () => {
    const bytes = new TextEncoder().encode('hello pipewright');
    const hex = sha256(bytes);
    const blob = await store.put(bytes);

    expect(blob.digest).toBe(`sha256:${hex}`);
    expect(blob.sizeBytes).toBe(bytes.byteLength);
    expect(blob.uri).toBe(pathToFileURL(join(root, 'sha256', hex.slice(0, 2), hex)).href);
    expect(blob.uri.startsWith('file:///')).toBe(true);
    expect(store.uriFor(blob.digest)).toBe(blob.uri);
    expect(await store.exists(blob.uri)).toBe(true);
    expect(Buffer.from(await store.get(blob.uri)).toString()).toBe('hello pipewright');
    expect(await listFiles(root)).toEqual([join('sha256', hex.slice(0, 2), hex)]);
  });

  it('keeps one file when the same bytes are written twice, even concurrently', async () => {
    const bytes = pseudoRandomBytes(64 * 1024);
    const results = await Promise.all([
      store.put(bytes),
      store.put(bytes),
      store.put(chunked(bytes, 1000)),
      store.put(chunked(bytes, 7777)),
    ]);
    const again = await store.put(bytes);

    for (const r of [...results, again]) expect(r).toEqual(results[0]);
    expect(await listFiles(root)).toHaveLength(1);
  });

  it('streams large data in and out without changing a byte', async () => {
    const bytes = pseudoRandomBytes(5 * 1024 * 1024 + 17);
    const blob = await store.put(chunked(bytes, 64 * 1024));

    expect(blob.digest).toBe(`sha256:${sha256(bytes)}`);
    expect(blob.sizeBytes).toBe(bytes.byteLength);
    const back = await buffer(await store.openRead(blob.uri));
    expect(back.equals(Buffer.from(bytes))).toBe(true);
    // The temporary file was moved, not copied.
    expect((await listFiles(root)).filter((f) => !f.startsWith('sha256'))).toEqual([]);
  });

  it('accepts string chunks from a stream', async () => {
    const blob = await store.put(Readable.from(['a,b\n', '1,2\n']));
    expect(Buffer.from(await store.get(blob.uri)).toString()).toBe('a,b\n1,2\n');
  });

  it('leaves no temporary file behind when the source stream fails', async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(1024);
      throw new Error('network went away');
    }
    await expect(store.put(Readable.from(failing()))).rejects.toThrow('network went away');
    expect(await listFiles(root)).toEqual([]);
  });

  it('refuses uris that are not blobs of this store', async () => {
    const other = createLocalArtifactStore({ root: join(root, 'elsewhere') });
    const foreign = await other.put(new Uint8Array([1, 2, 3]));
    const hex = '0'.repeat(64);

    for (const uri of [
      foreign.uri,
      'https://example.com/x',
      pathToFileURL('/etc/passwd').href,
      pathToFileURL(join(root, 'sha256', '00', '..', '..', '..', 'etc', 'passwd')).href,
      pathToFileURL(join(root, 'sha256', 'ff', hex)).href, // prefix does not match the name
    ]) {
      await expect(store.get(uri)).rejects.toMatchObject({ code: 'PW_ERR_ARTIFACT_URI' });
    }
    expect(() => store.uriFor('md5:abc')).toThrow(ArtifactStoreError);
  });

  it('reports a missing blob as not found', async () => {
    const uri = store.uriFor(`sha256:${'ab'.repeat(32)}`);
    expect(await store.exists(uri)).toBe(false);
    await expect(store.get(uri)).rejects.toMatchObject({ code: 'PW_ERR_ARTIFACT_NOT_FOUND' });
    await expect(store.openRead(uri)).rejects.toMatchObject({ code: 'PW_ERR_ARTIFACT_NOT_FOUND' });
  });

  it('detects a blob whose bytes no longer match its digest', async () => {
    const blob = await store.put(new TextEncoder().encode('original'));
    await writeFile(fileURLToPath(blob.uri), 'tampered');
    await expect(store.get(blob.uri)).rejects.toMatchObject({ code: 'PW_ERR_ARTIFACT_CORRUPT' });
    const lenient = createLocalArtifactStore({ root, verifyOnRead: false });
    expect(Buffer.from(await lenient.get(blob.uri)).toString()).toBe('tampered');
  });
});

describe('inline blobs', () => {
  const DATA_PREFIX = 'data:application/octet-stream;base64,';

  it('keeps small bytes in a data: uri, touches no file, and reads them back every way', async () => {
    const bytes = new TextEncoder().encode('{\n  "ok": true\n}\n');
    const blob = await store.put(bytes, { inline: true });

    expect(blob.uri).toBe(`${DATA_PREFIX}${Buffer.from(bytes).toString('base64')}`);
    expect(blob.digest).toBe(`sha256:${sha256(bytes)}`);
    expect(blob.sizeBytes).toBe(bytes.byteLength);
    expect(await listFiles(root)).toEqual([]);

    expect(await store.exists(blob.uri)).toBe(true);
    expect(Buffer.from(await store.get(blob.uri)).equals(Buffer.from(bytes))).toBe(true);
    const streamed = await buffer(await store.openRead(blob.uri));
    expect(streamed.equals(Buffer.from(bytes))).toBe(true);
    // Any store reads it: the bytes are in the uri, not under a root.
    const other = createLocalArtifactStore({ root: join(root, 'elsewhere') });
    expect(Buffer.from(await other.get(blob.uri)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('has the digest and size of the same bytes stored as a file', async () => {
    const bytes = pseudoRandomBytes(300);
    const inline = await store.put(bytes, { inline: true });
    const file = await store.put(bytes);

    expect(inline.uri.startsWith('data:')).toBe(true);
    expect(file.uri.startsWith('file:///')).toBe(true);
    expect(inline.digest).toBe(file.digest);
    expect(inline.sizeBytes).toBe(file.sizeBytes);
    // uriFor stays file-based: digests resolve to files, whatever was inlined.
    expect(store.uriFor(inline.digest)).toBe(file.uri);
  });

  it('inlines up to INLINE_BLOB_MAX_BYTES and writes a file above it', async () => {
    expect(INLINE_BLOB_MAX_BYTES).toBe(512);
    const atLimit = await store.put(pseudoRandomBytes(INLINE_BLOB_MAX_BYTES), { inline: true });
    const empty = await store.put(new Uint8Array(0), { inline: true });
    expect(atLimit.uri.startsWith(DATA_PREFIX)).toBe(true);
    expect(empty.uri).toBe(DATA_PREFIX);
    expect((await store.get(empty.uri)).byteLength).toBe(0);
    expect(await listFiles(root)).toEqual([]);

    const over = pseudoRandomBytes(INLINE_BLOB_MAX_BYTES + 1);
    const overBlob = await store.put(over, { inline: true });
    expect(overBlob.uri.startsWith('file:///')).toBe(true);
    expect(await listFiles(root)).toHaveLength(1);
    expect(Buffer.from(await store.get(overBlob.uri)).equals(Buffer.from(over))).toBe(true);
  });

  it('writes a file without the opt-in, and for streams even with it', async () => {
    const bytes = new TextEncoder().encode('tiny');
    expect((await store.put(bytes)).uri.startsWith('file:///')).toBe(true);
    expect((await store.put(bytes, { inline: false })).uri.startsWith('file:///')).toBe(true);
    expect((await store.put(Readable.from([bytes]), { inline: true })).uri.startsWith('file:///')).toBe(true);
    expect(await listFiles(root)).toHaveLength(1);
  });

  it('refuses malformed data: uris', async () => {
    const good = Buffer.from('hello').toString('base64');
    for (const uri of [
      'data:',
      `data:text/plain;base64,${good}`, // another media type
      `data:application/octet-stream,${good}`, // not base64
      `data:application/octet-stream;base64,${good.slice(0, -1)}`, // padding cut off
      `data:application/octet-stream;base64,${good}!!`, // characters base64 does not have
      `data:application/octet-stream;base64,aGVsbG9=`, // non-canonical trailing bits
    ]) {
      await expect(store.get(uri), uri).rejects.toMatchObject({ code: 'PW_ERR_ARTIFACT_URI' });
      await expect(store.openRead(uri), uri).rejects.toMatchObject({ code: 'PW_ERR_ARTIFACT_URI' });
      await expect(store.exists(uri), uri).rejects.toBeInstanceOf(ArtifactStoreError);
    }
  });
});
