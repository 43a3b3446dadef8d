import { useState } from 'react';
import { api, enc } from '../api/client.ts';
import { useApi, useEventStream, useThrottled } from '../api/hooks.ts';
import type { QueueInfo, WorkerInfo } from '../api/types.ts';
import { useAnnounce } from '../announce.tsx';
import { ErrorBox, Loading, Section } from '../components/common.tsx';
import { QueueTable } from '../components/queue-table.tsx';
import { WorkerTable } from '../components/worker-table.tsx';

/** Workers with their heartbeats, and every queue with pause, resume and clean-failed. */
export function QueuesPage() {
  const queues = useApi('queues', (signal) => api<{ items: QueueInfo[] }>('/v1/queues', { signal }));
  const workers = useApi('workers', (signal) => api<{ items: WorkerInfo[] }>('/v1/workers', { signal }));
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>();
  const [confirmClean, setConfirmClean] = useState<string | null>(null);
  const announce = useAnnounce();
  const refresh = useThrottled(() => {
    queues.reload();
    workers.reload();
  }, 2000);
  useEventStream('/v1/events', { run: refresh, resync: refresh });

  const act = async (name: string, action: 'pause' | 'resume' | 'clean-failed') => {
    setBusy(name);
    setError(undefined);
    try {
      const result = await api<{ name: string; paused: boolean; removed?: number }>(`/v1/queues/${enc(name)}/${action}`, { method: 'POST', body: {} });
      announce(action === 'clean-failed' ? `Queue ${name}: ${result.removed ?? 0} failed jobs removed` : `Queue ${name} ${result.paused ? 'paused' : 'resumed'}`);
      queues.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
      setConfirmClean(null);
    }
  };

  return (
    <div>
      <header className="page-header">
        <h1>Workers and queues</h1>
        <button
          type="button"
          onClick={() => {
            queues.reload();
            workers.reload();
          }}
        >
          Refresh
        </button>
      </header>
      {error ? <ErrorBox error={error} feature="Queue actions" /> : null}
      {confirmClean ? (
        <div className="confirm card" role="alertdialog" aria-labelledby="confirm-clean-title">
          <p id="confirm-clean-title">
            Remove every failed job of <code>{confirmClean}</code> from Redis? Postgres keeps each attempt and its error.
          </p>
          <div className="button-row">
            <button type="button" className="danger" onClick={() => void act(confirmClean, 'clean-failed')} autoFocus>
              Remove failed jobs
            </button>
            <button type="button" className="secondary" onClick={() => setConfirmClean(null)}>
              Keep them
            </button>
          </div>
        </div>
      ) : null}
      <Section title="Queues" id="queue-list">
        {queues.error ? (
          <ErrorBox error={queues.error} feature="Queues" />
        ) : queues.data ? (
          <QueueTable
            queues={queues.data.items}
            busy={busy}
            actions={{ pause: (n) => void act(n, 'pause'), resume: (n) => void act(n, 'resume'), cleanFailed: (n) => setConfirmClean(n) }}
          />
        ) : (
          <Loading what="queues" />
        )}
        <p className="muted small">Per min: stage attempts that ended in the last minute. A paused queue keeps its jobs; workers take none until it is resumed.</p>
      </Section>
      <Section title="Workers" id="worker-list">
        {workers.error ? <ErrorBox error={workers.error} feature="Workers" /> : workers.data ? <WorkerTable workers={workers.data.items} /> : <Loading what="workers" />}
      </Section>
    </div>
  );
}
