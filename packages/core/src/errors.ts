/**
 * The one registry of API and system error codes. The API answers every error as
 * `{ code, message, details? }` with the status listed here; stage failures carry the same
 * codes in their stored StageFailure. Every code is documented in docs/errors.md, and a test
 * keeps the two in step.
 */

export interface ErrorDefinition {
  /** HTTP status the API answers with. */
  status: number;
  /** Whether trying the same thing again may succeed (a client or a retry policy may). */
  retryable: boolean;
  /** Default message, safe to show to a client. */
  message: string;
  /** When it happens and what to do about it. */
  description: string;
}

export const ERRORS = {
  PW_ERR_VALIDATION: {
    status: 400,
    retryable: false,
    message: 'The request is invalid',
    description: 'A path parameter, query string or body failed validation; `details` lists what is wrong.',
  },
  PW_ERR_SPEC_INVALID: {
    status: 400,
    retryable: false,
    message: 'The pipeline spec is invalid',
    description: 'The submitted spec failed validation; `details.problems` lists every problem with a path and a PW_SPEC_* code.',
  },
  PW_ERR_BAD_CURSOR: {
    status: 400,
    retryable: false,
    message: 'The pagination cursor is invalid',
    description: 'A `cursor` query parameter was not produced by this API, or was tampered with; restart from the first page.',
  },
  PW_ERR_RUN_NOT_FOUND: {
    status: 404,
    retryable: false,
    message: 'Run not found',
    description: 'No run has this id (or it was deleted by retention).',
  },
  PW_ERR_ARTIFACT_NOT_FOUND: {
    status: 404,
    retryable: false,
    message: 'Artifact not found',
    description: 'No artifact has this digest, or its bytes are missing from the artifact store.',
  },
  PW_ERR_STAGE_NOT_FOUND: {
    status: 404,
    retryable: false,
    message: 'Stage not found',
    description: 'The run exists but has no stage with this id.',
  },
  PW_ERR_QUEUE_NOT_FOUND: {
    status: 404,
    retryable: false,
    message: 'Queue not found',
    description: 'No queue has this name: the names are `events` and `stage-<family>-<cpu|gpu>` for the families of the registered stage types (see GET /v1/queues).',
  },
  PW_ERR_PIPELINE_NOT_FOUND: {
    status: 404,
    retryable: false,
    message: 'Pipeline not found',
    description: 'No pipeline with this name was ever submitted.',
  },
  PW_ERR_NOT_FOUND: {
    status: 404,
    retryable: false,
    message: 'Route not found',
    description: 'No route matches the method and URL.',
  },
  PW_ERR_PAYLOAD_TOO_LARGE: {
    status: 413,
    retryable: false,
    message: 'The request body is too large',
    description: 'The body exceeds the configured limit; split the pipeline or raise the limit.',
  },
  PW_ERR_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    retryable: false,
    message: 'Unsupported content type',
    description: 'Specs are accepted as application/json or application/yaml (also application/x-yaml, text/yaml).',
  },
  PW_ERR_INTERNAL: {
    status: 500,
    retryable: true,
    message: 'Internal error',
    description: 'An unexpected failure; the response carries no internals, the server log has the cause.',
  },
  PW_ERR_NOT_READY: {
    status: 503,
    retryable: true,
    message: 'The service is not ready',
    description: 'A dependency (Postgres, Redis) is unavailable or the service is starting or shutting down; try again later.',
  },
  PW_ERR_WHEN_FAILED: {
    status: 422,
    retryable: false,
    message: "The stage's when condition could not be evaluated",
    description: "Evaluating the stage's `when` expression failed at run time (a type error, say); the stage is FAILED without running.",
  },
  PW_ERR_ARTIFACT_CORRUPT: {
    status: 500,
    retryable: true,
    message: 'An artifact does not match its digest',
    description: 'The bytes the artifact store returned hash to something other than the artifact digest; the store was damaged.',
  },
  PW_ERR_ARTIFACT_URI: {
    status: 400,
    retryable: false,
    message: 'An artifact uri does not belong to this store',
    description: 'The artifact store refused a uri that is not one of its blobs (a path outside its root, another scheme).',
  },
  PW_ERR_TEST_FAILURE: {
    status: 422,
    retryable: true,
    message: 'A util stage failed on purpose',
    description: 'A `util.*` stage was asked to fail (`failUntilAttempt`), to try retries and failure handling; retryable unless `failRetryable: false`.',
  },
  PW_ERR_IDEMPOTENCY_CONFLICT: {
    status: 409,
    retryable: false,
    message: "The Idempotency-Key was used with a different request",
    description: "An Idempotency-Key header repeats one seen before with a different request body; the first request stands. Use a new key for a new request.",
  },
  PW_ERR_RUN_NOT_RETRYABLE: {
    status: 409,
    retryable: false,
    message: "The run cannot be retried in its state",
    description: "Only a run that ended (FAILED, CANCELED, or SUCCEEDED with fromStage or params) can be retried; wait for it to end or cancel it.",
  },
  PW_ERR_NOTHING_TO_RETRY: {
    status: 409,
    retryable: false,
    message: "Nothing in the run needs running again",
    description: "The retry would re-run no stage: every stage succeeded and neither fromStage nor changed params were given.",
  },
  PW_ERR_RUN_NOT_CANCELABLE: {
    status: 409,
    retryable: false,
    message: "The run or stage already ended",
    description: "A cancel was asked for a run or stage that already ended (SUCCEEDED, FAILED, CANCELED, CACHED or SKIPPED).",
  },
  PW_ERR_WORKER_LOST: {
    status: 500,
    retryable: true,
    message: "The worker running the stage was lost",
    description: "The attempt was marked LOST: its worker stopped heart-beating, or its job vanished from Redis or failed there (a killed process, a flushed Redis). The retry policy applies.",
  },
  PW_ERR_OUTPUT_MISSING: {
    status: 500,
    retryable: false,
    message: "A stage succeeded without a declared output",
    description: "The worker reported success but one of the outputs the stage type declares was missing; the attempt is FAILED, since consumers could not bind to it.",
  },
  PW_ERR_FOREACH_NOT_A_LIST: {
    status: 422,
    retryable: false,
    message: "The foreach source carries no list of items",
    description: "The upstream json output a foreach stage maps over has no `items` array in its metadata (or more than 10,000 items); the stage that writes it must put the list there.",
  },
  PW_ERR_FOREACH_CHANGED: {
    status: 409,
    retryable: false,
    message: "The foreach list changed size on retry",
    description: "A retried foreach stage found a list of a different length than its existing instances; submit a new run to fan out anew.",
  },
  PW_ERR_FOREACH_ITEM_FAILED: {
    status: 500,
    retryable: false,
    message: "Instances of a foreach stage failed",
    description: "A foreach group ends FAILED when any of its instances did not succeed; the error names them. Retrying the run re-runs the failed instances.",
  },
  PW_ERR_SOURCE_UNAVAILABLE: {
    status: 503,
    retryable: true,
    message: "An external data source is unavailable",
    description: "An ingest stage could not reach its source (a network error, an HTTP 5xx, a timeout, a database refusing connections); the retry policy applies.",
  },
  PW_ERR_STAGE_CRASHED: {
    status: 500,
    retryable: true,
    message: 'The stage crashed',
    description: 'The stage handler threw something that is not a StageError, or its worker died; the retry policy applies.',
  },
  PW_ERR_STAGE_TIMEOUT: {
    status: 504,
    retryable: true,
    message: 'The stage timed out',
    description: 'The attempt ran longer than the stage timeoutMs and was aborted; the retry policy applies.',
  },
  PW_ERR_STAGE_CANCELED: {
    status: 409,
    retryable: false,
    message: 'The stage was canceled',
    description: 'The run was canceled while the stage was queued or running.',
  },
  PW_ERR_STAGE_TYPE_UNKNOWN: {
    status: 422,
    retryable: false,
    message: 'Unknown stage type',
    description: 'The worker that took the job has no handler for its stage type (a deployment mismatch between API and workers).',
  },
  PW_ERR_INPUT_MISSING: {
    status: 422,
    retryable: false,
    message: 'A stage input is missing',
    description: 'An input artifact could not be resolved: its upstream output is absent from the run or from the artifact store.',
  },
  PW_ERR_BAD_DATA: {
    status: 422,
    retryable: false,
    message: 'The stage input data is invalid',
    description: 'The data does not suit the stage (missing column, wrong dtype, empty table); running again cannot help.',
  },
  PW_ERR_BAD_PARAMS: {
    status: 422,
    retryable: false,
    message: 'The stage params are invalid',
    description: 'The params failed a check only possible at run time (e.g. a column named in params is absent).',
  },
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof ERRORS;

export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERRORS, value);
}

/**
 * An error with a registered code. Services throw it; the API turns it into
 * `{ code, message, details? }` with `statusCode`.
 */
export class PipewrightError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly retryable: boolean;
  readonly details: unknown;

  constructor(code: ErrorCode, message?: string, details?: unknown, options?: { cause?: unknown }) {
    const definition: ErrorDefinition = ERRORS[code];
    super(message ?? definition.message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PipewrightError';
    this.code = code;
    this.statusCode = definition.status;
    this.retryable = definition.retryable;
    this.details = details;
  }
}

export function isPipewrightError(value: unknown): value is PipewrightError {
  return value instanceof PipewrightError;
}
