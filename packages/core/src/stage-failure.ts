/**
 * A stage's failure as it is stored (jsonb) and reported. Anything a handler throws is
 * normalised into one of these once, at the worker boundary.
 */
export type StageFailure =
  | { kind: 'application'; code: string; message: string; retryable: boolean; details?: unknown }
  | { kind: 'timeout'; code: 'PW_ERR_STAGE_TIMEOUT'; message: string; retryable: true; timeoutMs: number }
  | { kind: 'canceled'; code: 'PW_ERR_STAGE_CANCELED'; message: string; retryable: false }
  | { kind: 'internal'; code: string; message: string; retryable: boolean; stack?: string };

/** Thrown by a stage handler to fail with a chosen code and retryability. */
export class StageError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly details: unknown;

  private constructor(code: string, message: string, retryable: boolean, details?: unknown, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'StageError';
    this.code = code;
    this.retryable = retryable;
    this.details = details;
  }

  /** Bad data or bad params: running it again cannot help. */
  static nonRetryable(code: string, message: string, details?: unknown, cause?: unknown): StageError {
    return new StageError(code, message, false, details, cause);
  }

  /** A passing fault (network, resource): the retry policy may run it again. */
  static retryable(code: string, message: string, details?: unknown, cause?: unknown): StageError {
    return new StageError(code, message, true, details, cause);
  }
}

/** Normalises anything thrown into a StageFailure. */
export function toStageFailure(thrown: unknown): StageFailure {
  if (thrown instanceof StageError) {
    return {
      kind: 'application',
      code: thrown.code,
      message: thrown.message,
      retryable: thrown.retryable,
      ...(thrown.details === undefined ? {} : { details: thrown.details }),
    };
  }
  if (thrown instanceof Error) {
    return {
      kind: 'internal',
      code: 'PW_ERR_STAGE_CRASHED',
      message: thrown.message,
      retryable: true,
      ...(thrown.stack ? { stack: thrown.stack } : {}),
    };
  }
  return { kind: 'internal', code: 'PW_ERR_STAGE_CRASHED', message: String(thrown), retryable: true };
}
