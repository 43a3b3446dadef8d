import type { Redis } from 'ioredis';
import { EVENT_FIELD } from './event-stream-consumer.ts';
import { stageEventSchema, type StageEvent } from './job-catalog.ts';
import { eventStreamKey } from './queue-names.ts';

/**
 * The events still in the stream (not yet acknowledged by an orchestrator), oldest first, without
 * taking them: for operators' tools and tests. Entries that are not stage events are skipped.
 */
export async function peekEvents(connection: Redis, prefix: string, limit = 10_000): Promise<StageEvent[]> {
  const entries = await connection.xrange(eventStreamKey(prefix), '-', '+', 'COUNT', limit);
  return entries.flatMap(([, fields]) => {
    const parsed = stageEventSchema.safeParse(JSON.parse(fields[fields.indexOf(EVENT_FIELD) + 1] ?? 'null'));
    return parsed.success ? [parsed.data] : [];
  });
}
