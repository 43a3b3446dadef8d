import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type * as tfCore from '@tensorflow/tfjs-core';

/**
 * TensorFlow.js backends Pipewright knows, fastest first. `tensorflow-gpu` and `tensorflow` are
 * the native bindings (`@tensorflow/tfjs-node-gpu`, `@tensorflow/tfjs-node`); only images that
 * ship them can load them.
 */
export const TENSORFLOW_BACKENDS = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type TensorflowBackendName = (typeof TENSORFLOW_BACKENDS)[number];

export interface LoadTensorflowOptions {
  /**
   * Backend to try first (the worker passes `TF_BACKEND` here). The others follow in the
   * default order if it cannot be loaded, unless `strict` is set.
   * @defaultValue the fastest that loads: tensorflow-gpu, tensorflow, wasm, cpu
   */
  prefer?: TensorflowBackendName;
  /**
   * Fail instead of falling back when `prefer` cannot be loaded.
   * @defaultValue false
   */
  strict?: boolean;
}

export interface LoadedTensorflow {
  /** The tfjs-core namespace, with `backend` active. */
  tf: typeof tfCore;
  /** Which of TENSORFLOW_BACKENDS is active; record it with `ctx.setBackend`. */
  backend: TensorflowBackendName;
  /** Why each faster backend was passed over, for logs. */
  skipped: { backend: TensorflowBackendName; reason: string }[];
}

let loading: Promise<LoadedTensorflow> | undefined;
let preferred: LoadTensorflowOptions = {};

/**
 * Sets the options of the first loadTensorflow() call that passes none, without loading
 * anything: a worker names its backend (`TF_BACKEND`) at start, and TensorFlow.js is loaded by
 * the first stage that needs it.
 */
export function preferTensorflowBackend(options: LoadTensorflowOptions): void {
  preferred = options;
}

/**
 * Activates the fastest TensorFlow.js backend this process can load, once: the tfjs engine is a
 * process-wide singleton, so later calls return the first result whatever they prefer.
 * tfjs-core itself is imported here, not at module load, so importing this module costs nothing.
 */
export function loadTensorflow(options: LoadTensorflowOptions = preferred): Promise<LoadedTensorflow> {
  loading ??= pickBackend(options).catch((error: unknown) => {
    loading = undefined; // let a later call try again rather than cache the failure
    throw error;
  });
  return loading;
}

async function pickBackend(options: LoadTensorflowOptions): Promise<LoadedTensorflow> {
  const tf = await import('@tensorflow/tfjs-core');
  // tfjs prints a "install tfjs-node" banner and debug warnings to the console; the worker
  // records the backend it chose instead.
  tf.enableProdMode();
  const order: TensorflowBackendName[] = options.prefer
    ? options.strict
      ? [options.prefer]
      : [options.prefer, ...TENSORFLOW_BACKENDS.filter((b) => b !== options.prefer)]
    : [...TENSORFLOW_BACKENDS];
  const skipped: LoadedTensorflow['skipped'] = [];
  for (const backend of order) {
    try {
      await activate(tf, backend);
      return { tf, backend, skipped };
    } catch (error) {
      skipped.push({ backend, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  throw new Error(
    `no TensorFlow.js backend could be loaded: ${skipped.map((s) => `${s.backend} (${s.reason})`).join('; ')}`,
  );
}

async function activate(tf: typeof tfCore, backend: TensorflowBackendName): Promise<void> {
  switch (backend) {
    case 'tensorflow-gpu':
      await activateNative(tf, '@tensorflow/tfjs-node-gpu');
      return;
    case 'tensorflow':
      await activateNative(tf, '@tensorflow/tfjs-node');
      return;
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      // Offline: read the .wasm binaries from the installed package instead of a CDN.
      const distDir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
      wasm.setWasmPaths(`${distDir}/`);
      await setBackendOrThrow(tf, 'wasm');
      return;
    }
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      await setBackendOrThrow(tf, 'cpu');
      return;
  }
}

async function activateNative(tf: typeof tfCore, specifier: string): Promise<void> {
  // A variable specifier: these packages are optional and absent from most installs, so the
  // compiler must not try to resolve them.
  await import(specifier);
  // The binding registers `tensorflow` in the @tensorflow/tfjs-core it resolves. A binding with
  // its own copy of tfjs-core (version mismatch) would register it in an engine we never use.
  if (!tf.findBackendFactory('tensorflow')) {
    throw new Error(`${specifier} loaded, but with a different copy of @tensorflow/tfjs-core`);
  }
  await setBackendOrThrow(tf, 'tensorflow');
}

async function setBackendOrThrow(tf: typeof tfCore, name: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') failed to initialise`);
  await tf.ready();
}
