import { StageError } from '@pipewright/core';

/**
 * A transient failure of an external data source (a network error, a 5xx, a timeout, a database
 * that refuses connections): retryable, since the same request may well succeed later. Uses the
 * registry's "a dependency is unavailable" code.
 */
export function sourceUnavailable(message: string, details?: unknown, cause?: unknown): StageError {
  return StageError.retryable('PW_ERR_NOT_READY', message, details, cause);
}
