/** Kept for the package's public surface (index.ts); the metadata types live in model-metadata.ts. */
export type { ClassifierMetadata, ModelMetadata, RegressorMetadata } from './model-metadata.ts';
