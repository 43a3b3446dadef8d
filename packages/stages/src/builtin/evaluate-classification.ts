import type { Tensor } from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { StageError } from '@pipewright/core';
import { defineStage } from '../define-stage.ts';
import { writeJson } from '../json-io.ts';
import {
  accuracyScore,
  binaryPrecisionRecallF1,
  confusionMatrix,
  macroPrecisionRecallF1,
} from '../metrics/classification-metrics.ts';
import type { Label } from '../metrics/classification-metrics.ts';
import { rocAucOneVsRestMacro, rocAucScore } from '../metrics/roc-auc.ts';
import { featureMatrix, labelColumn, readTable } from '../table-io.ts';
import { loadTensorflow } from '../tf-backend.ts';
import { loadModel } from '../tf-artifact-io.ts';
import type { ClassifierMetadata } from './fit-classifier.ts';

const params = z.strictObject({
  /** Probability of the positive class from which a binary prediction is positive. */
  threshold: z.number().gt(0).lt(1).default(0.5),
});

/** The `report` output of `evaluate.classification@1`. */
export interface ClassificationReport {
  task: 'binary' | 'multiclass';
  target: string;
  classes: Label[];
  /** Binary only: the class precision, recall and F1 are about (classes[1], e.g. 1). */
  positiveClass?: Label;
  threshold?: number;
  /** Binary: of the positive class. Multiclass: macro averages; roc_auc one-vs-rest. */
  metrics: Record<string, number>;
  /** Rows are true labels, columns predicted labels, both in `labels` order. */
  confusionMatrix: { labels: Label[]; matrix: number[][] };
  samples: number;
  model: string;
  test: string;
}

export const evaluateClassificationStage = defineStage({
  type: 'evaluate.classification@1',
  description:
    'Scores a classifier on a held-out table: accuracy, precision, recall, F1 (of class 1 for binary ' +
    'targets, macro-averaged otherwise), ROC-AUC and the confusion matrix.',
  inputs: { model: 'model', test: 'table' },
  outputs: { report: 'json' },
  params,
  defaultTimeoutMs: 30 * 60_000,
  async run(ctx) {
    const { tf, backend } = await loadTensorflow();
    ctx.setBackend(backend);
    const modelRef = ctx.inputs.model!;
    const testRef = ctx.inputs.test!;
    const model = await loadModel(ctx.store, modelRef);
    let probabilities: Float32Array;
    let meta: ClassifierMetadata;
    let yTrue: Label[];
    try {
      meta = classifierMetadata(model.getUserDefinedMetadata(), modelRef.metadata);
      const test = await readTable(ctx.store, testRef);
      yTrue = labelColumn(test, meta.target);
      const x = featureMatrix(test, meta.features, Float32Array);
      ctx.signal.throwIfAborted();
      const input = tf.tensor2d(x.values, [x.rows, x.cols]);
      try {
        const output = model.predict(input) as Tensor;
        probabilities = (await output.data()) as Float32Array;
        output.dispose();
      } finally {
        input.dispose();
      }
    } finally {
      model.dispose();
    }

    const classes = meta.classes;
    const unseen = [...new Set(yTrue.filter((label) => !classes.includes(label)))];
    if (unseen.length > 0) {
      ctx.logger.warn('test labels the model never saw count as errors', { labels: unseen });
    }
    const metrics: Record<string, number> = {};
    let yPred: Label[];
    let extra: Partial<ClassificationReport> = {};
    if (meta.task === 'binary') {
      const positive = classes[1]!;
      const threshold = ctx.params.threshold;
      yPred = Array.from(probabilities, (p) => (p >= threshold ? positive : classes[0]!));
      const prf = binaryPrecisionRecallF1(yTrue, yPred, positive);
      Object.assign(metrics, { accuracy: accuracyScore(yTrue, yPred), ...prf });
      const auc = rocAucScore(yTrue.map((label) => label === positive), probabilities);
      if (!Number.isNaN(auc)) metrics.roc_auc = auc;
      extra = { positiveClass: positive, threshold };
    } else {
      const k = classes.length;
      yPred = yTrue.map((_, i) => {
        let best = 0;
        for (let c = 1; c < k; c++) if (probabilities[i * k + c]! > probabilities[i * k + best]!) best = c;
        return classes[best]!;
      });
      const prf = macroPrecisionRecallF1(yTrue, yPred, classes);
      Object.assign(metrics, { accuracy: accuracyScore(yTrue, yPred), ...prf });
      const auc = rocAucOneVsRestMacro(yTrue, probabilities, classes);
      if (!Number.isNaN(auc)) metrics.roc_auc = auc;
    }
    if (metrics.roc_auc === undefined) ctx.logger.warn('roc_auc is undefined: the test set lacks a class');

    const report: ClassificationReport = {
      task: meta.task,
      target: meta.target,
      classes,
      ...extra,
      metrics,
      confusionMatrix: { labels: classes, matrix: confusionMatrix(yTrue, yPred, classes) },
      samples: yTrue.length,
      model: modelRef.digest,
      test: testRef.digest,
    };
    const reportRef = await writeJson(ctx.store, report, { task: meta.task, metrics });
    return { outputs: { report: reportRef }, metrics };
  },
});

function classifierMetadata(fromModel: unknown, fromRef: Record<string, unknown> | undefined): ClassifierMetadata {
  const candidate =
    (fromModel as { pipewright?: unknown } | undefined)?.pipewright ?? fromRef;
  const meta = candidate as Partial<ClassifierMetadata> | undefined;
  if (
    !meta ||
    (meta.task !== 'binary' && meta.task !== 'multiclass') ||
    !Array.isArray(meta.features) ||
    typeof meta.target !== 'string' ||
    !Array.isArray(meta.classes)
  ) {
    throw StageError.nonRetryable(
      'PW_ERR_BAD_DATA',
      'the model does not say which features, target and classes it was trained on; was it trained by a train.* stage?',
    );
  }
  return meta as ClassifierMetadata;
}
