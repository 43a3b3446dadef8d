import type { StageDefinition } from './define-stage.ts';
import { evaluateClassificationStage } from './builtin/evaluate-classification.ts';
import { createIngestCsvStage } from './builtin/ingest-csv.ts';
import type { IngestCsvOptions } from './builtin/ingest-csv.ts';
import { preprocessStandardizeStage } from './builtin/preprocess-standardize.ts';
import { splitTrainTestStage } from './builtin/split-train-test.ts';
import { trainLogisticStage } from './builtin/train-logistic.ts';
import { trainMlpStage } from './builtin/train-mlp.ts';
import { utilMergeStage, utilNoopStage, utilTransformStage } from './builtin/util-stages.ts';

export interface BuiltinStagesOptions {
  /**
   * Directory that ingest stages read their `path` params from, and may not leave.
   * @defaultValue the process' working directory when a stage runs
   */
  dataDir?: string;
}

/** The built-in stages, configured for one worker. */
export function createBuiltinStages(options: BuiltinStagesOptions = {}): StageDefinition[] {
  const ingest: IngestCsvOptions = options.dataDir === undefined ? {} : { baseDir: options.dataDir };
  return [
    createIngestCsvStage(ingest),
    splitTrainTestStage,
    preprocessStandardizeStage,
    trainLogisticStage,
    trainMlpStage,
    evaluateClassificationStage,
    utilNoopStage,
    utilTransformStage,
    utilMergeStage,
  ];
}

/** The built-in stages with default options (ingest reads from the working directory). */
export const builtinStages: StageDefinition[] = createBuiltinStages();
