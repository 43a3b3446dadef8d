import type { StageJob } from '@pipewright/queue';

/**
 * Outbox payloads by kind; the relay switches on `kind`.
 * - `stage.run`: add the job to its queue.
 * - `stage.cancel`: remove the job if it has not started, and tell whichever worker runs it to
 *   abort (a Redis flag it checks, and a pub/sub message for speed).
 */
export type OutboxMessage =
  | { kind: 'stage.run'; payload: { queue: string; job: StageJob } }
  | { kind: 'stage.cancel'; payload: { queue: string; jobId: string; attemptId: string } };
