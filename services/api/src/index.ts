export { buildApp, type ApiDeps, type App } from './build-app.ts';
export { startApi, type StartApiOptions, type RunningApi } from './start-api.ts';
export { apiEnvSchema, loadApiEnv, type ApiEnv } from './env.ts';
