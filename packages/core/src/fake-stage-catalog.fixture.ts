/**
 * A small stage catalog for tests: plain descriptors with zod params schemas, shaped like the
 * built-in stages (ingest -> split -> scale -> train -> evaluate -> register).
 */
import { z } from 'zod';
import type { StageCatalog, StageDescriptor } from './stage-descriptor.ts';

export const FAKE_DESCRIPTORS: StageDescriptor[] = [
  {
    type: 'ingest.csv@1',
    family: 'ingest',
    description: 'Reads a CSV file into a table.',
    inputs: {},
    outputs: { data: 'table' },
    params: z.strictObject({ path: z.string().min(1), target: z.string().optional() }),
  },
  {
    type: 'split.train_test@1',
    family: 'split',
    description: 'Splits a table into train and test tables.',
    inputs: { data: 'table' },
    outputs: { train: 'table', test: 'table' },
    params: z.strictObject({
      testSize: z.number().gt(0).lt(1).default(0.25),
      stratify: z.boolean().default(false),
      seed: z.int().default(0),
    }),
  },
  {
    type: 'preprocess.standardize@1',
    family: 'preprocess',
    description: 'Scales numeric columns to zero mean and unit variance.',
    inputs: { train: 'table', test: 'table' },
    outputs: { train: 'table', test: 'table' },
    params: z.strictObject({ columns: z.array(z.string()).optional() }),
  },
  {
    type: 'train.logistic@1',
    family: 'train',
    description: 'Trains a logistic regression.',
    inputs: { train: 'table' },
    outputs: { model: 'model' },
    params: z.strictObject({ lr: z.number().positive().default(0.01), epochs: z.int().min(1).default(10) }),
    defaultTimeoutMs: 900_000,
  },
  {
    type: 'evaluate.classification@1',
    family: 'evaluate',
    description: 'Computes classification metrics.',
    inputs: { model: 'model', test: 'table' },
    outputs: { report: 'json' },
    params: z.strictObject({}),
  },
  {
    type: 'deploy.register@1',
    family: 'deploy',
    description: 'Registers a model version.',
    inputs: { model: 'model' },
    outputs: {},
    params: z.strictObject({ name: z.string().default('model') }),
  },
  {
    type: 'export.json_model@1',
    family: 'export',
    description: 'Writes a model description as JSON (an output named like a model input, of another type).',
    inputs: {},
    outputs: { model: 'json' },
    params: z.strictObject({}),
  },
  {
    type: 'util.noop@1',
    family: 'util',
    description: 'Does nothing; for graph tests.',
    inputs: {},
    outputs: {},
    params: z.strictObject({ n: z.int().default(0) }),
  },
];

export function fakeStageCatalog(descriptors: readonly StageDescriptor[] = FAKE_DESCRIPTORS): StageCatalog {
  const byType = new Map(descriptors.map((descriptor) => [descriptor.type, descriptor]));
  return {
    get: (type) => byType.get(type),
    list: () => [...byType.values()],
  };
}
