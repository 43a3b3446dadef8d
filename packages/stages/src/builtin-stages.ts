import type { StageDefinition } from './define-stage.ts';
import { fileIngestOptions, type BuiltinStagesOptions } from './builtin-stages-options.ts';
import { evaluateClassificationStage } from './builtin/evaluate-classification.ts';
import { createIngestCsvStage } from './builtin/ingest-csv.ts';
import { preprocessStandardizeStage } from './builtin/preprocess-standardize.ts';
import { splitTrainTestStage } from './builtin/split-train-test.ts';
import { trainLogisticStage } from './builtin/train-logistic.ts';
import { trainMlpStage } from './builtin/train-mlp.ts';
import { evaluateRegressionStage } from './builtin/evaluate-regression.ts';
import { trainLinearStage } from './builtin/train-linear.ts';
import { trainMlpRegressorStage } from './builtin/train-mlp-regressor.ts';
import { trainRandomForestRegressorStage, trainRandomForestStage } from './builtin/train-random-forest.ts';
import { featuresWindowStage } from './builtin/features-window.ts';
import { selectBestStage } from './builtin/select-best.ts';
import { selectGridStage, selectRandomStage } from './builtin/select-search.ts';
import { selectTrialStage } from './builtin/select-trial.ts';
import { utilFanOutStage, utilGatherStage, utilMergeStage, utilNoopStage, utilTransformStage } from './builtin/util-stages.ts';
import { createIngestJsonStage } from './builtin/ingest-json.ts';
import { createIngestHttpStage } from './builtin/ingest-http.ts';
import { createIngestPostgresStage } from './builtin/ingest-postgres.ts';
import { validateExpectationsStage } from './builtin/validate-expectations.ts';
import { preprocessImputeStage } from './builtin/preprocess-impute.ts';
import { preprocessEncodeStage } from './builtin/preprocess-encode.ts';
import { preprocessScaleStage } from './builtin/preprocess-scale.ts';
import { preprocessBalanceStage } from './builtin/preprocess-balance.ts';
import { splitKfoldStage } from './builtin/split-kfold.ts';
import { featuresPolynomialStage } from './builtin/features-polynomial.ts';
import { featuresDatePartsStage } from './builtin/features-date-parts.ts';
import { featuresSelectKBestStage } from './builtin/features-select-k-best.ts';
import { textTfidfStage } from './builtin/text-tfidf.ts';

export type { BuiltinStagesOptions } from './builtin-stages-options.ts';

/**
 * The built-in stages, configured for one worker. Importing this module loads every stage's
 * implementation (TensorFlow.js, Arrow, parsers); a worker uses lazyBuiltinStages instead, which
 * must list the same stages (builtin-stage-loaders.test.ts checks it).
 */
export function createBuiltinStages(options: BuiltinStagesOptions = {}): StageDefinition[] {
  const ingest = fileIngestOptions(options);
  return [
    createIngestCsvStage(ingest),
    splitTrainTestStage,
    preprocessStandardizeStage,
    trainLogisticStage,
    trainMlpStage,
    evaluateClassificationStage,
    trainLinearStage,
    trainMlpRegressorStage,
    trainRandomForestStage,
    trainRandomForestRegressorStage,
    evaluateRegressionStage,
    featuresWindowStage,
    selectGridStage,
    selectRandomStage,
    selectTrialStage,
    selectBestStage,
    utilNoopStage,
    utilTransformStage,
    utilMergeStage,
    utilFanOutStage,
    utilGatherStage,
    createIngestJsonStage(ingest),
    createIngestHttpStage(options.http),
    createIngestPostgresStage(options.postgres),
    validateExpectationsStage,
    preprocessImputeStage,
    preprocessEncodeStage,
    preprocessScaleStage,
    preprocessBalanceStage,
    splitKfoldStage,
    featuresPolynomialStage,
    featuresDatePartsStage,
    featuresSelectKBestStage,
    textTfidfStage,
  ];
}

/** The built-in stages with default options (ingest reads from the working directory). */
export const builtinStages: StageDefinition[] = createBuiltinStages();
