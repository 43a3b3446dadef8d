import { api, enc } from '../api/client.ts';
import { useApi } from '../api/hooks.ts';
import type { PipelineSummary, PipelineVersion } from '../api/types.ts';
import { ErrorBox, Json, Loading, StatusBadge } from '../components/common.tsx';
import { formatAgo, formatTime, shortId } from '../format.ts';
import { Link } from '../router.tsx';

/** Every submitted pipeline with its latest version and last run. */
export function PipelinesPage() {
  const list = useApi('pipelines', (signal) => api<{ items: PipelineSummary[]; nextCursor: string | null }>('/v1/pipelines?limit=500', { signal }));
  return (
    <div>
      <header className="page-header">
        <h1>Pipelines</h1>
        <Link to="/pipelines/new" className="button">
          Submit a run from YAML
        </Link>
      </header>
      {list.error ? (
        <ErrorBox error={list.error} feature="The pipeline list" />
      ) : !list.data ? (
        <Loading what="pipelines" />
      ) : list.data.items.length === 0 ? (
        <p className="muted">No pipeline has been submitted yet.</p>
      ) : (
        <div className="table-scroll card">
          <table aria-label="Pipelines">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" className="num">
                  Latest version
                </th>
                <th scope="col" className="num">
                  Versions
                </th>
                <th scope="col">Last run</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((p) => (
                <tr key={p.name}>
                  <th scope="row">
                    <Link to={`/pipelines/${enc(p.name)}`}>{p.name}</Link>
                  </th>
                  <td className="num">v{p.latestVersion}</td>
                  <td className="num">{p.versions}</td>
                  <td>
                    {p.lastRun ? (
                      <Link to={`/runs/${p.lastRun.id}`} aria-label={`Last run of ${p.name}: ${p.lastRun.status}`}>
                        <StatusBadge status={p.lastRun.status} /> {formatAgo(p.lastRun.createdAt)}
                      </Link>
                    ) : (
                      <span className="muted">none</span>
                    )}
                  </td>
                  <td title={formatTime(p.updatedAt)}>{formatAgo(p.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

/** One pipeline's versions, newest first, each with its spec and a way to run it again. */
export function PipelineVersionsPage({ name }: { name: string }) {
  const versions = useApi(`versions/${name}`, (signal) => api<{ name: string; items: PipelineVersion[] }>(`/v1/pipelines/${enc(name)}/versions`, { signal }));
  return (
    <div>
      <header className="page-header">
        <div>
          <p className="breadcrumbs">
            <Link to="/pipelines">Pipelines</Link> /
          </p>
          <h1>{name}</h1>
        </div>
        <Link to={`/runs?pipeline=${enc(name)}`} className="button secondary">
          Its runs
        </Link>
      </header>
      {versions.error ? (
        <ErrorBox error={versions.error} feature="Pipeline versions" />
      ) : !versions.data ? (
        <Loading what="versions" />
      ) : (
        <ol className="versions" aria-label={`Versions of ${name}`}>
          {versions.data.items.map((v) => (
            <li key={v.id} className="card">
              <header className="card-header">
                <h2>
                  Version {v.version} <span className="muted small">{formatTime(v.createdAt)}</span>
                </h2>
                <Link to={`/pipelines/new?from=${enc(name)}&version=${v.version}`} className="button" aria-label={`Edit version ${v.version} and submit a run`}>
                  Edit and run
                </Link>
              </header>
              <p className="muted small">
                digest <code title={v.specDigest}>{shortId(v.specDigest.replace(/^sha256:/, ''))}</code>
              </p>
              <details>
                <summary>Spec</summary>
                <Json value={v.spec} label={`Spec of version ${v.version}`} />
              </details>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
