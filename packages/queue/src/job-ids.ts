/**
 * Deterministic BullMQ job ids. Adding a job whose id already exists is a no-op in BullMQ, so a
 * publish repeated after a crash cannot run a stage twice. (BullMQ refuses `:` in custom ids,
 * hence the dot.)
 */
export function stageJobId(stageRunId: string, attempt: number): string {
  return `${stageRunId}.${attempt}`;
}
