import { io } from '@tensorflow/tfjs-core';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { StageError } from '@pipewright/core';
import type { ArtifactRef } from '@pipewright/core';
import type { ArtifactStore } from '@pipewright/artifacts';
import { readArtifactBytes } from './read-artifact.ts';

/** Media type of a model artifact: a tfjs `model.json` whose weight paths are blob digests. */
export const TFJS_MODEL_MEDIA_TYPE = 'application/vnd.pipewright.tfjs-model+json';
/** Media type of the weights blob a model artifact points at. */
export const TFJS_WEIGHTS_MEDIA_TYPE = 'application/octet-stream';

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * A tfjs IOHandler over the artifact store (pure tfjs has no `file://` handler).
 *
 * Saving stores all weights as one blob, then a standard `model.json` whose
 * `weightsManifest[].paths` hold the weight blob's digest (`sha256:…`) instead of a relative file
 * name. Digests rather than locations keep the model.json valid in every store it is copied to,
 * and make it content-addressed all the way down: same weights and topology, same digest.
 *
 * `model.save(handler)` leaves the resulting ref in `handler.saved`; `loadLayersModel(handler)`
 * reads the model named by `source`.
 */
export class ArtifactStoreIOHandler implements io.IOHandler {
  /** The model artifact written by the last save(). */
  saved: ArtifactRef | undefined;

  constructor(
    private readonly store: ArtifactStore,
    private readonly options: {
      /** The model artifact (or its uri) that load() reads. */
      source?: ArtifactRef | string;
      /** Extra facts for the saved ref's metadata (features, target, classes…). */
      metadata?: Record<string, unknown>;
    } = {},
  ) {}

  async save(artifacts: io.ModelArtifacts): Promise<io.SaveResult> {
    if (artifacts.modelTopology === undefined || artifacts.modelTopology instanceof ArrayBuffer) {
      throw new Error('ArtifactStoreIOHandler saves layers models (JSON topology), not graph-model protobufs');
    }
    const weightData = io.CompositeArrayBuffer.join(artifacts.weightData ?? new ArrayBuffer(0));
    const weights = await this.store.put(new Uint8Array(weightData));
    const modelJson: io.ModelJSON = {
      modelTopology: artifacts.modelTopology,
      format: artifacts.format ?? 'layers-model',
      generatedBy: artifacts.generatedBy ?? '',
      convertedBy: artifacts.convertedBy ?? null,
      weightsManifest: [{ paths: [weights.digest], weights: artifacts.weightSpecs ?? [] }],
      ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
      ...(artifacts.signature ? { signature: artifacts.signature } : {}),
      ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
    };
    const stored = await this.store.put(new TextEncoder().encode(JSON.stringify(modelJson)));
    this.saved = {
      ...stored,
      type: 'model',
      mediaType: TFJS_MODEL_MEDIA_TYPE,
      metadata: {
        ...this.options.metadata,
        format: modelJson.format,
        // Retention must keep this blob as long as the model artifact lives.
        weights: { digest: weights.digest, uri: weights.uri, sizeBytes: weights.sizeBytes, mediaType: TFJS_WEIGHTS_MEDIA_TYPE },
      },
    };
    return { modelArtifactsInfo: io.getModelArtifactsInfoForJSON(artifacts) };
  }

  async load(): Promise<io.ModelArtifacts> {
    const source = this.options.source;
    if (source === undefined) throw new Error('ArtifactStoreIOHandler: no source to load from');
    const uri = typeof source === 'string' ? source : source.uri;
    let modelJson: io.ModelJSON;
    try {
      modelJson = JSON.parse(new TextDecoder().decode(await readArtifactBytes(this.store, { uri }))) as io.ModelJSON;
    } catch (error) {
      if (error instanceof SyntaxError) {
        throw StageError.nonRetryable('PW_ERR_BAD_DATA', `model artifact is not a model.json: ${uri}`, undefined, error);
      }
      throw error;
    }
    if (!modelJson || typeof modelJson !== 'object' || !('modelTopology' in modelJson)) {
      throw StageError.nonRetryable('PW_ERR_BAD_DATA', `model artifact is not a tfjs model.json: ${uri}`);
    }
    return io.getModelArtifactsForJSON(modelJson, async (manifest) => {
      const buffers: ArrayBuffer[] = [];
      for (const group of manifest) {
        for (const path of group.paths) {
          if (!DIGEST.test(path)) {
            throw StageError.nonRetryable('PW_ERR_BAD_DATA', `weights path is not a sha256 digest: ${path}`);
          }
          const bytes = await readArtifactBytes(this.store, { uri: this.store.uriFor(path) });
          buffers.push(bytes.slice().buffer);
        }
      }
      return [manifest.flatMap((group) => group.weights), io.CompositeArrayBuffer.join(buffers)];
    });
  }
}

/** Saves a layers model into the store; returns its model artifact. */
export async function saveModel(
  model: LayersModel,
  store: ArtifactStore,
  metadata: Record<string, unknown> = {},
): Promise<ArtifactRef> {
  const handler = new ArtifactStoreIOHandler(store, { metadata });
  await model.save(handler);
  if (!handler.saved) throw new Error('model.save() returned without saving');
  return handler.saved;
}

/** Loads a layers model saved by saveModel. */
export async function loadModel(store: ArtifactStore, ref: ArtifactRef): Promise<LayersModel> {
  if (ref.type !== 'model') {
    throw StageError.nonRetryable('PW_ERR_BAD_DATA', `expected a model artifact, got ${ref.type} (${ref.uri})`);
  }
  return loadLayersModel(new ArtifactStoreIOHandler(store, { source: ref }));
}
