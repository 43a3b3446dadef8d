import type { Redis } from 'ioredis';
import { stageEventSchema, type StageEvent } from './job-catalog.ts';
import { EVENT_FIELD, eventStreamKey } from './queue-names.ts';

/**
 * The events still in the stream (not yet acknowledged by an orchestrator), oldest first, without
 * taking them: for operators' tools and tests. Entries that are not stage events are skipped.
 */
export async function peekEvents(connection: Redis, prefix: string, limit = 10_000): Promise<StageEvent[]> {
  const entries = await connection.xrange(eventStreamKey(prefix), '-', '+', 'COUNT', limit);
  return entries.flatMap(([, fields]) => {
    let raw: unknown;
    try {
      raw = JSON.parse(fields[fields.indexOf(EVENT_FIELD) + 1] ?? 'null');
    } catch {
      return [];
    }
    const parsed = stageEventSchema.safeParse(raw);
    return parsed.success ? [parsed.data] : [];
  });
}
