export { startWorker, type StartWorkerOptions, type RunningWorker } from './start-worker.ts';
export { runStageJob, type StageJobDeps } from './run-stage-job.ts';
export { workerEnvSchema, loadWorkerEnv, type WorkerEnv } from './env.ts';
