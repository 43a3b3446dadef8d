import { StageError } from '@pipewright/core';
import type { ArtifactRef } from '@pipewright/core';
import type { ArtifactStore } from '@pipewright/artifacts';

/**
 * Reads an input artifact's bytes. A blob missing from the store becomes PW_ERR_INPUT_MISSING
 * (not retryable: running this stage again cannot bring it back; re-running its producer can).
 * Stores signal a missing blob with `code: 'PW_ERR_ARTIFACT_NOT_FOUND'`, whatever their class.
 */
export async function readArtifactBytes(store: ArtifactStore, ref: Pick<ArtifactRef, 'uri'>): Promise<Uint8Array> {
  try {
    return await store.get(ref.uri);
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === 'PW_ERR_ARTIFACT_NOT_FOUND') {
      throw StageError.nonRetryable('PW_ERR_INPUT_MISSING', `input artifact is missing from the store: ${ref.uri}`, { uri: ref.uri }, error);
    }
    throw error;
  }
}
