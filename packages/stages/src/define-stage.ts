import type { z } from 'zod';
import type { ArtifactRef, ArtifactType, InputType, StageDescriptor } from '@pipewright/core';
import type { ArtifactStore } from '@pipewright/artifacts';

/** One point of a metric series, e.g. `{ name: 'loss', step: 3, value: 0.21 }`. */
export interface MetricPoint {
  name: string;
  step: number;
  value: number;
}

export interface StageLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** Everything a handler may use. Handlers do no other I/O than through this. */
export interface StageContext<P> {
  params: P;
  /** Input name -> artifact, resolved by the orchestrator. */
  inputs: Record<string, ArtifactRef>;
  /** List inputs (types like `json[]`): that output of every instance of a foreach stage, in item order. */
  inputLists: Record<string, ArtifactRef[]>;
  store: ArtifactStore;
  /** Aborted on cancel or timeout; handlers check it between epochs/batches. */
  signal: AbortSignal;
  logger: StageLogger;
  /** Streams metric points to the orchestrator (batched by the worker). */
  reportMetrics(points: MetricPoint[]): void;
  /** Identifies the run for logs and for seeding. */
  runId: string;
  stageId: string;
  /** 1 for the first attempt of this stage in this run; retries count up. */
  attempt: number;
  /** Records the TensorFlow.js backend the handler used, for the attempt row. */
  setBackend(name: string): void;
}

export interface StageResult {
  /** Output name -> artifact written to `ctx.store`. Must cover every declared output. */
  outputs: Record<string, ArtifactRef>;
  /** Final scalar metrics of the stage (accuracy, f1, …). */
  metrics?: Record<string, number>;
}

export interface StageDefinition<S extends z.ZodType = z.ZodType> extends StageDescriptor {
  params: S;
  run(ctx: StageContext<z.output<S>>): Promise<StageResult>;
}

/** Declares a stage type; the returned object is both its descriptor and its handler. */
export function defineStage<S extends z.ZodType>(definition: {
  type: string;
  description: string;
  inputs: Record<string, InputType>;
  outputs: Record<string, ArtifactType>;
  params: S;
  defaultTimeoutMs?: number;
  /**
   * Reads the outside world (files, databases, URLs): never served from the cache.
   * @defaultValue true for the `ingest` family, false otherwise
   */
  volatile?: boolean;
  run(ctx: StageContext<z.output<S>>): Promise<StageResult>;
}): StageDefinition<S> {
  const family = stageFamily(definition.type);
  // Ingest stages read what may change under the same params; one rule here, not a flag each
  // of them must remember.
  return { ...definition, family, volatile: definition.volatile ?? family === 'ingest' };
}

/** The family (`train` of `train.mlp@1`), which picks the queue; throws on a malformed type. */
export function stageFamily(type: string): string {
  const family = type.split('.')[0];
  if (!family || !/^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*@\d+$/.test(type)) {
    throw new Error(`stage type must look like family.name@1, got ${type}`);
  }
  return family;
}
