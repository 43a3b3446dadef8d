import { StageError } from '@pipewright/core';
import type { Label } from '../metrics/classification-metrics.ts';

/**
 * What a saved classifier knows about its data, stored in model.json's userDefinedMetadata
 * (under `pipewright`) and in the artifact's metadata, so evaluation needs nothing else.
 */
export interface ClassifierMetadata {
  task: 'binary' | 'multiclass';
  /** Input columns, in the order of the model's input vector. */
  features: string[];
  target: string;
  /** Labels in output order: the sigmoid predicts classes[1]; softmax unit k predicts classes[k]. */
  classes: Label[];
}

/** What a saved regressor knows about its data; its single output is in the target's unit. */
export interface RegressorMetadata {
  task: 'regression';
  features: string[];
  target: string;
}

export type ModelMetadata = ClassifierMetadata | RegressorMetadata;

/**
 * The model's metadata, from model.json (preferred: it travels with the weights) or the artifact
 * ref. Fails non-retryably when neither describes features, target and task.
 */
export function parseModelMetadata(fromModel: unknown, fromRef: Record<string, unknown> | undefined): ModelMetadata {
  const candidate = (fromModel as { pipewright?: unknown } | undefined)?.pipewright ?? fromRef;
  const meta = candidate as (Partial<Omit<ClassifierMetadata, 'task'>> & { task?: unknown }) | undefined;
  const described =
    meta !== undefined &&
    Array.isArray(meta.features) &&
    typeof meta.target === 'string' &&
    (meta.task === 'regression' || ((meta.task === 'binary' || meta.task === 'multiclass') && Array.isArray(meta.classes)));
  if (!described) {
    throw StageError.nonRetryable(
      'PW_ERR_BAD_DATA',
      'the model does not say which features, target and task it was trained on; was it trained by a train.* stage?',
    );
  }
  return meta as ModelMetadata;
}

export function isClassifier(meta: ModelMetadata): meta is ClassifierMetadata {
  return meta.task === 'binary' || meta.task === 'multiclass';
}
