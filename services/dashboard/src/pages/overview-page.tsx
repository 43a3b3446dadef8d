import { api } from '../api/client.ts';
import { useApi, useEventStream, useThrottled } from '../api/hooks.ts';
import type { QueueInfo, RecentFailures, RunStats, WorkerInfo } from '../api/types.ts';
import { ErrorBox, Loading, Section, StatusBadge } from '../components/common.tsx';
import { RunsByHourChart } from '../components/metric-chart.tsx';
import { QueueTable } from '../components/queue-table.tsx';
import { WorkerTable } from '../components/worker-table.tsx';
import { formatAgo, shortId } from '../format.ts';
import { Link } from '../router.tsx';

/**
 * What is running, what is stuck, what failed and why, in one page. Refreshed when runs change
 * (the all-runs event stream, at most every 2 s) and by the Refresh button; no polling loop.
 */
export function OverviewPage() {
  const queues = useApi('queues', (signal) => api<{ items: QueueInfo[] }>('/v1/queues', { signal }));
  const workers = useApi('workers', (signal) => api<{ items: WorkerInfo[] }>('/v1/workers', { signal }));
  const stats = useApi('stats', (signal) => api<RunStats>('/v1/stats/runs?hours=24', { signal }));
  const failures = useApi('failures', (signal) => api<RecentFailures>('/v1/stats/failures?minutes=60&limit=50', { signal }));
  const refreshAll = () => {
    queues.reload();
    workers.reload();
    stats.reload();
    failures.reload();
  };
  const refresh = useThrottled(refreshAll, 2000);
  const stream = useEventStream('/v1/events', { run: refresh, resync: refresh });

  const totals = stats.data?.totals;
  const active = (totals?.RUNNING ?? 0) + (totals?.QUEUED ?? 0) + (totals?.CANCELING ?? 0);
  const backlog = queues.data?.items.reduce((n, q) => n + (q.kind === 'stage' ? q.waiting + q.delayed : 0), 0);

  return (
    <div className="overview">
      <header className="page-header">
        <div>
          <h1>Overview</h1>
          <p className="muted">
            Live: {stream === 'live' ? 'updates as runs change' : stream === 'unavailable' ? 'not available (refresh by hand)' : stream}
          </p>
        </div>
        <button type="button" onClick={refreshAll}>
          Refresh
        </button>
      </header>

      <ul className="tiles" aria-label="Summary">
        <li className="tile">
          <span className="tile-value">{totals ? active : '—'}</span> runs queued or running (24 h)
        </li>
        <li className="tile">
          <span className="tile-value">{backlog ?? '—'}</span> stage jobs waiting
        </li>
        <li className={`tile${(failures.data?.total ?? 0) > 0 ? ' bad' : ''}`}>
          <span className="tile-value">{failures.data?.total ?? '—'}</span> failed attempts (1 h)
        </li>
        <li className="tile">
          <span className="tile-value">{workers.data?.items.length ?? '—'}</span> workers online
        </li>
      </ul>

      <div className="grid-2">
        <Section title="Queues" id="queues">
          {queues.error ? <ErrorBox error={queues.error} feature="Queue statistics" /> : queues.data ? <QueueTable queues={queues.data.items} showIdle={false} /> : <Loading what="queues" />}
          <p className="small">
            <Link to="/queues">Workers and queues: pause, resume, clean failed →</Link>
          </p>
        </Section>

        <Section title="Workers online" id="workers">
          {workers.error ? <ErrorBox error={workers.error} feature="Workers" /> : workers.data ? <WorkerTable workers={workers.data.items} /> : <Loading what="workers" />}
        </Section>

        <Section title="Runs in the last 24 hours" id="runs-24h">
          {stats.error ? (
            <ErrorBox error={stats.error} feature="Run statistics" />
          ) : stats.data ? (
            <>
              <RunsByHourChart buckets={stats.data.buckets} label="Runs created per hour in the last 24 hours, by status" />
              <p className="totals">
                {Object.entries(stats.data.totals)
                  .filter(([, n]) => n > 0)
                  .map(([status, n]) => (
                    <Link key={status} to={`/runs?status=${status}`} className="total" aria-label={`${n} runs ${status}: list them`}>
                      <StatusBadge status={status} /> {n}
                    </Link>
                  ))}
                {Object.values(stats.data.totals).every((n) => n === 0) ? <span className="muted">No runs in the last 24 hours.</span> : null}
              </p>
            </>
          ) : (
            <Loading what="statistics" />
          )}
        </Section>

        <Section title="Failures in the last hour" id="failures">
          {failures.error ? (
            <ErrorBox error={failures.error} feature="Recent failures" />
          ) : failures.data ? (
            <>
              {Object.keys(failures.data.byCode).length ? (
                <p className="codes">
                  {Object.entries(failures.data.byCode).map(([code, n]) => (
                    <span key={code} className="code-count">
                      <code>{code}</code> × {n}
                    </span>
                  ))}
                </p>
              ) : null}
              {failures.data.items.length === 0 ? (
                <p className="muted">No failures in the last hour.</p>
              ) : (
                <div className="table-scroll">
                  <table aria-label="Failed attempts in the last hour">
                    <thead>
                      <tr>
                        <th scope="col">When</th>
                        <th scope="col">Run / stage</th>
                        <th scope="col">Error</th>
                      </tr>
                    </thead>
                    <tbody>
                      {failures.data.items.map((f) => (
                        <tr key={f.attemptId}>
                          <td title={f.at}>{formatAgo(f.at)}</td>
                          <td>
                            <Link to={`/runs/${f.runId}?stage=${encodeURIComponent(f.stage)}`}>
                              {f.pipeline} {shortId(f.runId)} / {f.stage}
                            </Link>
                            <span className="muted"> #{f.attempt}</span>
                          </td>
                          <td>
                            <code>{f.code ?? f.status}</code> <span className="small">{f.message}</span>
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </>
          ) : (
            <Loading what="failures" />
          )}
        </Section>
      </div>
    </div>
  );
}
