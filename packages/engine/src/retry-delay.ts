import type { RetryPolicy } from '@pipewright/core';

/**
 * Delay before attempt `nextAttempt` (2 = first retry). Exponential doubles from `delayMs`, capped
 * at `maxDelayMs`; jitter picks uniformly in [delay/2, delay] so retries of many stages that
 * failed together (a lost Redis, a dead node) do not stampede back at the same instant.
 */
export function retryDelayMs(policy: RetryPolicy, nextAttempt: number, random: () => number = Math.random): number {
  const retryIndex = Math.max(0, nextAttempt - 2);
  const base = policy.backoff === 'fixed' ? policy.delayMs : policy.delayMs * 2 ** retryIndex;
  const capped = Math.min(base, policy.maxDelayMs);
  if (!policy.jitter) return Math.round(capped);
  return Math.round(capped / 2 + random() * (capped / 2));
}
