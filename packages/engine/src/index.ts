export { submitRun, type SubmitRunInput, type SubmittedRun } from './submit-run.ts';
export { advanceRun, type AdvanceResult } from './advance-run.ts';
export { enqueueStage, type EnqueueStageInput } from './enqueue-stage.ts';
export { applyStageEvent, type ApplyOutcome, type ApplyResult } from './apply-stage-event.ts';
export { relayOutbox, drainOutbox, type RelayOptions } from './relay-outbox.ts';
export { OutboxRelayLoop, type OutboxRelayLoopOptions } from './outbox-relay-loop.ts';
export { retryDelayMs } from './retry-delay.ts';
export { canonicalJson, sha256Hex } from './canonical-json.ts';
export type { OutboxMessage } from './outbox-message.ts';
