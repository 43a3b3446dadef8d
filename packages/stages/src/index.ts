export { defineStage, stageFamily } from './define-stage.ts';
export type { MetricPoint, StageContext, StageDefinition, StageLogger, StageResult } from './define-stage.ts';

export { builtinStages, createBuiltinStages } from './builtin-stages.ts';
export type { BuiltinStagesOptions } from './builtin-stages.ts';
export { lazyBuiltinStages } from './builtin-stage-loaders.ts';
export type { LazyStages } from './builtin-stage-loaders.ts';
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
export { utilFanOutStage, utilGatherStage, utilMergeStage, utilNoopStage, utilTransformStage } from './builtin/util-stages.ts';
export type { ClassificationReport } from './builtin/evaluate-classification.ts';
export { trainLinearStage } from './builtin/train-linear.ts';
export { trainMlpRegressorStage } from './builtin/train-mlp-regressor.ts';
export { RANDOM_FOREST_MEDIA_TYPE, trainRandomForestRegressorStage, trainRandomForestStage } from './builtin/train-random-forest.ts';
export { evaluateRegressionStage } from './builtin/evaluate-regression.ts';
export type { RegressionReport } from './builtin/evaluate-regression.ts';
export type { ModelMetadata, RegressorMetadata } from './builtin/model-metadata.ts';
export { predictTable } from './builtin/predict-table.ts';
export type { TablePredictions } from './builtin/predict-table.ts';
export { featuresWindowStage, windowFeatures } from './builtin/features-window.ts';
export { selectGridStage, selectRandomStage } from './builtin/select-search.ts';
export type { SearchPlan } from './builtin/select-search.ts';
export { selectTrialStage } from './builtin/select-trial.ts';
export { selectBestStage } from './builtin/select-best.ts';
export { expandGrid, sampleSpace, trialList } from './builtin/search-space.ts';
export type { GridSpace, RandomSpace, TrialParams, TrialSpec } from './builtin/search-space.ts';
export { summarizeTrials } from './builtin/summarize-trials.ts';
export type { SearchSummary, TrialResult, TrialSummary } from './builtin/summarize-trials.ts';

export { loadTensorflow, preferTensorflowBackend, TENSORFLOW_BACKENDS } from './tf-backend.ts';
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
export {
  averagedPrecisionRecallF1,
  balancedAccuracyScore,
  precisionRecallF1PerClass,
} from './metrics/classification-metrics.ts';
export type { ClassScores } from './metrics/classification-metrics.ts';
export { logLoss } from './metrics/log-loss.ts';
export {
  averagePrecisionOneVsRestMacro,
  averagePrecisionScore,
  precisionRecallCurve,
  recallAtPrecision,
} from './metrics/precision-recall-curve.ts';
export type { PrecisionRecallCurve, RecallAtPrecision } from './metrics/precision-recall-curve.ts';
export { regressionScores } from './metrics/regression-metrics.ts';
export type { RegressionScores } from './metrics/regression-metrics.ts';
export { scoreClassification } from './metrics/classification-report.ts';
export type { ClassificationScores } from './metrics/classification-report.ts';

export { createIngestJsonStage, ingestJsonStage } from './builtin/ingest-json.ts';
export type { IngestJsonOptions } from './builtin/ingest-json.ts';
export { createIngestHttpStage, ingestHttpStage } from './builtin/ingest-http.ts';
export type { IngestHttpOptions } from './builtin/ingest-http.ts';
export { createIngestPostgresStage, ingestPostgresStage } from './builtin/ingest-postgres.ts';
export type { IngestPostgresOptions } from './builtin/ingest-postgres.ts';
export { evaluateExpectations, validateExpectationsStage } from './builtin/validate-expectations.ts';
export type { Expectation, ExpectationResult, ExpectationsReport } from './builtin/validate-expectations.ts';
export { preprocessImputeStage } from './builtin/preprocess-impute.ts';
export type { SimpleImputer } from './builtin/preprocess-impute.ts';
export { preprocessEncodeStage } from './builtin/preprocess-encode.ts';
export type { CategoryEncoder } from './builtin/preprocess-encode.ts';
export { preprocessScaleStage } from './builtin/preprocess-scale.ts';
export type { FittedScaler } from './builtin/preprocess-scale.ts';
export { preprocessBalanceStage } from './builtin/preprocess-balance.ts';
export type { ClassWeights } from './builtin/preprocess-balance.ts';
export { splitKfoldStage } from './builtin/split-kfold.ts';
export type { KFoldSplits } from './builtin/split-kfold.ts';
export { featuresPolynomialStage } from './builtin/features-polynomial.ts';
export type { PolynomialFeatures } from './builtin/features-polynomial.ts';
export { featuresDatePartsStage } from './builtin/features-date-parts.ts';
export { featuresSelectKBestStage } from './builtin/features-select-k-best.ts';
export type { KBestSelection } from './builtin/features-select-k-best.ts';
export { textTfidfStage } from './builtin/text-tfidf.ts';
export type { TfidfVocabulary } from './builtin/text-tfidf.ts';
export { analyze as analyzeText } from './text-analyzer.ts';
export type { AnalyzerOptions } from './text-analyzer.ts';
export { gatherRows } from './column-data.ts';

export { StageTestEnvironment } from './testing/stage-test-environment.ts';
export type { StageLogRecord, StageTestRun, StageTestRunOptions } from './testing/stage-test-environment.ts';
export { mulberry32, shuffleInPlace } from './seeded-random.ts';
