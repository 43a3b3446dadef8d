/**
 * `@pipewright/stages/lazy`: what a worker needs at start, and nothing that runs a stage. The
 * main entry (index.ts) re-exports every helper a stage is built from, so importing it loads
 * TensorFlow.js, Arrow and the parsers, ~50 MB of RSS in a worker that may sit idle or never run
 * a training stage. Everything reachable from here through static imports stays that light
 * (lazy-entry.test.ts walks the graph); implementations come in through `import()`.
 */
export { lazyBuiltinStages } from './builtin-stage-loaders.ts';
export type { LazyStages } from './builtin-stage-loaders.ts';
export type { BuiltinStagesOptions } from './builtin-stages-options.ts';
export { stageFamily } from './define-stage.ts';
export type { StageDefinition } from './define-stage.ts';
export { loadTensorflow, preferTensorflowBackend, TENSORFLOW_BACKENDS } from './tf-backend.ts';
export type { LoadedTensorflow, LoadTensorflowOptions, TensorflowBackendName } from './tf-backend.ts';
