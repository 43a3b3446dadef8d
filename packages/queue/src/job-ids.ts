/**
 * Deterministic BullMQ job ids. Adding a job whose id already exists is a no-op in BullMQ, so a
 * publish or report repeated after a crash cannot run a stage or apply an event twice.
 * (BullMQ refuses `:` in custom ids, hence the dots.)
 */
export function stageJobId(stageRunId: string, attempt: number): string {
  return `${stageRunId}.${attempt}`;
}

export function eventJobId(attemptId: string, kind: 'started' | 'done' | `progress.${number}`): string {
  return `${attemptId}.${kind}`;
}
