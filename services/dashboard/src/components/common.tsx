import type { ReactNode } from 'react';
import { ApiError } from '../api/client.ts';
import { isNotAvailable } from '../api/hooks.ts';

/** A status as a coloured label; the colour is never the only cue (the word is always there). */
export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge status-${status.toLowerCase()}`} data-status={status}>
      {status.replace('_', ' ')}
    </span>
  );
}

export function NotAvailable({ feature }: { feature: string }) {
  return (
    <p className="not-available" role="note">
      {feature}: not available yet (this API does not serve it).
    </p>
  );
}

/** An error from the API, or "not available yet" for a route the API does not have. */
export function ErrorBox({ error, feature }: { error: unknown; feature?: string }) {
  if (!error) return null;
  if (isNotAvailable(error)) return <NotAvailable feature={feature ?? error.route} />;
  const code = error instanceof ApiError ? error.code : undefined;
  return (
    <div className="error-box" role="alert">
      {code ? <code>{code}</code> : null} {error instanceof Error ? error.message : String(error)}
    </div>
  );
}

export function Section({ title, id, actions, children }: { title: string; id?: string; actions?: ReactNode; children: ReactNode }) {
  const headingId = id ? `${id}-title` : undefined;
  return (
    <section className="card" aria-labelledby={headingId} id={id}>
      <header className="card-header">
        <h2 id={headingId}>{title}</h2>
        {actions ? <div className="card-actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
}

export function Json({ value, label }: { value: unknown; label: string }) {
  return (
    <pre className="json" aria-label={label} tabIndex={0}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}
