/**
 * The kinds of artifact a stage can consume or produce. Validation refuses a pipeline whose
 * input is bound to an output of another kind, before anything runs.
 */
export const ARTIFACT_TYPES = ['table', 'model', 'json'] as const;
export type ArtifactType = (typeof ARTIFACT_TYPES)[number];

/**
 * A pointer to an immutable, content-addressed artifact. Workers pass these around instead of
 * bytes; the artifact store resolves `uri` to the content whose sha256 is `digest`.
 */
export interface ArtifactRef {
  /** `sha256:<hex>` of the stored bytes. */
  digest: string;
  /** Where the bytes live: `file:///…`, `s3://…`, or `data:…` for a small blob kept inline (see `@pipewright/artifacts`). */
  uri: string;
  type: ArtifactType;
  /** IANA media type, e.g. `application/vnd.apache.arrow.file`. */
  mediaType: string;
  sizeBytes: number;
  /** Small, JSON-serialisable facts about the content (row count, columns, target…). */
  metadata?: Record<string, unknown>;
}
