import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StageError } from '@pipewright/core';
import type { ArtifactRef } from '@pipewright/core';
import { createLocalArtifactStore } from '@pipewright/artifacts';
import type { ArtifactStore } from '@pipewright/artifacts';
import type { MetricPoint, StageDefinition, StageResult } from '../define-stage.ts';

export interface StageTestRunOptions {
  /** The stage's `with:`; parsed by its schema (defaults applied, unknown keys refused). */
  params?: unknown;
  /** Input name -> artifact, as the orchestrator would bind them. */
  inputs?: Record<string, ArtifactRef>;
  /** List inputs, as a foreach fan-in delivers them. */
  inputLists?: Record<string, ArtifactRef[]>;
  /** Abort it to test cancellation. */
  signal?: AbortSignal;
  runId?: string;
  stageId?: string;
  /** @defaultValue 1 */
  attempt?: number;
}

export interface StageLogRecord {
  level: 'info' | 'warn';
  message: string;
  fields?: Record<string, unknown>;
}

export interface StageTestRun extends StageResult {
  /** Every point the stage passed to reportMetrics, in order. */
  reported: MetricPoint[];
  /** The last backend recorded with setBackend, if any. */
  backend: string | undefined;
  logs: StageLogRecord[];
}

/**
 * Runs stage definitions in-process against a temporary local artifact store, the way a worker
 * would (parsed params, resolved inputs, an abort signal), and checks the result honours the
 * stage's declared outputs. For tests of built-in and custom stages.
 */
export class StageTestEnvironment {
  private constructor(
    /** Directory of the store; removed by dispose() when the environment created it. */
    readonly root: string,
    readonly store: ArtifactStore,
    private readonly ownsRoot: boolean,
  ) {}

  /** A fresh environment, with its store in a new temporary directory unless `root` is given. */
  static async create(options: { root?: string } = {}): Promise<StageTestEnvironment> {
    const root = options.root ?? (await mkdtemp(join(tmpdir(), 'pw-stage-test-')));
    return new StageTestEnvironment(root, createLocalArtifactStore({ root }), options.root === undefined);
  }

  async run(definition: StageDefinition, options: StageTestRunOptions = {}): Promise<StageTestRun> {
    const parsed = definition.params.safeParse(options.params ?? {});
    if (!parsed.success) {
      throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', `invalid params for ${definition.type}: ${parsed.error.message}`, {
        issues: parsed.error.issues,
      });
    }
    const inputs = options.inputs ?? {};
    for (const [name, type] of Object.entries(definition.inputs)) {
      if (type.endsWith('[]')) {
        if (!options.inputLists?.[name]) throw new Error(`${definition.type} needs list input ${name} (${type})`);
        continue;
      }
      const ref = inputs[name];
      if (!ref) throw new Error(`${definition.type} needs input ${name} (${type})`);
      if (ref.type !== type) throw new Error(`${definition.type} input ${name} must be ${type}, got ${ref.type}`);
    }

    const reported: MetricPoint[] = [];
    const logs: StageLogRecord[] = [];
    let backend: string | undefined;
    const result = await definition.run({
      params: parsed.data,
      inputs,
      inputLists: options.inputLists ?? {},
      store: this.store,
      signal: options.signal ?? new AbortController().signal,
      logger: {
        info: (message, fields) => logs.push({ level: 'info', message, ...(fields ? { fields } : {}) }),
        warn: (message, fields) => logs.push({ level: 'warn', message, ...(fields ? { fields } : {}) }),
      },
      reportMetrics: (points) => reported.push(...points),
      runId: options.runId ?? 'test-run',
      stageId: options.stageId ?? definition.family,
      attempt: options.attempt ?? 1,
      setBackend: (name) => {
        backend = name;
      },
    });

    for (const [name, type] of Object.entries(definition.outputs)) {
      const ref = result.outputs[name];
      if (!ref) throw new Error(`${definition.type} did not return its output ${name}`);
      if (ref.type !== type) throw new Error(`${definition.type} output ${name} must be ${type}, got ${ref.type}`);
      if (!(await this.store.exists(ref.uri))) throw new Error(`${definition.type} output ${name} is not in the store`);
    }
    return { ...result, reported, backend, logs };
  }

  /** Removes the temporary store. */
  async dispose(): Promise<void> {
    if (this.ownsRoot) await rm(this.root, { recursive: true, force: true });
  }
}
