export type { ArtifactStore, PutOptions, StoredBlob } from './artifact-store.ts';
export { INLINE_BLOB_MAX_BYTES } from './inline-blob.ts';
export { ArtifactStoreError, createLocalArtifactStore } from './local-artifact-store.ts';
export type { LocalArtifactStoreOptions } from './local-artifact-store.ts';
