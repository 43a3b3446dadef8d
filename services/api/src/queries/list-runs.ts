import type { RunStatus } from '@pipewright/core';
import { and, desc, eq, gte, lt, or, runs, type Database } from '@pipewright/db';
import { decodeRunCursor, encodeRunCursor } from './run-cursor.ts';
import { iso, runLinks } from './serialize.ts';

export interface ListRunsQuery {
  status?: RunStatus;
  pipeline?: string;
  team?: string;
  /** Runs created at or after this instant. */
  createdAfter?: Date;
  /** Runs created before this instant. */
  createdBefore?: Date;
  limit: number;
  cursor?: string;
}

/**
 * Newest first; each equality filter has an index ending in (created_at, id), read backwards,
 * and the time window is a range on that same created_at, so a page reads O(limit) rows.
 */
export async function listRuns(db: Database, query: ListRunsQuery) {
  const cursor = query.cursor ? decodeRunCursor(query.cursor) : undefined;
  const conditions = [
    query.status ? eq(runs.status, query.status) : undefined,
    query.pipeline ? eq(runs.pipelineName, query.pipeline) : undefined,
    query.team ? eq(runs.teamId, query.team) : undefined,
    query.createdAfter ? gte(runs.createdAt, query.createdAfter) : undefined,
    query.createdBefore ? lt(runs.createdAt, query.createdBefore) : undefined,
    cursor
      ? or(lt(runs.createdAt, cursor.createdAt), and(eq(runs.createdAt, cursor.createdAt), lt(runs.id, cursor.id)))
      : undefined,
  ].filter((c) => c !== undefined);
  const rows = await db
    .select()
    .from(runs)
    .where(conditions.length ? and(...conditions) : undefined)
    .orderBy(desc(runs.createdAt), desc(runs.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    items: page.map(toRunSummary),
    nextCursor: rows.length > query.limit && last ? encodeRunCursor({ createdAt: last.createdAt, id: last.id }) : null,
  };
}

/** A runs row as the API's RunSummary. */
export function toRunSummary(r: typeof runs.$inferSelect) {
  return {
    id: r.id,
    pipeline: { id: r.pipelineId, name: r.pipelineName },
    status: r.status,
    params: r.params,
    teamId: r.teamId,
    createdAt: r.createdAt.toISOString(),
    startedAt: iso(r.startedAt),
    finishedAt: iso(r.finishedAt),
    links: runLinks(r.id),
  };
}
