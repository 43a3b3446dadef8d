import type { StageDefinition } from './define-stage.ts';
import { fileIngestOptions, type BuiltinStagesOptions } from './builtin-stages-options.ts';

type Loader = (options: BuiltinStagesOptions) => Promise<StageDefinition>;

/**
 * Every built-in stage type and how to import its implementation. Only `import()` here: a static
 * import would pull TensorFlow.js, Arrow or a parser into every worker at start, idle or not
 * (about 50 MB of RSS). createBuiltinStages must list the same stages; a test checks it.
 */
const LOADERS: Record<string, Loader> = {
  'ingest.csv@1': async (o) => (await import('./builtin/ingest-csv.ts')).createIngestCsvStage(fileIngestOptions(o)),
  'ingest.json@1': async (o) => (await import('./builtin/ingest-json.ts')).createIngestJsonStage(fileIngestOptions(o)),
  'ingest.http@1': async (o) => (await import('./builtin/ingest-http.ts')).createIngestHttpStage(o.http),
  'ingest.postgres@1': async (o) => (await import('./builtin/ingest-postgres.ts')).createIngestPostgresStage(o.postgres),
  'split.train_test@1': async () => (await import('./builtin/split-train-test.ts')).splitTrainTestStage,
  'split.kfold@1': async () => (await import('./builtin/split-kfold.ts')).splitKfoldStage,
  'preprocess.standardize@1': async () => (await import('./builtin/preprocess-standardize.ts')).preprocessStandardizeStage,
  'preprocess.impute@1': async () => (await import('./builtin/preprocess-impute.ts')).preprocessImputeStage,
  'preprocess.encode@1': async () => (await import('./builtin/preprocess-encode.ts')).preprocessEncodeStage,
  'preprocess.scale@1': async () => (await import('./builtin/preprocess-scale.ts')).preprocessScaleStage,
  'preprocess.balance@1': async () => (await import('./builtin/preprocess-balance.ts')).preprocessBalanceStage,
  'features.window@1': async () => (await import('./builtin/features-window.ts')).featuresWindowStage,
  'features.polynomial@1': async () => (await import('./builtin/features-polynomial.ts')).featuresPolynomialStage,
  'features.date_parts@1': async () => (await import('./builtin/features-date-parts.ts')).featuresDatePartsStage,
  'features.select_k_best@1': async () => (await import('./builtin/features-select-k-best.ts')).featuresSelectKBestStage,
  'text.tfidf@1': async () => (await import('./builtin/text-tfidf.ts')).textTfidfStage,
  'validate.expectations@1': async () => (await import('./builtin/validate-expectations.ts')).validateExpectationsStage,
  'train.logistic@1': async () => (await import('./builtin/train-logistic.ts')).trainLogisticStage,
  'train.mlp@1': async () => (await import('./builtin/train-mlp.ts')).trainMlpStage,
  'train.linear@1': async () => (await import('./builtin/train-linear.ts')).trainLinearStage,
  'train.mlp_regressor@1': async () => (await import('./builtin/train-mlp-regressor.ts')).trainMlpRegressorStage,
  'train.random_forest@1': async () => (await import('./builtin/train-random-forest.ts')).trainRandomForestStage,
  'train.random_forest_regressor@1': async () => (await import('./builtin/train-random-forest.ts')).trainRandomForestRegressorStage,
  'evaluate.classification@1': async () => (await import('./builtin/evaluate-classification.ts')).evaluateClassificationStage,
  'evaluate.regression@1': async () => (await import('./builtin/evaluate-regression.ts')).evaluateRegressionStage,
  'select.grid@1': async () => (await import('./builtin/select-search.ts')).selectGridStage,
  'select.random@1': async () => (await import('./builtin/select-search.ts')).selectRandomStage,
  'select.trial@1': async () => (await import('./builtin/select-trial.ts')).selectTrialStage,
  'select.best@1': async () => (await import('./builtin/select-best.ts')).selectBestStage,
  'util.noop@1': async () => (await import('./builtin/util-stages.ts')).utilNoopStage,
  'util.transform@1': async () => (await import('./builtin/util-stages.ts')).utilTransformStage,
  'util.merge@1': async () => (await import('./builtin/util-stages.ts')).utilMergeStage,
  'util.fanout@1': async () => (await import('./builtin/util-stages.ts')).utilFanOutStage,
  'util.gather@1': async () => (await import('./builtin/util-stages.ts')).utilGatherStage,
};

/** The built-in stages as a worker holds them: known by type, each imported when first run. */
export interface LazyStages {
  /** Every type (`family.name@version`), sorted. */
  types(): string[];
  /**
   * The definition of `type`, importing its module on the first call; undefined for a type that
   * is not built in. Concurrent first calls share one import; a failed import is tried again
   * on the next call.
   */
  load(type: string): Promise<StageDefinition> | undefined;
}

/** The built-in stages, configured for one worker, loaded on first use (see LazyStages). */
export function lazyBuiltinStages(options: BuiltinStagesOptions = {}): LazyStages {
  const loaded = new Map<string, Promise<StageDefinition>>();
  return {
    types: () => Object.keys(LOADERS).sort(),
    load(type) {
      const loader = Object.hasOwn(LOADERS, type) ? LOADERS[type] : undefined;
      if (!loader) return undefined;
      let definition = loaded.get(type);
      if (!definition) {
        definition = loader(options);
        loaded.set(type, definition);
        definition.catch(() => loaded.delete(type));
      }
      return definition;
    },
  };
}
