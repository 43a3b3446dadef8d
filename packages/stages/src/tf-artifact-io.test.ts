import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initializers, layers, sequential } from '@tensorflow/tfjs-layers';
import type { Tensor } from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalArtifactStore } from '@pipewright/artifacts';
import type { ArtifactStore } from '@pipewright/artifacts';
import { loadTensorflow } from './tf-backend.ts';
import { loadModel, saveModel, TFJS_MODEL_MEDIA_TYPE } from './tf-artifact-io.ts';

let root: string;
let store: ArtifactStore;
beforeAll(async () => {
  await loadTensorflow();
  root = await mkdtemp(join(tmpdir(), 'pw-tf-io-'));
  store = createLocalArtifactStore({ root });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function buildModel() {
  const model = sequential({ name: 'm' });
  model.add(layers.dense({ name: 'h', units: 4, inputShape: [3], activation: 'relu', kernelInitializer: initializers.glorotUniform({ seed: 1 }) }));
  model.add(layers.dense({ name: 'out', units: 1, activation: 'sigmoid', kernelInitializer: initializers.glorotUniform({ seed: 2 }) }));
  return model;
}

describe('ArtifactStoreIOHandler', () => {
  it('saves model.json and one weights blob, and loads the same model back', async () => {
    const { tf } = await loadTensorflow();
    const model = buildModel();
    model.setUserDefinedMetadata({ pipewright: { features: ['a', 'b', 'c'] } });
    const ref = await saveModel(model, store, { note: 'test' });

    expect(ref).toMatchObject({ type: 'model', mediaType: TFJS_MODEL_MEDIA_TYPE, metadata: { note: 'test', format: 'layers-model' } });
    const modelJson = JSON.parse(new TextDecoder().decode(await store.get(ref.uri)));
    const weights = (ref.metadata as { weights: { digest: string; sizeBytes: number } }).weights;
    expect(modelJson.format).toBe('layers-model');
    expect(modelJson.modelTopology.config.name).toBe('m');
    expect(modelJson.weightsManifest).toHaveLength(1);
    expect(modelJson.weightsManifest[0].paths).toEqual([weights.digest]);
    expect(modelJson.weightsManifest[0].weights.map((w: { name: string }) => w.name)).toEqual(['h/kernel', 'h/bias', 'out/kernel', 'out/bias']);
    expect(weights.sizeBytes).toBe((3 * 4 + 4 + 4 * 1 + 1) * 4);

    const loaded = await loadModel(store, ref);
    expect(loaded.getUserDefinedMetadata()).toEqual({ pipewright: { features: ['a', 'b', 'c'] } });
    const x = tf.tensor2d([[0.1, -2, 3], [1, 1, 1]]);
    const expected = await (model.predict(x) as Tensor).data();
    const actual = await (loaded.predict(x) as Tensor).data();
    expect(Array.from(actual)).toEqual(Array.from(expected));
    model.dispose();
    loaded.dispose();
  });

  it('is content-addressed: the same model saves to the same digest', async () => {
    const a = buildModel();
    const b = buildModel();
    expect((await saveModel(a, store)).digest).toBe((await saveModel(b, store)).digest);
    a.dispose();
    b.dispose();
  });

  it('refuses weight paths that are not digests', async () => {
    const bogus = await store.put(
      new TextEncoder().encode(JSON.stringify({ modelTopology: {}, format: 'layers-model', weightsManifest: [{ paths: ['../../etc/passwd'], weights: [] }] })),
    );
    await expect(
      loadModel(store, { ...bogus, type: 'model', mediaType: TFJS_MODEL_MEDIA_TYPE }),
    ).rejects.toMatchObject({ code: 'PW_ERR_BAD_DATA' });
  });
});
