import { StageError } from '@pipewright/core';

/**
 * A transient failure of an external data source (a network error, a 5xx, a timeout, a database
 * that refuses connections): retryable, since the same request may well succeed later.
 */
export function sourceUnavailable(message: string, details?: unknown, cause?: unknown): StageError {
  return StageError.retryable('PW_ERR_SOURCE_UNAVAILABLE', message, details, cause);
}
