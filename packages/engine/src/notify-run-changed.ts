import { sql, type Database } from '@pipewright/db';

/** The Postgres channel on which every change of a run is announced (for SSE in the API). */
export const RUN_CHANGED_CHANNEL = 'pw_run_changed';

export type RunChange = 'state' | 'metrics';

/**
 * Announces that a run changed. Inside a transaction the notification is delivered at commit
 * (and dropped on rollback), so listeners never see a change that did not happen. Payload:
 * `{"runId":"…","change":"state"|"metrics"}`.
 */
export async function notifyRunChanged(tx: Database, runId: string, change: RunChange): Promise<void> {
  await tx.execute(sql`select pg_notify(${RUN_CHANGED_CHANNEL}, ${JSON.stringify({ runId, change })})`);
}
