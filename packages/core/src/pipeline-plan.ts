import type { ArtifactType } from './artifact-ref.ts';

export type ResourceClass = 'cpu' | 'gpu';

export interface RetryPolicy {
  /** Total attempts including the first. */
  attempts: number;
  backoff: 'fixed' | 'exponential';
  delayMs: number;
  maxDelayMs: number;
  jitter: boolean;
}

/** Where a stage input comes from: an output of a stage it needs. */
export interface InputBinding {
  stage: string;
  output: string;
  type: ArtifactType;
  /** The input is a list: that output of every instance of a `foreach` stage, in item order. */
  list?: true;
}

/**
 * One stage of a validated pipeline, ready to be stored: params resolved against the run's
 * params and the stage type's defaults, inputs bound to upstream outputs, matrix expanded.
 */
export interface PlannedStage {
  /** Unique within the run. Matrix expansions get `<id>-<index>` ids (see `matrix`). */
  id: string;
  uses: string;
  family: string;
  needs: string[];
  inputs: Record<string, InputBinding>;
  outputs: Record<string, ArtifactType>;
  params: Record<string, unknown>;
  /** `${{ … }}` expression evaluated when the stage becomes ready; absent = always. */
  when?: string;
  /**
   * Run-time fan-out: when the stage becomes ready, one instance per item of the list carried by
   * this upstream json output (its metadata `items`). `params` then still holds the raw `with`,
   * whose `${{ item… }}`, `${{ index }}` and `${{ params… }}` are resolved per instance.
   */
  foreach?: { stage: string; output: string };
  resources: { class: ResourceClass; gpu: number };
  retry: RetryPolicy;
  timeoutMs: number;
  cache: boolean;
  /**
   * Set on the expansions of a matrix stage: the spec stage id, the combination's index
   * (the `<index>` of the id `<of>-<index>`) and its values (what `${{ matrix.x }}` read).
   */
  matrix?: { of: string; index: number; values: Record<string, unknown> };
}

/** The result of validating and planning a spec. */
export interface PipelinePlan {
  apiVersion: 'pipewright/v1';
  name: string;
  /** Run params after defaults and overrides. */
  params: Record<string, unknown>;
  /** Stages in a topological order (every stage after all it needs). */
  stages: PlannedStage[];
}

/** One thing wrong with a submitted spec. `path` is JSON-pointer-like: `stages[2].needs[0]`. */
export interface SpecProblem {
  path: string;
  code: string;
  message: string;
  /** 1-based position in the submitted text, for parse errors. */
  line?: number;
  column?: number;
}

export type PlanResult = { ok: true; plan: PipelinePlan } | { ok: false; problems: SpecProblem[] };
