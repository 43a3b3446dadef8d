import { Background, Controls, Handle, Position, ReactFlow, type Edge, type Node, type NodeProps } from '@xyflow/react';
import { useMemo, useState, type FormEvent } from 'react';
import { api } from '../api/client.ts';
import { useApi } from '../api/hooks.ts';
import type { ArtifactLineage, LineageNode } from '../api/types.ts';
import { ErrorBox, Loading, StatusBadge } from '../components/common.tsx';
import { FitOnResize } from '../components/fit-on-resize.tsx';
import { layoutGraph } from '../components/layout-graph.ts';
import { formatBytes, shortId, UUID } from '../format.ts';
import { Link, navigate } from '../router.tsx';

const SIZE = { width: 190, height: 66 };

type LNode = Node<{ node: LineageNode; root: boolean }, 'lineage'>;

function LineageNodeView({ data }: NodeProps<LNode>) {
  const { node, root } = data;
  return (
    <>
      <Handle type="target" position={Position.Left} isConnectable={false} />
      {node.kind === 'artifact' ? (
        <div className={`lineage-node artifact${root ? ' root' : ''}`} data-testid={`lineage-artifact-${node.id}`}>
          <span className="dag-node-title">
            {node.outputName} <span className="muted">{node.type}</span>
          </span>
          <span className="small">
            {node.digest?.slice(7, 15)} · {formatBytes(node.sizeBytes)}
          </span>
          {root ? (
            <span className="small">this artifact</span>
          ) : (
            <Link to={`/lineage/${node.id}`} className="small" aria-label={`Lineage of ${node.outputName} ${shortId(node.id)}`}>
              center here
            </Link>
          )}
        </div>
      ) : (
        <div className={`lineage-node stage status-${(node.status ?? '').toLowerCase()}`}>
          <span className="dag-node-title">
            {node.stage} <span className="muted">#{node.attempt}</span>
          </span>
          <span className="small">{node.uses}</span>
          <Link to={`/runs/${node.runId}?stage=${encodeURIComponent(node.stage ?? '')}`} className="small" aria-label={`Stage ${node.stage} of run ${shortId(node.runId)}`}>
            {node.pipeline} {shortId(node.runId)}
          </Link>
        </div>
      )}
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </>
  );
}

const nodeTypes = { lineage: LineageNodeView };

/** What produced an artifact (or model) and what used it, across runs. */
export function LineagePage({ artifactId }: { artifactId: string | null }) {
  const [depth, setDepth] = useState(5);
  const [input, setInput] = useState(artifactId ?? '');
  const [inputError, setInputError] = useState('');
  const key = artifactId ? `${artifactId}?depth=${depth}` : null;
  const lineage = useApi(key, (signal) => api<ArtifactLineage>(`/v1/artifacts/${artifactId}/lineage?depth=${depth}`, { signal }));

  const graph = useMemo(() => {
    if (!lineage.data) return null;
    const edges: Edge[] = lineage.data.edges.map((e) => ({ id: `${e.from}>${e.to}>${e.name}`, source: e.from, target: e.to, label: e.name, className: `lineage-edge ${e.kind}` }));
    const nodes: LNode[] = lineage.data.nodes.map((n) => ({
      id: n.id,
      type: 'lineage',
      position: { x: 0, y: 0 },
      data: { node: n, root: n.id === lineage.data?.root },
      draggable: false,
      connectable: false,
      focusable: false,
      width: SIZE.width,
      height: SIZE.height,
    }));
    // Centre on the artifact and its neighbours at a readable zoom; pan or zoom out for the rest.
    const near = lineage.data.nodes.filter((n) => Math.abs(n.level) <= 1).map((n) => ({ id: n.id }));
    const fit = { nodes: near, padding: 0.1, minZoom: 0.5, maxZoom: 1 };
    return { nodes: layoutGraph(nodes, edges, SIZE), edges, fit };
  }, [lineage.data]);

  const onOpen = (event: FormEvent) => {
    event.preventDefault();
    const id = input.trim();
    if (!UUID.test(id)) {
      setInputError('An artifact id is a UUID (see the outputs of a stage).');
      return;
    }
    setInputError('');
    navigate(`/lineage/${id}`);
  };

  const root = lineage.data?.nodes.find((n) => n.id === lineage.data?.root);
  const byId = new Map(lineage.data?.nodes.map((n) => [n.id, n]));
  const label = (n: LineageNode | undefined) => (!n ? '?' : n.kind === 'artifact' ? `artifact ${n.outputName} (${shortId(n.id)})` : `stage ${n.stage} #${n.attempt} of run ${shortId(n.runId)}`);

  return (
    <div>
      <header className="page-header">
        <div>
          <h1>Lineage</h1>
          {root ? (
            <p className="muted">
              {root.outputName} ({root.type}) of run <Link to={`/runs/${root.runId}`}>{shortId(root.runId)}</Link>
              {root.links?.['content'] ? (
                <>
                  {' '}
                  · <a href={root.links['content']} download>Download</a>
                </>
              ) : null}
            </p>
          ) : null}
        </div>
        <form className="inline-form" onSubmit={onOpen}>
          <label htmlFor="artifact-id">Artifact id</label>
          <input id="artifact-id" value={input} onChange={(e) => setInput(e.target.value)} spellCheck={false} autoComplete="off" />
          <label htmlFor="lineage-depth">Depth</label>
          <select id="lineage-depth" value={depth} onChange={(e) => setDepth(Number(e.target.value))}>
            {[1, 2, 3, 5, 8, 12, 20].map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
          <button type="submit">Show</button>
          {inputError ? (
            <span className="field-error" role="alert">
              {inputError}
            </span>
          ) : null}
        </form>
      </header>
      {!artifactId ? (
        <p className="muted">Open an artifact from a stage's inputs or outputs (its Lineage link), or paste its id above.</p>
      ) : lineage.error ? (
        <ErrorBox error={lineage.error} feature="Artifact lineage" />
      ) : !graph || !lineage.data ? (
        <Loading what="the lineage" />
      ) : (
        <>
          {lineage.data.truncated ? <p className="warning">The graph was cut at the node limit: lower the depth or center on another artifact.</p> : null}
          <div className="dag lineage" role="group" aria-label="Lineage graph: producers on the left, consumers on the right">
            <ReactFlow nodes={graph.nodes} edges={graph.edges} nodeTypes={nodeTypes} fitView fitViewOptions={graph.fit} minZoom={0.1} nodesDraggable={false} nodesConnectable={false} edgesFocusable={false} elementsSelectable={false} proOptions={{ hideAttribution: true }}>
              <Background gap={16} size={1} />
              <Controls showInteractive={false} />
              <FitOnResize nodesKey={`${lineage.data.root}/${graph.nodes.length}`} options={graph.fit} />
            </ReactFlow>
          </div>
          <details className="card">
            <summary>As a list ({lineage.data.edges.length} links)</summary>
            <ul className="plain">
              {lineage.data.edges.map((e) => (
                <li key={`${e.from}>${e.to}>${e.name}`}>
                  {label(byId.get(e.from))} <strong>{e.kind === 'produced' ? 'produced' : 'was consumed by'}</strong> ({e.name}) {label(byId.get(e.to))}
                  {byId.get(e.to)?.status ? <StatusBadge status={byId.get(e.to)?.status ?? ''} /> : null}
                </li>
              ))}
            </ul>
          </details>
        </>
      )}
    </div>
  );
}
