import { z } from 'zod';
import { StageError } from '@pipewright/core';
import { mulberry32 } from '../seeded-random.ts';

/** A JSON value a trial param may take (a number, a string, a list such as `hidden: [32, 16]`…). */
const paramValue = z.json();

/**
 * Grid search space: each param name maps to the values to try. The grid is their cartesian
 * product, the first param varying slowest (scikit-learn's ParameterGrid order with keys in
 * the order written).
 */
export const gridSpaceParam = z
  .record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/), z.array(paramValue).min(1).max(1000))
  .refine((space) => Object.keys(space).length > 0, { error: 'the search space names no param' });
export type GridSpace = z.output<typeof gridSpaceParam>;

/**
 * Random search space: each param maps to a list to pick from uniformly, or a distribution:
 * `{ uniform: [lo, hi] }`, `{ logUniform: [lo, hi] }` (lo > 0; for learning rates and
 * penalties) or `{ int: [lo, hi] }` (both ends included).
 */
const distribution = z.union([
  z.array(paramValue).min(1).max(1000),
  z.strictObject({ uniform: z.tuple([z.number(), z.number()]) }),
  z.strictObject({ logUniform: z.tuple([z.number().positive(), z.number().positive()]) }),
  z.strictObject({ int: z.tuple([z.int(), z.int()]) }),
]);
export const randomSpaceParam = z
  .record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/), distribution)
  .refine((space) => Object.keys(space).length > 0, { error: 'the search space names no param' });
export type RandomSpace = z.output<typeof randomSpaceParam>;

export type TrialParams = Record<string, z.output<typeof paramValue>>;

/** Every combination of the grid, in ParameterGrid order. Refuses grids over `maxTrials`. */
export function expandGrid(space: GridSpace, maxTrials: number): TrialParams[] {
  const keys = Object.keys(space);
  const size = keys.reduce((n, key) => n * space[key]!.length, 1);
  if (size > maxTrials) {
    throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', `the grid has ${size} combinations, more than maxTrials (${maxTrials})`, {
      size,
      maxTrials,
    });
  }
  let combos: TrialParams[] = [{}];
  for (const key of keys) {
    const next: TrialParams[] = [];
    for (const combo of combos) for (const value of space[key]!) next.push({ ...combo, [key]: value });
    combos = next;
  }
  return combos;
}

/**
 * `count` param sets drawn from `space` with a seeded mulberry32: the same seed and space always
 * give the same trials. Params are drawn in the order written, one draw each per trial.
 */
export function sampleSpace(space: RandomSpace, count: number, seed: number): TrialParams[] {
  const random = mulberry32(seed);
  const trials: TrialParams[] = [];
  for (let t = 0; t < count; t++) {
    const trial: TrialParams = {};
    for (const [key, spec] of Object.entries(space)) {
      const u = random();
      if (Array.isArray(spec)) trial[key] = spec[Math.floor(u * spec.length)]!;
      else if ('uniform' in spec) trial[key] = spec.uniform[0] + u * (spec.uniform[1] - spec.uniform[0]);
      else if ('logUniform' in spec) {
        const [lo, hi] = spec.logUniform;
        trial[key] = Math.exp(Math.log(lo) + u * (Math.log(hi) - Math.log(lo)));
      } else {
        const [lo, hi] = spec.int;
        trial[key] = lo + Math.floor(u * (hi - lo + 1));
      }
    }
    trials.push(trial);
  }
  return trials;
}

/** One unit of work of a search: a param set on one fold. */
export interface TrialSpec {
  /** `t<trial>-f<fold>`, stable: a stage id suffix when trials fan out. */
  id: string;
  trial: number;
  fold: number;
  /** The estimator's params: the search's `base` with this trial's values on top. */
  params: TrialParams;
}

/** The trials x folds list, trial-major: what select.grid/random output and fan-out maps over. */
export function trialList(paramSets: readonly TrialParams[], base: TrialParams, folds: number): TrialSpec[] {
  const width = String(paramSets.length - 1).length;
  const out: TrialSpec[] = [];
  paramSets.forEach((set, trial) => {
    for (let fold = 0; fold < folds; fold++) {
      out.push({ id: `t${String(trial).padStart(width, '0')}-f${fold}`, trial, fold, params: { ...base, ...set } });
    }
  });
  return out;
}
