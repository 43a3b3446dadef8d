export { defineStage } from './define-stage.ts';
export type { MetricPoint, StageContext, StageDefinition, StageLogger, StageResult } from './define-stage.ts';

export { builtinStages, createBuiltinStages } from './builtin-stages.ts';
export type { BuiltinStagesOptions } from './builtin-stages.ts';
export { createStageRegistry } from './stage-registry.ts';
export type { StageRegistry } from './stage-registry.ts';

export { createIngestCsvStage, ingestCsvStage } from './builtin/ingest-csv.ts';
export type { IngestCsvOptions } from './builtin/ingest-csv.ts';
export { splitTrainTestStage } from './builtin/split-train-test.ts';
export { preprocessStandardizeStage } from './builtin/preprocess-standardize.ts';
export type { StandardScaler } from './builtin/preprocess-standardize.ts';
export { trainLogisticStage } from './builtin/train-logistic.ts';
export { trainMlpStage } from './builtin/train-mlp.ts';
export type { ClassifierMetadata } from './builtin/fit-classifier.ts';
export { evaluateClassificationStage } from './builtin/evaluate-classification.ts';
export { utilMergeStage, utilNoopStage, utilTransformStage } from './builtin/util-stages.ts';
export type { ClassificationReport } from './builtin/evaluate-classification.ts';

export { loadTensorflow, TENSORFLOW_BACKENDS } from './tf-backend.ts';
export type { LoadedTensorflow, LoadTensorflowOptions, TensorflowBackendName } from './tf-backend.ts';
export { ArtifactStoreIOHandler, loadModel, saveModel, TFJS_MODEL_MEDIA_TYPE, TFJS_WEIGHTS_MEDIA_TYPE } from './tf-artifact-io.ts';
export {
  ARROW_FILE_MEDIA_TYPE,
  featureMatrix,
  labelColumn,
  numericColumnNames,
  readTable,
  tableFromColumns,
  tableTarget,
  TARGET_METADATA_KEY,
  targetVector,
  writeTable,
} from './table-io.ts';
export type { ColumnInput } from './table-io.ts';
export { JSON_MEDIA_TYPE, readJson, writeJson } from './json-io.ts';

export { accuracyScore, binaryPrecisionRecallF1, confusionMatrix, macroPrecisionRecallF1 } from './metrics/classification-metrics.ts';
export type { Label, PrecisionRecallF1 } from './metrics/classification-metrics.ts';
export { rocAucOneVsRestMacro, rocAucScore } from './metrics/roc-auc.ts';

export { StageTestEnvironment } from './testing/stage-test-environment.ts';
export type { StageLogRecord, StageTestRun, StageTestRunOptions } from './testing/stage-test-environment.ts';
