/** Every status of a run, a stage and an attempt, and the predicates over them, in one place. */

export const RUN_STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELING', 'CANCELED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const STAGE_STATUSES = [
  'PENDING', 'QUEUED', 'RUNNING', 'RETRY_WAIT', 'SUCCEEDED', 'CACHED', 'FAILED', 'SKIPPED', 'CANCELED',
] as const;
export type StageStatus = (typeof STAGE_STATUSES)[number];

export const ATTEMPT_STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'LOST', 'CANCELED'] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${String(value)}`);
}

export function isTerminalRunStatus(status: RunStatus): boolean {
  switch (status) {
    case 'SUCCEEDED':
    case 'FAILED':
    case 'CANCELED':
      return true;
    case 'QUEUED':
    case 'RUNNING':
    case 'CANCELING':
      return false;
    default:
      return assertNever(status);
  }
}

export function isTerminalStageStatus(status: StageStatus): boolean {
  switch (status) {
    case 'SUCCEEDED':
    case 'CACHED':
    case 'FAILED':
    case 'SKIPPED':
    case 'CANCELED':
      return true;
    case 'PENDING':
    case 'QUEUED':
    case 'RUNNING':
    case 'RETRY_WAIT':
      return false;
    default:
      return assertNever(status);
  }
}

/** A dependency in one of these states lets its dependents run. */
export function isSatisfiedStageStatus(status: StageStatus): boolean {
  return status === 'SUCCEEDED' || status === 'CACHED';
}

export function isTerminalAttemptStatus(status: AttemptStatus): boolean {
  switch (status) {
    case 'SUCCEEDED':
    case 'FAILED':
    case 'LOST':
    case 'CANCELED':
      return true;
    case 'QUEUED':
    case 'RUNNING':
      return false;
    default:
      return assertNever(status);
  }
}
