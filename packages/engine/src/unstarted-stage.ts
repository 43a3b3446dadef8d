import type { StageStatus } from '@pipewright/core';

/**
 * What a stage that has not run holds: a new stage, a foreach instance, or one a retry resets
 * (which keeps its attempt count: attempt numbers go on across retries). One definition, so a
 * column added to stage_runs is cleared everywhere or nowhere.
 */
export const UNSTARTED_STAGE_STATE = {
  status: 'PENDING' as StageStatus,
  error: null,
  metrics: null,
  outputArtifactIds: null,
  cacheKey: null,
  cacheComponents: null,
  cacheExplanation: null,
  cancelRequestedAt: null,
  queuedAt: null,
  startedAt: null,
  finishedAt: null,
} as const;
