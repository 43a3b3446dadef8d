export { startOrchestrator, type StartOrchestratorOptions, type RunningOrchestrator } from './start-orchestrator.ts';
export { orchestratorEnvSchema, loadOrchestratorEnv, type OrchestratorEnv } from './env.ts';
