import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ArtifactStore, StoredBlob } from './artifact-store.ts';
import { decodeInlineUri, encodeInlineUri, INLINE_BLOB_MAX_BYTES, isInlineUri } from './inline-blob.ts';

export interface LocalArtifactStoreOptions {
  /**
   * Directory that holds the blobs (`<root>/sha256/<2 hex>/<64 hex>`) and in-flight temporary
   * files (`<root>/tmp/`). Created on first write. Relative paths resolve against the process'
   * working directory once, when the store is created.
   */
  root: string;
  /**
   * Re-hash a blob on `get()` and fail if it no longer matches its digest (disk rot, a hand
   * edit). Costs one sha256 pass over the bytes (~1 GB/s); `openRead()` never verifies.
   * @defaultValue true
   */
  verifyOnRead?: boolean;
}

/** Thrown when a uri names no blob in this store, or names something outside it. */
export class ArtifactStoreError extends Error {
  readonly code: 'PW_ERR_ARTIFACT_NOT_FOUND' | 'PW_ERR_ARTIFACT_CORRUPT' | 'PW_ERR_ARTIFACT_URI';

  constructor(code: ArtifactStoreError['code'], message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ArtifactStoreError';
    this.code = code;
  }
}

const DIGEST = /^sha256:([0-9a-f]{64})$/;
const BLOB_NAME = /^[0-9a-f]{64}$/;

/**
 * An ArtifactStore on the local filesystem (or a shared mount), content-addressed by sha256.
 *
 * Crash safety: bytes go to a temporary file on the same filesystem, are fsynced, and only then
 * renamed to their final name. rename(2) is atomic, so a blob path either does not exist or holds
 * the complete bytes whose hash is its name; a crash leaves at most a stray `tmp/*` file, never a
 * torn blob. Two writers of the same bytes race harmlessly: both renames install identical
 * content, and the store holds one file.
 *
 * Small blobs put with `{ inline: true }` touch no file at all: their uri is a `data:` uri that
 * holds the bytes (see INLINE_BLOB_MAX_BYTES), durable wherever the uri is recorded.
 */
export function createLocalArtifactStore(options: LocalArtifactStoreOptions): ArtifactStore {
  const root = resolve(options.root);
  const blobRoot = join(root, 'sha256');
  const tmpRoot = join(root, 'tmp');
  const verifyOnRead = options.verifyOnRead ?? true;

  const pathForHex = (hex: string): string => join(blobRoot, hex.slice(0, 2), hex);

  /** Maps a uri back to a blob path, refusing anything that is not a blob of this store. */
  function pathForUri(uri: string): { path: string; hex: string } {
    let path: string;
    try {
      path = fileURLToPath(uri);
    } catch (error) {
      throw new ArtifactStoreError('PW_ERR_ARTIFACT_URI', `not a file:// uri: ${uri}`, error);
    }
    const rel = relative(blobRoot, path);
    const parts = rel.split(sep);
    const [prefix, hex] = parts;
    if (
      isAbsolute(rel) ||
      parts.length !== 2 ||
      prefix === undefined ||
      hex === undefined ||
      !BLOB_NAME.test(hex) ||
      prefix !== hex.slice(0, 2)
    ) {
      throw new ArtifactStoreError('PW_ERR_ARTIFACT_URI', `uri is not a blob of the store at ${root}: ${uri}`);
    }
    return { path, hex };
  }

  /** Fsyncs `tmp`, moves it to the blob path for `hex`, and fsyncs the directory entry. */
  async function install(tmp: string, hex: string): Promise<string> {
    const target = pathForHex(hex);
    await mkdir(dirname(target), { recursive: true });
    await rename(tmp, target);
    await fsyncDirectory(dirname(target));
    return target;
  }

  async function alreadyStored(hex: string): Promise<boolean> {
    try {
      return (await stat(pathForHex(hex))).isFile();
    } catch {
      return false;
    }
  }

  async function putBytes(data: Uint8Array): Promise<StoredBlob> {
    const hex = createHash('sha256').update(data).digest('hex');
    const blob = describe(hex, data.byteLength);
    // Same bytes twice: nothing to write. The existing file is complete (see install()).
    if (await alreadyStored(hex)) return blob;
    const target = pathForHex(hex);
    await mkdir(dirname(target), { recursive: true });
    // The temporary file lives next to its final name, so the rename never crosses filesystems.
    const tmp = join(dirname(target), `.tmp-${hex}-${randomUUID()}`);
    try {
      const handle = await open(tmp, 'wx');
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await install(tmp, hex);
    } catch (error) {
      await unlink(tmp).catch(() => undefined);
      throw error;
    }
    return blob;
  }

  async function putStream(data: Readable): Promise<StoredBlob> {
    // The digest is known only at the end, so the bytes land in tmp/ (same filesystem as the
    // blobs) while they are hashed, and move to their final directory afterwards.
    await mkdir(tmpRoot, { recursive: true });
    const tmp = join(tmpRoot, `.tmp-${randomUUID()}`);
    const hash = createHash('sha256');
    let sizeBytes = 0;
    const tap = new Transform({
      transform(chunk: unknown, _encoding, callback) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
        hash.update(bytes);
        sizeBytes += bytes.byteLength;
        callback(null, bytes);
      },
    });
    try {
      await pipeline(data, tap, createWriteStream(tmp, { flags: 'wx' }));
      // fsync flushes the file's pages whichever descriptor asks.
      const handle = await open(tmp, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      const hex = hash.digest('hex');
      if (await alreadyStored(hex)) {
        await unlink(tmp);
      } else {
        await install(tmp, hex);
      }
      return describe(hex, sizeBytes);
    } catch (error) {
      await unlink(tmp).catch(() => undefined);
      throw error;
    }
  }

  function describe(hex: string, sizeBytes: number): StoredBlob {
    return { digest: `sha256:${hex}`, uri: pathToFileURL(pathForHex(hex)).href, sizeBytes };
  }

  return {
    async put(data, putOptions) {
      if (data instanceof Uint8Array) {
        if (putOptions?.inline === true && data.byteLength <= INLINE_BLOB_MAX_BYTES) {
          const hex = createHash('sha256').update(data).digest('hex');
          return { digest: `sha256:${hex}`, uri: encodeInlineUri(data), sizeBytes: data.byteLength };
        }
        return putBytes(data);
      }
      return putStream(data);
    },

    async get(uri) {
      if (isInlineUri(uri)) return inlineBytes(uri);
      const { path, hex } = pathForUri(uri);
      let bytes: Buffer;
      try {
        bytes = await readFile(path);
      } catch (error) {
        throw notFound(uri, error);
      }
      if (verifyOnRead && createHash('sha256').update(bytes).digest('hex') !== hex) {
        throw new ArtifactStoreError('PW_ERR_ARTIFACT_CORRUPT', `blob does not match its digest: ${uri}`);
      }
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },

    async openRead(uri) {
      // A byte stream like the file's (not object mode), in one chunk.
      if (isInlineUri(uri)) return Readable.from([inlineBytes(uri)], { objectMode: false });
      const { path } = pathForUri(uri);
      // Open before returning so a missing blob fails here, not on the first read.
      const handle = await open(path, 'r').catch((error: unknown) => {
        throw notFound(uri, error);
      });
      return handle.createReadStream();
    },

    async exists(uri) {
      // The bytes are the uri: it exists if it decodes (a malformed one throws, like a foreign path).
      if (isInlineUri(uri)) {
        inlineBytes(uri);
        return true;
      }
      const { path } = pathForUri(uri);
      try {
        return (await stat(path)).isFile();
      } catch {
        return false;
      }
    },

    uriFor(digest) {
      const match = DIGEST.exec(digest);
      if (!match?.[1]) throw new ArtifactStoreError('PW_ERR_ARTIFACT_URI', `not a sha256 digest: ${digest}`);
      return pathToFileURL(pathForHex(match[1])).href;
    },
  };
}

/** Decodes a `data:` uri this store produced; anything else is refused as not one of its uris. */
function inlineBytes(uri: string): Uint8Array {
  const bytes = decodeInlineUri(uri);
  if (bytes === undefined) {
    const shown = uri.length > 80 ? `${uri.slice(0, 80)}…` : uri;
    throw new ArtifactStoreError('PW_ERR_ARTIFACT_URI', `not an inline blob uri of this store: ${shown}`);
  }
  return bytes;
}

function notFound(uri: string, cause: unknown): ArtifactStoreError {
  return new ArtifactStoreError('PW_ERR_ARTIFACT_NOT_FOUND', `no artifact at ${uri}`, cause);
}

/** Makes a rename durable. Some filesystems refuse fsync on directories; that is not fatal. */
async function fsyncDirectory(path: string): Promise<void> {
  try {
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort: the data itself was fsynced before the rename.
  }
}
