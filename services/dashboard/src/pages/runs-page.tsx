import { useEffect, useState, type FormEvent } from 'react';
import { api, query, type ApiError } from '../api/client.ts';
import { useApi, useEventStream, useNow } from '../api/hooks.ts';
import type { BulkResult, PipelineSummary, RunList, RunSummary } from '../api/types.ts';
import { RUN_STATUSES, TERMINAL_RUN_STATUSES } from '../api/types.ts';
import { useAnnounce } from '../announce.tsx';
import { ErrorBox, Loading, StatusBadge } from '../components/common.tsx';
import { formatAgo, formatDuration, formatTime, runDuration, shortId, UUID } from '../format.ts';
import { Link, navigate } from '../router.tsx';

interface Filters {
  status: string;
  pipeline: string;
  team: string;
  after: string;
  before: string;
}

const PAGE = 25;

function filtersOf(search: URLSearchParams): Filters {
  return { status: search.get('status') ?? '', pipeline: search.get('pipeline') ?? '', team: search.get('team') ?? '', after: search.get('after') ?? '', before: search.get('before') ?? '' };
}

/** `datetime-local` value (local time) to an ISO instant, or undefined. */
function toIso(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/**
 * Runs, newest first: filter by state, pipeline, team and creation time; search by id; keyset
 * pages (the cursor of each page is kept so Previous works); select runs to retry or cancel
 * them, or retry every failed run that matches the filter. Rows update live from /v1/events.
 */
export function RunsPage({ search }: { search: URLSearchParams }) {
  const filters = filtersOf(search);
  const cursor = search.get('cursor') ?? '';
  const [history, setHistory] = useState<string[]>([]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [live, setLive] = useState<Map<string, RunSummary>>(new Map());
  const [newer, setNewer] = useState(0);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>();
  const [confirmAll, setConfirmAll] = useState(false);
  const [idQuery, setIdQuery] = useState('');
  const [idError, setIdError] = useState('');
  const announce = useAnnounce();
  const now = useNow(5000);

  const listUrl = `/v1/runs${query({
    status: filters.status,
    pipeline: filters.pipeline,
    team: filters.team,
    createdAfter: toIso(filters.after),
    createdBefore: toIso(filters.before),
    limit: PAGE,
    cursor,
  })}`;
  const runs = useApi(listUrl, (signal) => api<RunList>(listUrl, { signal }));
  const pipelines = useApi('pipelines', (signal) => api<{ items: PipelineSummary[] }>('/v1/pipelines?limit=500', { signal }));

  useEffect(() => {
    setSelected(new Set());
    setLive(new Map());
    setNewer(0);
    setConfirmAll(false);
  }, [listUrl]);

  useEventStream('/v1/events', {
    run: (data) => {
      const summary = data as RunSummary;
      if (runs.data?.items.some((r) => r.id === summary.id)) setLive((m) => new Map(m).set(summary.id, summary));
      else if (!cursor && summary.status === 'QUEUED' && !runs.data?.items.some((r) => r.id === summary.id)) setNewer((n) => n + 1);
    },
  });

  const setFilters = (next: Filters) => {
    setHistory([]);
    navigate(`/runs${query({ status: next.status, pipeline: next.pipeline, team: next.team, after: next.after, before: next.before })}`, { replace: true });
  };
  const onFilter = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setFilters({
      status: String(form.get('status') ?? ''),
      pipeline: String(form.get('pipeline') ?? '').trim(),
      team: String(form.get('team') ?? '').trim(),
      after: String(form.get('after') ?? ''),
      before: String(form.get('before') ?? ''),
    });
  };
  const page = (to: string | null) => {
    const base = `/runs${query({ status: filters.status, pipeline: filters.pipeline, team: filters.team, after: filters.after, before: filters.before })}`;
    navigate(to ? `${base}${base.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(to)}` : base);
  };
  const next = () => {
    if (!runs.data?.nextCursor) return;
    setHistory((h) => [...h, cursor]);
    page(runs.data.nextCursor);
  };
  const previous = () => {
    const prev = history.at(-1);
    setHistory((h) => h.slice(0, -1));
    page(prev ? prev : null);
  };

  const onSearch = async (event: FormEvent) => {
    event.preventDefault();
    setIdError('');
    const id = idQuery.trim();
    if (!UUID.test(id)) {
      setIdError('A run id is a UUID, like 0b6d2f7e-1c2d-4e5f-8a9b-0c1d2e3f4a5b.');
      return;
    }
    try {
      await api(`/v1/runs/${id}`);
      navigate(`/runs/${id}`);
    } catch (error) {
      setIdError((error as ApiError).message);
    }
  };

  const items = (runs.data?.items ?? []).map((r) => live.get(r.id) ?? r);
  const allSelected = items.length > 0 && items.every((r) => selected.has(r.id));
  const toggle = (id: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });

  const report = (what: string, result: BulkResult) => {
    const done = result.done ?? result.retried ?? [];
    const skipped = result.skipped ?? [];
    announce(`${what}: ${done.length} done${skipped.length ? `, ${skipped.length} skipped (${skipped.map((s) => `${shortId(s.id)}: ${s.message ?? s.reason ?? s.code}`).join('; ')})` : ''}`);
  };
  const bulk = async (what: string, call: () => Promise<BulkResult>) => {
    setBusy(true);
    setActionError(undefined);
    try {
      report(what, await call());
      setSelected(new Set());
      runs.reload();
    } catch (error) {
      setActionError(error);
    } finally {
      setBusy(false);
      setConfirmAll(false);
    }
  };
  const retrySelected = () =>
    bulk('Retry', async () => {
      const done: string[] = [];
      const skipped: BulkResult['skipped'] = [];
      for (const id of selected) {
        try {
          await api(`/v1/runs/${id}/retry`, { method: 'POST', body: {} });
          done.push(id);
        } catch (error) {
          const e = error as ApiError;
          if (e.name === 'NotAvailableError') throw error;
          skipped.push({ id, code: e.code, message: e.message });
        }
      }
      return { done, skipped };
    });
  const cancelSelected = () => bulk('Cancel', () => api<BulkResult>('/v1/runs/cancel', { method: 'POST', body: { runIds: [...selected] } }));
  const retryMatching = () =>
    bulk('Retry all matching', () =>
      api<BulkResult>('/v1/runs/retry', {
        method: 'POST',
        body: {
          filter: {
            ...(filters.status === 'FAILED' || filters.status === 'CANCELED' ? { status: filters.status } : {}),
            ...(filters.pipeline ? { pipeline: filters.pipeline } : {}),
            ...(toIso(filters.after) ? { createdAfter: toIso(filters.after) } : {}),
            ...(toIso(filters.before) ? { createdBefore: toIso(filters.before) } : {}),
          },
          limit: 100,
        },
      }),
    );

  return (
    <div>
      <header className="page-header">
        <h1>Runs</h1>
        <form className="inline-form" role="search" onSubmit={(e) => void onSearch(e)}>
          <label htmlFor="run-id-search">Run id</label>
          <input id="run-id-search" value={idQuery} onChange={(e) => setIdQuery(e.target.value)} placeholder="paste a run id" spellCheck={false} autoComplete="off" />
          <button type="submit">Open</button>
          {idError ? (
            <span className="field-error" role="alert">
              {idError}
            </span>
          ) : null}
        </form>
      </header>

      <form className="filters card" onSubmit={onFilter} aria-label="Filter runs" key={listUrl}>
        <div className="field">
          <label htmlFor="f-status">State</label>
          <select id="f-status" name="status" defaultValue={filters.status}>
            <option value="">any</option>
            {RUN_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-pipeline">Pipeline</label>
          <input id="f-pipeline" name="pipeline" defaultValue={filters.pipeline} list="pipeline-names" autoComplete="off" />
          <datalist id="pipeline-names">
            {pipelines.data?.items.map((p) => <option key={p.name} value={p.name} />)}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor="f-team">Team</label>
          <input id="f-team" name="team" defaultValue={filters.team} autoComplete="off" />
        </div>
        <div className="field">
          <label htmlFor="f-after">Created after</label>
          <input id="f-after" name="after" type="datetime-local" defaultValue={filters.after} />
        </div>
        <div className="field">
          <label htmlFor="f-before">Created before</label>
          <input id="f-before" name="before" type="datetime-local" defaultValue={filters.before} />
        </div>
        <div className="field buttons">
          <button type="submit">Apply filters</button>
          <button type="button" className="secondary" onClick={() => setFilters({ status: '', pipeline: '', team: '', after: '', before: '' })}>
            Clear
          </button>
        </div>
      </form>

      <div className="bulk-bar" role="toolbar" aria-label="Actions on selected runs">
        <span>{selected.size} selected</span>
        <button type="button" onClick={() => void retrySelected()} disabled={busy || selected.size === 0}>
          Retry selected
        </button>
        <button type="button" className="danger" onClick={() => void cancelSelected()} disabled={busy || selected.size === 0}>
          Cancel selected
        </button>
        {confirmAll ? (
          <>
            <button type="button" onClick={() => void retryMatching()} disabled={busy}>
              Confirm: retry up to 100 failed or canceled runs matching the filter
            </button>
            <button type="button" className="secondary" onClick={() => setConfirmAll(false)}>
              Keep them
            </button>
          </>
        ) : (
          <button type="button" className="secondary" onClick={() => setConfirmAll(true)} disabled={busy}>
            Retry all matching…
          </button>
        )}
      </div>
      {actionError ? <ErrorBox error={actionError} feature="Bulk actions" /> : null}
      {newer > 0 ? (
        <button
          type="button"
          className="banner"
          onClick={() => {
            setNewer(0);
            runs.reload();
          }}
        >
          {newer} new run{newer > 1 ? 's' : ''}: show
        </button>
      ) : null}

      {runs.error ? (
        <ErrorBox error={runs.error} />
      ) : !runs.data ? (
        <Loading what="runs" />
      ) : (
        <div className="table-scroll card">
          <table aria-label="Runs" data-testid="runs-table">
            <thead>
              <tr>
                <th scope="col" className="check">
                  <input
                    type="checkbox"
                    aria-label="Select every run on this page"
                    checked={allSelected}
                    onChange={() => setSelected(allSelected ? new Set() : new Set(items.map((r) => r.id)))}
                  />
                </th>
                <th scope="col">Run</th>
                <th scope="col">Pipeline</th>
                <th scope="col">State</th>
                <th scope="col">Created</th>
                <th scope="col" className="hide-narrow">Duration</th>
                <th scope="col" className="hide-narrow">Team</th>
              </tr>
            </thead>
            <tbody>
              {items.length === 0 ? (
                <tr>
                  <td colSpan={7} className="muted">
                    No run matches.
                  </td>
                </tr>
              ) : null}
              {items.map((r) => (
                <tr key={r.id} data-testid={`run-row-${r.id}`}>
                  <td className="check">
                    <input type="checkbox" aria-label={`Select run ${shortId(r.id)}`} checked={selected.has(r.id)} onChange={() => toggle(r.id)} />
                  </td>
                  <td>
                    <Link to={`/runs/${r.id}`} aria-label={`Run ${r.id}`}>
                      <code>{shortId(r.id)}</code>
                    </Link>
                  </td>
                  <td>{r.pipeline.name}</td>
                  <td>
                    <StatusBadge status={r.status} />
                  </td>
                  <td title={formatTime(r.createdAt)}>{formatAgo(r.createdAt, now)}</td>
                  <td className="num hide-narrow">{TERMINAL_RUN_STATUSES.includes(r.status) || r.startedAt ? formatDuration(runDuration(r, now)) : '—'}</td>
                  <td className="hide-narrow">{r.teamId ?? <span className="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav className="pager" aria-label="Pages">
        <button type="button" onClick={previous} disabled={!cursor}>
          ← Newer
        </button>
        <button type="button" onClick={next} disabled={!runs.data?.nextCursor}>
          Older →
        </button>
      </nav>
    </div>
  );
}
