import type { StageJob } from '@pipewright/queue';

/** Outbox payloads by kind. The relay switches on `kind`. */
export type OutboxMessage = { kind: 'stage.run'; payload: { queue: string; job: StageJob } };
