import { StageError } from '@pipewright/core';
import type { ArtifactRef } from '@pipewright/core';
import type { ArtifactStore } from '@pipewright/artifacts';
import { readArtifactBytes } from './read-artifact.ts';

export const JSON_MEDIA_TYPE = 'application/json';

/**
 * Stores `value` as a JSON artifact. Serialised with JSON.stringify, so key order follows
 * insertion order: build values deterministically and equal reports get equal digests.
 *
 * Small documents (a no-op's result, a metric report) are stored inline in the ref's uri: they
 * are always read back through `ref.uri`, never looked up by digest, and skipping the file's
 * fsyncs is most of a tiny stage's cost.
 */
export async function writeJson(store: ArtifactStore, value: unknown, metadata?: Record<string, unknown>): Promise<ArtifactRef> {
  const stored = await store.put(new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`), { inline: true });
  return { ...stored, type: 'json', mediaType: JSON_MEDIA_TYPE, ...(metadata ? { metadata } : {}) };
}

export async function readJson<T = unknown>(store: ArtifactStore, ref: ArtifactRef): Promise<T> {
  if (ref.type !== 'json') {
    throw StageError.nonRetryable('PW_ERR_BAD_DATA', `expected a json artifact, got ${ref.type} (${ref.uri})`);
  }
  return JSON.parse(new TextDecoder().decode(await readArtifactBytes(store, ref))) as T;
}
