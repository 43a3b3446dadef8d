import { useNow } from '../api/hooks.ts';
import type { WorkerInfo } from '../api/types.ts';
import { formatAgo } from '../format.ts';

/** Workers with a live heartbeat; a heartbeat older than 30 s is flagged as stale. */
export function WorkerTable({ workers }: { workers: WorkerInfo[] }) {
  const now = useNow(5000);
  if (workers.length === 0) return <p className="muted">No worker is online.</p>;
  return (
    <div className="table-scroll">
      <table aria-label="Workers">
        <thead>
          <tr>
            <th scope="col">Worker</th>
            <th scope="col">Host</th>
            <th scope="col">Queues</th>
            <th scope="col">Backend</th>
            <th scope="col" className="num">
              GPUs
            </th>
            <th scope="col">Last heartbeat</th>
          </tr>
        </thead>
        <tbody>
          {workers.map((w) => {
            const stale = now - Date.parse(w.lastHeartbeatAt) > 30_000;
            return (
              <tr key={w.id} data-testid={`worker-${w.id}`}>
                <th scope="row">
                  <code>{w.id}</code>
                  <div className="muted small">v{w.version}</div>
                </th>
                <td>
                  {w.host}
                  {w.pid ? <span className="muted"> pid {w.pid}</span> : null}
                </td>
                <td>
                  <details>
                    <summary>{w.queues.length} queues</summary>
                    <ul className="plain small">
                      {w.queues.map((q) => (
                        <li key={q}>
                          <code>{q}</code>
                        </li>
                      ))}
                    </ul>
                  </details>
                </td>
                <td>{w.backend ?? '—'}</td>
                <td className="num">{w.gpuCount}</td>
                <td className={stale ? 'bad' : undefined} title={w.lastHeartbeatAt}>
                  {formatAgo(w.lastHeartbeatAt, now)}
                  {stale ? ' (stale)' : ''}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
