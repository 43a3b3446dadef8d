export type { ArtifactStore, StoredBlob } from './artifact-store.ts';
export { ArtifactStoreError, createLocalArtifactStore } from './local-artifact-store.ts';
export type { LocalArtifactStoreOptions } from './local-artifact-store.ts';
