import type { Readable } from 'node:stream';

/** What the store returns after writing bytes: enough to build an ArtifactRef. */
export interface StoredBlob {
  /** `sha256:<hex>` */
  digest: string;
  uri: string;
  sizeBytes: number;
}

export interface PutOptions {
  /**
   * Let the store keep the bytes in the returned uri itself (a `data:` uri) when they are a
   * Uint8Array of at most INLINE_BLOB_MAX_BYTES (512). Such a blob is durable with the ArtifactRef
   * that carries it (the artifact's row in Postgres) instead of as a file, which saves the
   * filesystem calls and fsyncs that dominate tiny outputs. The digest and size are the same
   * either way, so caching and lineage cannot tell the difference.
   *
   * Opt in only when the bytes are reached through the returned uri: `uriFor(digest)` always
   * names a file, so a blob looked up by digest (tfjs weights named in a model.json) must not be
   * inlined. Streams are never inlined.
   * @defaultValue false
   */
  inline?: boolean;
}

/**
 * A content-addressed blob store. Writing the same bytes twice (with the same options) yields
 * the same digest and uri and stores them once, so a stage that is re-run after a crash cannot
 * duplicate artifacts.
 */
export interface ArtifactStore {
  /** Stores bytes; returns their digest and where they live. */
  put(data: Uint8Array | Readable, options?: PutOptions): Promise<StoredBlob>;
  /** Reads the whole blob named by `uri` (as returned by put, inline `data:` uris included). */
  get(uri: string): Promise<Uint8Array>;
  /** Streams the blob named by `uri`. */
  openRead(uri: string): Promise<Readable>;
  exists(uri: string): Promise<boolean>;
  /** The uri a digest would have in this store if written to a file (never an inline uri). */
  uriFor(digest: string): string;
}
