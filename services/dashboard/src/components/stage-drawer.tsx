import { useEffect, useRef, type ReactNode } from 'react';
import { api, enc } from '../api/client.ts';
import { isNotAvailable, useApi } from '../api/hooks.ts';
import type { Artifact, CacheExplanation, LogLine, RunDetail, RunMetrics, Stage, StageDetail } from '../api/types.ts';
import { TERMINAL_STAGE_STATUSES } from '../api/types.ts';
import { formatBytes, formatDuration, formatNumber, formatTime, shortId } from '../format.ts';
import { Link } from '../router.tsx';
import { ErrorBox, Json, NotAvailable, StatusBadge } from './common.tsx';
import { MetricChart } from './metric-chart.tsx';

export interface StageDrawerProps {
  run: RunDetail;
  stage: Stage;
  metrics: RunMetrics | undefined;
  /** Bumped on every metrics event of the run: log lines arrive with metric batches. */
  progressVersion: number;
  busy: boolean;
  onClose(): void;
  onRetryFrom(stage: string): void;
  onCancelStage(stage: string): void;
}

/**
 * Everything about one stage: state and error, attempts, per-epoch metric charts, params,
 * inputs and outputs (download, lineage), the cache explanation and the log lines. The state
 * comes live from the run's event stream; inputs and logs are read again when it changes.
 */
export function StageDrawer({ run, stage, metrics, progressVersion, busy, onClose, onRetryFrom, onCancelStage }: StageDrawerProps) {
  const headingRef = useRef<HTMLHeadingElement>(null);
  const base = `/v1/runs/${run.id}/stages/${enc(stage.stage)}`;
  const detail = useApi<StageDetail>(`${base}|${stage.status}|${stage.attemptCount}`, (signal) => api<StageDetail>(base, { signal }));
  const logsKey = `${base}/logs|${stage.status}|${stage.attemptCount}|${stage.status === 'RUNNING' ? progressVersion : 0}`;
  const logs = useApi<{ items: LogLine[] }>(logsKey, (signal) => api<{ items: LogLine[] }>(`${base}/logs?limit=500`, { signal }));

  useEffect(() => {
    headingRef.current?.focus();
  }, [stage.stage]);
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const instances = run.stages.filter((s) => s.parent === stage.stage).sort((a, b) => (a.itemIndex ?? 0) - (b.itemIndex ?? 0));
  const series = (metrics?.series ?? []).filter((s) => s.stage === stage.stage);
  const byName = new Map<string, typeof series>();
  for (const s of series) byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
  const finalMetrics = stage.metrics ?? metrics?.final[stage.stage] ?? null;
  const ended = TERMINAL_STAGE_STATUSES.includes(stage.status);
  const runEnded = ['SUCCEEDED', 'FAILED', 'CANCELED'].includes(run.status);
  // A stage that succeeded in the end keeps its earlier failures in the attempts table only.
  const failing = ['FAILED', 'RETRY_WAIT', 'CANCELED', 'SKIPPED'].includes(stage.status);
  const error = failing ? (stage.error ?? [...stage.attempts].reverse().find((a) => a.error)?.error ?? null) : null;
  const cache: CacheExplanation | null | undefined = detail.data?.cacheExplanation ?? stage.cacheExplanation;

  return (
    <aside className="drawer" aria-labelledby="drawer-title" data-testid="stage-drawer">
      <header className="drawer-header">
        <div>
          <h2 id="drawer-title" ref={headingRef} tabIndex={-1}>
            Stage {stage.stage}
          </h2>
          <p className="muted">
            <code>{stage.uses}</code> · {stage.resourceClass} · <StatusBadge status={stage.status} />
          </p>
        </div>
        <button type="button" className="icon-button" onClick={onClose} aria-label="Close stage details">
          ×
        </button>
      </header>

      <div className="button-row">
        <button type="button" onClick={() => onRetryFrom(stage.stage)} disabled={busy || !runEnded} title={runEnded ? undefined : 'The run must end before it can be retried'}>
          Retry from this stage
        </button>
        <button type="button" className="danger" onClick={() => onCancelStage(stage.stage)} disabled={busy || ended}>
          Cancel stage
        </button>
      </div>

      {stage.foreach ? (
        <>
          <p>
            Foreach over <code>{`${stage.foreach.stage}.${stage.foreach.output}`}</code>: one instance per item.
          </p>
          {instances.length ? (
            <ul className="instances" aria-label={`Instances of ${stage.stage}`}>
              {instances.map((i) => (
                <li key={i.id}>
                  <Link to={`/runs/${run.id}?stage=${enc(i.stage)}`} aria-label={`Open instance ${i.stage}`}>
                    {i.itemIndex !== null && i.itemIndex !== undefined ? `#${i.itemIndex}` : i.stage}
                  </Link>{' '}
                  <StatusBadge status={i.status} />
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted">No instance yet (made when the list is known).</p>
          )}
        </>
      ) : null}
      {stage.parent ? (
        <p>
          Instance {stage.itemIndex ?? ''} of <Link to={`/runs/${run.id}?stage=${enc(stage.parent)}`}>{stage.parent}</Link>
        </p>
      ) : null}

      <dl className="facts">
        <dt>Attempts</dt>
        <dd>{stage.attemptCount}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(stage.durationMs)}</dd>
        <dt>Queued</dt>
        <dd>{formatTime(stage.queuedAt)}</dd>
        <dt>Started</dt>
        <dd>{formatTime(stage.startedAt)}</dd>
        <dt>Finished</dt>
        <dd>{formatTime(stage.finishedAt)}</dd>
        <dt>Needs</dt>
        <dd>{stage.needs.length ? stage.needs.join(', ') : 'nothing'}</dd>
      </dl>

      {error ? (
        <div className="error-box" role="alert" data-testid="stage-error">
          <code>{error.code}</code> {error.message}
          {error.retryable !== undefined ? <span className="muted"> ({error.retryable ? 'retryable' : 'not retryable'})</span> : null}
        </div>
      ) : null}

      <h3>Metrics</h3>
      {byName.size === 0 && !finalMetrics ? <p className="muted">No metrics reported{ended ? '' : ' yet'}.</p> : null}
      <div className="charts">
        {[...byName].map(([name, list]) => (
          <MetricChart key={name} name={name} series={list} />
        ))}
      </div>
      {finalMetrics && Object.keys(finalMetrics).length > 0 ? (
        <table className="compact" aria-label="Final metrics">
          <thead>
            <tr>
              <th scope="col">Final metric</th>
              <th scope="col">Value</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(finalMetrics).map(([k, v]) => (
              <tr key={k}>
                <td>{k}</td>
                <td className="num">{formatNumber(v)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}

      <h3>Attempts</h3>
      <div className="table-scroll">
        <table className="compact" aria-label={`Attempts of ${stage.stage}`}>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Status</th>
              <th scope="col">Worker</th>
              <th scope="col">Backend</th>
              <th scope="col">Wall</th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {stage.attempts.length === 0 ? (
              <tr>
                <td colSpan={6} className="muted">
                  Not run yet.
                </td>
              </tr>
            ) : (
              stage.attempts.map((a) => (
                <tr key={a.id}>
                  <td>{a.number}</td>
                  <td>
                    <StatusBadge status={a.status} />
                  </td>
                  <td title={a.host ? `host ${a.host}` : undefined}>{a.workerId ?? a.host ?? '—'}</td>
                  <td>{a.backend ?? '—'}</td>
                  <td>{formatDuration(a.resourceUse?.wallMs ?? (a.startedAt && a.finishedAt ? Date.parse(a.finishedAt) - Date.parse(a.startedAt) : null))}</td>
                  <td>{a.error ? <code title={a.error.message}>{a.error.code}</code> : '—'}</td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>

      <h3>Params</h3>
      <Json value={stage.params} label={`Params of ${stage.stage}`} />

      <h3>Inputs</h3>
      {detail.error ? (
        <ErrorBox error={detail.error} feature="Stage inputs (GET /v1/runs/{id}/stages/{stage})" />
      ) : !detail.data ? (
        <p className="muted">Loading…</p>
      ) : Object.keys(detail.data.inputs ?? {}).length === 0 ? (
        <p className="muted">No inputs.</p>
      ) : (
        <ArtifactList
          label={`Inputs of ${stage.stage}`}
          items={Object.entries(detail.data.inputs).map(([name, input]) => ({ name, from: `${input.from.stage}.${input.from.output}`, type: input.type, artifact: input.artifact }))}
        />
      )}

      <h3>Outputs</h3>
      {Object.keys(stage.outputs).length === 0 ? (
        <p className="muted">No outputs{ended ? '' : ' yet'}.</p>
      ) : (
        <ArtifactList label={`Outputs of ${stage.stage}`} items={Object.entries(stage.outputs).map(([name, artifact]) => ({ name, type: artifact.type, artifact }))} />
      )}

      <h3>Cache</h3>
      <CacheInfo cache={cache} cacheKey={detail.data?.cacheKey ?? null} unavailable={isNotAvailable(detail.error)} />

      <h3>Logs</h3>
      {logs.error ? (
        <ErrorBox error={logs.error} feature="Stage logs (GET /v1/runs/{id}/stages/{stage}/logs)" />
      ) : !logs.data ? (
        <p className="muted">Loading…</p>
      ) : logs.data.items.length === 0 ? (
        <p className="muted">No log lines{ended ? '' : ' yet'}.</p>
      ) : (
        <ol className="logs" aria-label={`Log lines of ${stage.stage}`} tabIndex={0}>
          {logs.data.items.map((line, i) => (
            <li key={i} className={`log-${line.level}`}>
              <span className="muted">{new Date(line.at).toLocaleTimeString()}</span> <span className="muted">#{line.attempt}</span>{' '}
              <span className="log-level">{line.level}</span> {line.message}
            </li>
          ))}
        </ol>
      )}
    </aside>
  );
}

function ArtifactList({ label, items }: { label: string; items: { name: string; from?: string; type: string; artifact: Artifact | null }[] }) {
  return (
    <ul className="artifacts" aria-label={label}>
      {items.map(({ name, from, type, artifact }) => (
        <li key={name}>
          <div>
            <strong>{name}</strong> <span className="muted">{type}</span>
            {from ? <span className="muted"> ← {from}</span> : null}
          </div>
          {artifact ? (
            <div className="artifact-links">
              <span className="muted" title={artifact.digest}>
                {artifact.digest.slice(7, 19)} · {formatBytes(artifact.sizeBytes)}
              </span>
              <a href={artifact.links['content'] ?? `/v1/artifacts/${artifact.id}/content`} download aria-label={`Download ${name} (${formatBytes(artifact.sizeBytes)})`}>
                Download
              </a>
              <Link to={`/lineage/${artifact.id}`} aria-label={`Lineage of ${name}`}>
                Lineage
              </Link>
            </div>
          ) : (
            <span className="muted">not produced yet</span>
          )}
        </li>
      ))}
    </ul>
  );
}

function CacheInfo({ cache, cacheKey, unavailable }: { cache: CacheExplanation | null | undefined; cacheKey: string | null; unavailable: boolean }) {
  if (cache === undefined && unavailable) return <NotAvailable feature="Cache explanation" />;
  if (!cache) return <p className="muted">No cache decision yet (made when the stage becomes ready).</p>;
  const reasons: Record<string, string> = {
    disabled: 'caching is disabled for this stage',
    'never-run': 'no earlier execution of this stage type with these inputs',
    changed: 'something changed since the last execution',
  };
  return (
    <div className="cache-info" data-testid="cache-explanation">
      <p>
        <StatusBadge status={cache.hit ? 'CACHED' : 'MISS'} />{' '}
        {cache.hit ? 'Outputs reused from an earlier execution' : `Cache miss: ${reasons[cache.reason ?? ''] ?? cache.reason ?? 'no matching execution'}`}
        {cache.hit && cache.source ? (
          <>
            {' '}
            (<Link to={`/runs/${cache.source.runId}?stage=${enc(cache.source.stage)}`}>run {shortId(cache.source.runId)}, {cache.source.stage}</Link>)
          </>
        ) : null}
      </p>
      {cache.changed?.length ? (
        <p>
          Changed: {cache.changed.map((c) => <code key={c}>{c}</code>).reduce<ReactNode[]>((acc, el, i) => (i ? [...acc, ', ', el] : [el]), [])}
          {cache.comparedWith ? (
            <>
              {' '}
              compared with <Link to={`/runs/${cache.comparedWith.runId}?stage=${enc(cache.comparedWith.stage)}`}>run {shortId(cache.comparedWith.runId)}</Link>
            </>
          ) : null}
        </p>
      ) : null}
      {(cache.key ?? cacheKey) ? (
        <p className="muted">
          Key <code>{(cache.key ?? cacheKey ?? '').slice(0, 16)}…</code>
        </p>
      ) : null}
    </div>
  );
}
