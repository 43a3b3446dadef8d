import type { Table } from 'apache-arrow';
import type { ArtifactRef } from '@pipewright/core';
import type { ArtifactStore } from '@pipewright/artifacts';
import { featureMatrix } from '../table-io.ts';
import { loadTensorflow } from '../tf-backend.ts';
import { loadModel } from '../tf-artifact-io.ts';
import { predictDense } from './dense-network.ts';
import { parseModelMetadata } from './model-metadata.ts';
import type { ModelMetadata } from './model-metadata.ts';
import { predictRandomForest } from './random-forest.ts';
import { RANDOM_FOREST_MEDIA_TYPE, readForest } from './train-random-forest.ts';

export interface TablePredictions {
  meta: ModelMetadata;
  /**
   * binary: P(classes[1]) per row; multiclass: row-major rows x classes probabilities;
   * regression: the predicted value per row.
   */
  values: Float64Array;
  rows: number;
  /** The TensorFlow.js backend used, when the model is a tfjs one. */
  backend?: string;
}

/**
 * Runs any model a train.* stage saved (a TensorFlow.js layers model, or a random forest) on the
 * model's feature columns of `table`. Fails non-retryably when a feature column is missing.
 */
export async function predictTable(store: ArtifactStore, modelRef: ArtifactRef, table: Table): Promise<TablePredictions> {
  if (modelRef.mediaType === RANDOM_FOREST_MEDIA_TYPE) {
    const { meta, forest } = await readForest(store, modelRef);
    const x = featureMatrix(table, meta.features, Float64Array);
    let values = predictRandomForest(forest, x.values, x.rows);
    if (meta.task === 'binary') values = Float64Array.from({ length: x.rows }, (_, i) => values[i * 2 + 1]!);
    return { meta, values, rows: x.rows };
  }
  const loaded = await loadTensorflow();
  const model = await loadModel(store, modelRef);
  try {
    const meta = parseModelMetadata(model.getUserDefinedMetadata(), modelRef.metadata);
    const x = featureMatrix(table, meta.features, Float32Array);
    const output = await predictDense(loaded, model, x.values, x.rows, x.cols);
    return { meta, values: Float64Array.from(output), rows: x.rows, backend: loaded.backend };
  } finally {
    model.dispose();
  }
}
