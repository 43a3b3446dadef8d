import type { QueueInfo } from '../api/types.ts';
import { StatusBadge } from './common.tsx';

/** Queue counts; with `actions`, pause/resume and clean-failed buttons for each queue. */
export function QueueTable({
  queues,
  actions,
  busy,
  showIdle = true,
}: {
  queues: QueueInfo[];
  actions?: { pause(name: string): void; resume(name: string): void; cleanFailed(name: string): void };
  busy?: string | null;
  showIdle?: boolean;
}) {
  const visible = showIdle ? queues : queues.filter((q) => q.waiting + q.active + q.delayed + q.failed > 0 || q.paused || (q.throughputPerMinute ?? 0) > 0);
  return (
    <div className="table-scroll">
      <table aria-label="Queues">
        <thead>
          <tr>
            <th scope="col">Queue</th>
            <th scope="col" className="num">
              Waiting
            </th>
            <th scope="col" className="num">
              Active
            </th>
            <th scope="col" className="num">
              Delayed
            </th>
            <th scope="col" className="num">
              Failed
            </th>
            <th scope="col" className="num">
              <abbr title="Jobs finished in the last minute">Per min</abbr>
            </th>
            <th scope="col">State</th>
            {actions ? <th scope="col">Actions</th> : null}
          </tr>
        </thead>
        <tbody>
          {visible.length === 0 ? (
            <tr>
              <td colSpan={actions ? 8 : 7} className="muted">
                Every queue is idle.
              </td>
            </tr>
          ) : null}
          {visible.map((q) => (
            <tr key={q.name} data-testid={`queue-${q.name}`}>
              <th scope="row">
                <code>{q.name}</code>
              </th>
              <td className="num">{q.waiting}</td>
              <td className="num">{q.active}</td>
              <td className="num">{q.delayed}</td>
              <td className={`num${q.failed > 0 ? ' bad' : ''}`}>{q.failed}</td>
              <td className="num" title={q.throughputPerMinute === null ? 'not measured for this queue' : undefined}>
                {q.throughputPerMinute ?? '—'}
              </td>
              <td>{q.paused ? <StatusBadge status="PAUSED" /> : <span className="muted">running</span>}</td>
              {actions ? (
                <td className="actions">
                  {q.paused ? (
                    <button type="button" onClick={() => actions.resume(q.name)} disabled={busy === q.name} aria-label={`Resume queue ${q.name}`}>
                      Resume
                    </button>
                  ) : (
                    <button type="button" onClick={() => actions.pause(q.name)} disabled={busy === q.name} aria-label={`Pause queue ${q.name}`}>
                      Pause
                    </button>
                  )}
                  <button type="button" onClick={() => actions.cleanFailed(q.name)} disabled={busy === q.name || q.failed === 0} aria-label={`Clean failed jobs of queue ${q.name}`}>
                    Clean failed
                  </button>
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
