import { PipewrightError } from '@pipewright/core';
import { and, eq, idempotencyKeys, sql, type Database } from '@pipewright/db';

export interface IdempotencyKey {
  /** `submit`, or `retry:<runId>` */
  scope: string;
  key: string;
  /** Hash of the request the key came with (method, path, canonical body). */
  requestHash: string;
}

/**
 * Within the caller's transaction: returns the run an earlier request with this key produced
 * (same request: replay it), throws PW_ERR_IDEMPOTENCY_CONFLICT (another request under the same
 * key), or returns null (first use: the caller does the work and calls `recordIdempotencyKey`).
 * Serialised per key by a transaction-scoped advisory lock, so two concurrent first uses cannot
 * both do the work.
 */
export async function findIdempotentRun(tx: Database, idem: IdempotencyKey): Promise<string | null> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`idem:${idem.scope}:${idem.key}`}))`);
  const [row] = await tx
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.scope, idem.scope), eq(idempotencyKeys.key, idem.key)));
  if (!row) return null;
  if (row.requestHash !== idem.requestHash) {
    throw new PipewrightError('PW_ERR_IDEMPOTENCY_CONFLICT', `Idempotency-Key "${idem.key}" was already used with a different request`, {
      runId: row.runId,
    });
  }
  return row.runId;
}

export async function recordIdempotencyKey(tx: Database, idem: IdempotencyKey, runId: string): Promise<void> {
  await tx.insert(idempotencyKeys).values({ scope: idem.scope, key: idem.key, requestHash: idem.requestHash, runId });
}
