import { z } from 'zod';
import { StageError } from '@pipewright/core';
import type { ArtifactRef } from '@pipewright/core';
import type { ArtifactStore } from '@pipewright/artifacts';
import { readJson } from '../json-io.ts';
import type { Label } from '../metrics/classification-metrics.ts';

/**
 * `classWeight` param of the classifiers: `balanced` (scikit-learn's
 * n_samples / (n_classes * count(class)), so every class weighs as much in the loss as if the
 * classes were equally frequent), or an explicit weight per label (labels as strings: `"1"`,
 * `"fraud"`; an unlisted label weighs 1).
 */
export const classWeightParam = z.union([z.literal('balanced'), z.record(z.string(), z.number().positive().finite())]);
export type ClassWeightParam = z.output<typeof classWeightParam>;

/** scikit-learn's `compute_class_weight('balanced', …)`, in `classes` order. */
export function balancedClassWeights(labels: readonly Label[], classes: readonly Label[]): number[] {
  const counts = new Map<Label, number>(classes.map((c) => [c, 0]));
  for (const label of labels) counts.set(label, (counts.get(label) ?? 0) + 1);
  return classes.map((c) => {
    const count = counts.get(c) ?? 0;
    return count === 0 ? 1 : labels.length / (classes.length * count);
  });
}

/** One weight per class, in `classes` order, from the param or from an explicit record. */
export function classWeightsFor(
  spec: ClassWeightParam | undefined,
  labels: readonly Label[],
  classes: readonly Label[],
): number[] | undefined {
  if (spec === undefined) return undefined;
  if (spec === 'balanced') return balancedClassWeights(labels, classes);
  const known = new Set(classes.map(String));
  const unknown = Object.keys(spec).filter((key) => !known.has(key));
  if (unknown.length > 0) {
    throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', `classWeight names labels the target does not have: ${unknown.join(', ')}`, {
      unknown,
      classes,
    });
  }
  return classes.map((c) => spec[String(c)] ?? 1);
}

/**
 * Reads class weights from a json artifact (e.g. the `weights` output of preprocess.balance@1):
 * either a record label -> weight, or an object holding one under `byClass`, `classWeights`,
 * `classWeight` or `weights`.
 */
export async function readClassWeights(store: ArtifactStore, ref: ArtifactRef): Promise<ClassWeightParam> {
  const value = await readJson<unknown>(store, ref);
  const record = pickRecord(value);
  const parsed = classWeightParam.safeParse(record);
  if (!parsed.success) {
    throw StageError.nonRetryable('PW_ERR_BAD_DATA', `the weights input is not a record of class weights: ${parsed.error.message}`);
  }
  return parsed.data;
}

function pickRecord(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  // preprocess.balance@1 writes `byClass`; `weights` there is an array in class order.
  for (const key of ['byClass', 'classWeights', 'classWeight', 'weights']) {
    const inner = (value as Record<string, unknown>)[key];
    if (inner === 'balanced' || (typeof inner === 'object' && inner !== null && !Array.isArray(inner))) return inner;
  }
  return value;
}
