import { executeRows, sql, type Database } from '@pipewright/db';
import type { RunStatus } from '@pipewright/core';

/**
 * Pipelines by name (after `after`, at most `limit`), each with its latest version, how many
 * versions it has, and its newest run (read through runs_pipeline_created_idx, one index probe
 * per name).
 */
export async function listPipelines(db: Database, query: { limit: number; after?: string }) {
  /*
   * In: after (a name, exclusive), limit. Out: one row per pipeline name. Locks nothing.
   */
  const rows = await executeRows<{
    name: string;
    latest_version: number;
    versions: number;
    updated_at: string;
    run_id: string | null;
    run_status: RunStatus | null;
    run_created_at: string | null;
  }>(
    db,
    sql`select p.name, p.latest_version, p.versions,
               to_char(p.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as updated_at,
               lr.id as run_id, lr.status as run_status,
               to_char(lr.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as run_created_at
          from (select name, max(version)::int as latest_version, count(*)::int as versions, max(created_at) as updated_at
                  from pipelines
                 where ${query.after === undefined ? sql`true` : sql`name > ${query.after}`}
                 group by name
                 order by name
                 limit ${query.limit + 1}) p
          left join lateral (select r.id, r.status, r.created_at from runs r
                              where r.pipeline_name = p.name
                              order by r.created_at desc, r.id desc limit 1) lr on true
         order by p.name`,
  );
  const page = rows.slice(0, query.limit);
  return {
    items: page.map((r) => ({
      name: r.name,
      latestVersion: r.latest_version,
      versions: r.versions,
      updatedAt: r.updated_at,
      lastRun: r.run_id && r.run_status && r.run_created_at ? { id: r.run_id, status: r.run_status, createdAt: r.run_created_at } : null,
      links: { versions: `/v1/pipelines/${encodeURIComponent(r.name)}/versions` },
    })),
    nextCursor: rows.length > query.limit ? (page[page.length - 1]?.name ?? null) : null,
  };
}

/** Every version of a pipeline, newest first, with its spec. */
export async function listPipelineVersions(db: Database, name: string) {
  const rows = await executeRows<{ id: string; version: number; spec_digest: string; spec: unknown; created_at: string }>(
    db,
    sql`select p.id, p.version, p.spec_digest, p.spec,
               to_char(p.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at
          from pipelines p
         where p.name = ${name}
         order by p.version desc`,
  );
  return rows.map((r) => ({ id: r.id, version: r.version, specDigest: r.spec_digest, spec: r.spec, createdAt: r.created_at }));
}
