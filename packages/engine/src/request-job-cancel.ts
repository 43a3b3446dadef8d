import { outbox, type Database, type AttemptRow } from '@pipewright/db';
import type { OutboxMessage } from './outbox-message.ts';


/** Writes the outbox row that removes an attempt's job and aborts it wherever it runs. */
export async function requestJobCancel(tx: Database, attempt: AttemptRow): Promise<void> {
  const message: OutboxMessage = { kind: 'stage.cancel', payload: { queue: attempt.queue, jobId: attempt.jobId, attemptId: attempt.id } };
  await tx.insert(outbox).values({ kind: message.kind, payload: message.payload });
}
