import { useCallback, useEffect, useState } from 'react';
import { api, enc, type ApiError } from '../api/client.ts';
import { isNotAvailable, useApi, useEventStream, useNow } from '../api/hooks.ts';
import type { BulkResult, RunDetail, RunMetrics, Stage } from '../api/types.ts';
import { TERMINAL_RUN_STATUSES } from '../api/types.ts';
import { ErrorBox, Json, Loading, StatusBadge } from '../components/common.tsx';
import { RunDag } from '../components/run-dag.tsx';
import { StageDrawer } from '../components/stage-drawer.tsx';
import { formatDuration, formatTime, runDuration } from '../format.ts';
import { Link, navigate } from '../router.tsx';
import { useAnnounce } from '../announce.tsx';

/**
 * One run: its DAG, coloured by stage state and updated live from the run's event stream
 * (GET /v1/runs/{id}/events, which sends the run on connect and on every change: no polling),
 * a table of the stages, and the drawer of the selected stage.
 */
export function RunPage({ runId, stage }: { runId: string; stage: string | null }) {
  const [run, setRun] = useState<RunDetail | undefined>();
  const [metrics, setMetrics] = useState<RunMetrics | undefined>();
  const [progressVersion, setProgressVersion] = useState(0);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>();
  const announce = useAnnounce();
  const now = useNow(1000);

  useEffect(() => {
    setRun(undefined);
    setMetrics(undefined);
  }, [runId]);

  const stream = useEventStream(`/v1/runs/${runId}/events`, {
    run: (data) => setRun(data as RunDetail),
    metrics: (data) => {
      setMetrics(data as RunMetrics);
      setProgressVersion((v) => v + 1);
    },
  });
  // Without the stream (a refused connection: the run does not exist, or an API without SSE),
  // read the run once to show it or the error.
  const fallback = useApi<RunDetail>(stream === 'unavailable' && !run ? `/v1/runs/${runId}` : null, (signal) => api<RunDetail>(`/v1/runs/${runId}`, { signal }));
  const shown = run ?? fallback.data;

  const open = useCallback((name: string) => navigate(`/runs/${runId}?stage=${enc(name)}`), [runId]);
  const close = useCallback(() => {
    navigate(`/runs/${runId}`);
    // Back to the node that opened the drawer.
    setTimeout(() => (document.querySelector(`[data-testid="dag-node-${CSS.escape(stage ?? '')}"]`) as HTMLElement | null)?.focus(), 0);
  }, [runId, stage]);

  const act = async (what: string, call: () => Promise<unknown>) => {
    setBusy(true);
    setActionError(undefined);
    try {
      await call();
      announce(`${what}: requested`);
    } catch (error) {
      setActionError(error);
      announce(`${what} failed: ${(error as ApiError).message}`);
    } finally {
      setBusy(false);
    }
  };
  const retry = (fromStage?: string) =>
    act(fromStage ? `Retry from ${fromStage}` : 'Retry run', () => api(`/v1/runs/${runId}/retry`, { method: 'POST', body: fromStage ? { fromStage } : {} }));
  const cancel = () => act('Cancel run', () => api(`/v1/runs/${runId}/cancel`, { method: 'POST', body: {} }));
  const cancelStage = (name: string) => act(`Cancel stage ${name}`, () => api<BulkResult>(`/v1/runs/${runId}/stages/${enc(name)}/cancel`, { method: 'POST', body: {} }));

  if (!shown) {
    if (fallback.error) return <ErrorBox error={fallback.error} />;
    return <Loading what="the run" />;
  }
  const ended = TERMINAL_RUN_STATUSES.includes(shown.status);
  // Each foreach group followed by its instances in item order.
  const byItem = (a: Stage, b: Stage) => (a.itemIndex ?? 0) - (b.itemIndex ?? 0);
  const ordered = shown.stages.filter((s) => !s.parent).flatMap((s) => [s, ...shown.stages.filter((i) => i.parent === s.stage).sort(byItem)]);
  const selected = stage ? shown.stages.find((s) => s.stage === stage) : undefined;

  return (
    <div className={`run-page${selected ? ' with-drawer' : ''}`}>
      <div className="run-main">
        <header className="page-header">
          <div>
            <p className="breadcrumbs">
              <Link to="/runs">Runs</Link> / <Link to={`/pipelines/${enc(shown.pipeline.name)}`}>{shown.pipeline.name}</Link> v{shown.pipeline.version}
            </p>
            <h1>
              Run <code className="run-id">{shown.id}</code>{' '}
              <span data-testid="run-status">
                <StatusBadge status={shown.status} />
              </span>
            </h1>
            <p className="muted">
              created {formatTime(shown.createdAt)} · {shown.startedAt ? `ran ${formatDuration(runDuration(shown, now))}` : 'not started'}
              {shown.teamId ? ` · team ${shown.teamId}` : ''} · <StreamBadge state={stream} />
            </p>
          </div>
          <div className="button-row">
            <button type="button" onClick={() => void retry()} disabled={busy || !ended}>
              Retry run
            </button>
            <button type="button" className="danger" onClick={() => void cancel()} disabled={busy || ended}>
              Cancel run
            </button>
          </div>
        </header>
        {actionError ? <ErrorBox error={actionError} feature={isNotAvailable(actionError) ? 'This action' : undefined} /> : null}

        <RunDag stages={shown.stages} selected={stage} onOpen={open} />

        <section aria-labelledby="stages-title" className="card">
          <h2 id="stages-title">Stages</h2>
          <div className="table-scroll">
            <table aria-label="Stages of the run">
              <thead>
                <tr>
                  <th scope="col">Stage</th>
                  <th scope="col" className="hide-narrow">Type</th>
                  <th scope="col">Status</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Duration</th>
                  <th scope="col">Error</th>
                </tr>
              </thead>
              <tbody>
                {ordered.map((s) => (
                  <tr key={s.id} className={s.stage === stage ? 'selected' : undefined}>
                    <td>
                      <Link to={`/runs/${runId}?stage=${enc(s.stage)}`} aria-label={`Open stage ${s.stage}`} className={s.parent ? 'instance' : undefined}>
                        {s.stage}
                      </Link>
                    </td>
                    <td className="hide-narrow">
                      <code>{s.uses}</code>
                    </td>
                    <td>
                      <StatusBadge status={s.status} />
                    </td>
                    <td className="num">{s.attemptCount}</td>
                    <td className="num">{formatDuration(s.durationMs ?? (s.startedAt && !s.finishedAt ? now - Date.parse(s.startedAt) : null))}</td>
                    <td>{s.error ? <code title={s.error.message}>{s.error.code}</code> : ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>

        <details className="card">
          <summary>Run params</summary>
          <Json value={shown.params} label="Run params" />
        </details>
      </div>
      {selected ? (
        <StageDrawer
          run={shown}
          stage={selected}
          metrics={metrics}
          progressVersion={progressVersion}
          busy={busy}
          onClose={close}
          onRetryFrom={(name) => void retry(name)}
          onCancelStage={(name) => void cancelStage(name)}
        />
      ) : null}
    </div>
  );
}

function StreamBadge({ state }: { state: string }) {
  const text: Record<string, string> = {
    connecting: 'connecting…',
    live: 'live',
    reconnecting: 'reconnecting…',
    unavailable: 'live updates not available',
  };
  return (
    <span className={`stream stream-${state}`} data-testid="stream-state" data-state={state}>
      {text[state] ?? state}
    </span>
  );
}
