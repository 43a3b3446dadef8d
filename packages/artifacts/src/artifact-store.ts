import type { Readable } from 'node:stream';

/** What the store returns after writing bytes: enough to build an ArtifactRef. */
export interface StoredBlob {
  /** `sha256:<hex>` */
  digest: string;
  uri: string;
  sizeBytes: number;
}

/**
 * A content-addressed blob store. Writing the same bytes twice yields the same digest and uri
 * and stores them once, so a stage that is re-run after a crash cannot duplicate artifacts.
 */
export interface ArtifactStore {
  /** Stores bytes; returns their digest and where they live. */
  put(data: Uint8Array | Readable): Promise<StoredBlob>;
  /** Reads the whole blob named by `uri` (as returned by put). */
  get(uri: string): Promise<Uint8Array>;
  /** Streams the blob named by `uri`. */
  openRead(uri: string): Promise<Readable>;
  exists(uri: string): Promise<boolean>;
  /** The uri a digest would have in this store. */
  uriFor(digest: string): string;
}
