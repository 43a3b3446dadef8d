export { runService, EXIT_CONFIG, type RunningService, type RunServiceOptions } from './run-service.ts';
export { isListening } from './is-listening.ts';
