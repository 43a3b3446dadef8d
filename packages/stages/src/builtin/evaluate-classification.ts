import { z } from 'zod';
import { StageError } from '@pipewright/core';
import { defineStage } from '../define-stage.ts';
import { writeJson } from '../json-io.ts';
import type { ClassScores, Label } from '../metrics/classification-metrics.ts';
import { scoreClassification } from '../metrics/classification-report.ts';
import type { ClassificationScores } from '../metrics/classification-report.ts';
import { labelColumn, readTable } from '../table-io.ts';
import { isClassifier } from './model-metadata.ts';
import { predictTable } from './predict-table.ts';

const params = z.strictObject({
  /** Probability of the positive class from which a binary prediction is positive. */
  threshold: z.number().gt(0).lt(1).default(0.5),
  /**
   * Binary only: also report `recall_at_precision`, the best recall over thresholds whose
   * precision is at least this (e.g. 0.9: at most one alert in ten is false), and the threshold
   * that gets it. @defaultValue not reported
   */
  recallAtPrecision: z.number().gt(0).max(1).optional(),
});

/** The `report` output of `evaluate.classification@1`. */
export interface ClassificationReport {
  task: 'binary' | 'multiclass';
  target: string;
  classes: Label[];
  /** Binary only: the class precision, recall and F1 are about (classes[1], e.g. 1). */
  positiveClass?: Label;
  threshold?: number;
  /** See ClassificationScores.metrics. */
  metrics: Record<string, number>;
  /** Precision, recall, F1 and support of every class, in `classes` order. */
  perClass: ClassScores[];
  /** Rows are true labels, columns predicted labels, both in `labels` order. */
  confusionMatrix: { labels: Label[]; matrix: number[][] };
  /** Binary with recallAtPrecision: the operating point (threshold Infinity: none reaches it). */
  operatingPoint?: ClassificationScores['operatingPoint'];
  /** Metrics left out because they are undefined on this test set, with the reason. */
  undefinedMetrics?: Record<string, string>;
  samples: number;
  model: string;
  test: string;
}

export const evaluateClassificationStage = defineStage({
  type: 'evaluate.classification@1',
  description:
    'Scores a classifier (any train.* classifier, TensorFlow.js or random forest) on a held-out table, ' +
    "with scikit-learn's definitions: accuracy, balanced accuracy, precision/recall/F1 (of class 1 " +
    'for binary targets, macro otherwise, plus _macro and _weighted averages and per class), ROC-AUC ' +
    '(one-vs-rest macro for multiclass), PR-AUC (average precision), log loss, the confusion matrix, ' +
    'and optionally the recall at a fixed precision.',
  inputs: { model: 'model', test: 'table' },
  outputs: { report: 'json' },
  params,
  defaultTimeoutMs: 30 * 60_000,
  async run(ctx) {
    const modelRef = ctx.inputs.model!;
    const testRef = ctx.inputs.test!;
    const test = await readTable(ctx.store, testRef);
    ctx.signal.throwIfAborted();
    const predictions = await predictTable(ctx.store, modelRef, test);
    if (predictions.backend) ctx.setBackend(predictions.backend);
    const meta = predictions.meta;
    if (!isClassifier(meta)) {
      throw StageError.nonRetryable('PW_ERR_BAD_DATA', `the model is a ${meta.task} model; use evaluate.regression@1`);
    }
    const yTrue = labelColumn(test, meta.target);
    const classes = meta.classes;
    const unseen = [...new Set(yTrue.filter((label) => !classes.includes(label)))];
    if (unseen.length > 0) ctx.logger.warn('test labels the model never saw count as errors', { labels: unseen });

    const binary = meta.task === 'binary';
    const scores = scoreClassification(yTrue, predictions.values, classes, {
      threshold: ctx.params.threshold,
      minPrecision: ctx.params.recallAtPrecision,
    });
    for (const [metric, reason] of Object.entries(scores.undefinedMetrics)) ctx.logger.warn(`${metric} is undefined: ${reason}`);
    const metrics = { ...scores.metrics };
    if (scores.operatingPoint && Number.isFinite(scores.operatingPoint.threshold)) {
      metrics.threshold_at_precision = scores.operatingPoint.threshold;
    }

    const report: ClassificationReport = {
      task: meta.task,
      target: meta.target,
      classes,
      ...(binary ? { positiveClass: classes[1]!, threshold: ctx.params.threshold } : {}),
      metrics,
      perClass: scores.perClass,
      confusionMatrix: { labels: classes, matrix: scores.confusionMatrix },
      ...(scores.operatingPoint ? { operatingPoint: scores.operatingPoint } : {}),
      ...(Object.keys(scores.undefinedMetrics).length > 0 ? { undefinedMetrics: scores.undefinedMetrics } : {}),
      samples: yTrue.length,
      model: modelRef.digest,
      test: testRef.digest,
    };
    const reportRef = await writeJson(ctx.store, report, { task: meta.task, metrics });
    return { outputs: { report: reportRef }, metrics };
  },
});
