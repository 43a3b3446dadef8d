import { Background, Controls, Handle, Position, ReactFlow, type Edge, type Node, type NodeProps } from '@xyflow/react';
import { useMemo } from 'react';
import { useMediaQuery } from '../api/hooks.ts';
import type { Stage } from '../api/types.ts';
import { formatDuration } from '../format.ts';
import { FitOnResize } from './fit-on-resize.tsx';
import { layoutGraph } from './layout-graph.ts';

const SIZE = { width: 176, height: 64 };

type StageNodeData = { stage: Stage; selected: boolean; vertical: boolean; onOpen: (stage: string) => void };
type StageNode = Node<StageNodeData, 'stage'>;

/** A stage as a button: Enter or a click opens its drawer, so the graph works by keyboard. */
function StageNodeView({ data }: NodeProps<StageNode>) {
  const { stage, selected, vertical, onOpen } = data;
  const detail =
    stage.status === 'RUNNING' || stage.status === 'RETRY_WAIT'
      ? `attempt ${stage.attemptCount}`
      : stage.durationMs !== null
        ? formatDuration(stage.durationMs)
        : stage.attemptCount > 1
          ? `${stage.attemptCount} attempts`
          : '';
  return (
    <>
      <Handle type="target" position={vertical ? Position.Top : Position.Left} isConnectable={false} />
      <button
        type="button"
        className={`dag-node status-${stage.status.toLowerCase()}${selected ? ' selected' : ''}`}
        data-testid={`dag-node-${stage.stage}`}
        data-status={stage.status}
        aria-label={`Stage ${stage.stage} (${stage.uses}): ${stage.status}. Open details`}
        aria-pressed={selected}
        onClick={() => onOpen(stage.stage)}
      >
        <span className="dag-node-title">{stage.stage}</span>
        <span className="dag-node-meta">
          <span className="dag-node-status">{stage.status.replace('_', ' ')}</span>
          {detail ? <span>{detail}</span> : null}
        </span>
        <span className="dag-node-uses">{stage.uses}</span>
      </button>
      <Handle type="source" position={vertical ? Position.Bottom : Position.Right} isConnectable={false} />
    </>
  );
}

const nodeTypes = { stage: StageNodeView };

/**
 * The run's DAG: nodes laid out by dagre from `needs`, coloured by status. The layout depends
 * only on the graph's shape, so a status update (from the SSE stream) re-colours nodes in place.
 */
export function RunDag({ stages, selected, onOpen }: { stages: Stage[]; selected: string | null; onOpen: (stage: string) => void }) {
  // A narrow window lays the graph out top to bottom, at a readable size, and scrolls the page.
  const narrow = useMediaQuery('(max-width: 700px)');
  const direction = narrow ? 'TB' : 'LR';
  const shape = `${direction}:${stages.map((s) => `${s.stage}<${s.needs.join(',')}`).join(';')}`;
  // Layout only when the shape changes: a status update re-colours nodes where they are.
  const positioned = useMemo(() => {
    const edges: Edge[] = stages.flatMap((s) => s.needs.map((need) => ({ id: `${need}->${s.stage}`, source: need, target: s.stage })));
    const nodes = stages.map((s) => ({ id: s.stage, type: 'stage' as const, position: { x: 0, y: 0 }, data: {} }));
    const laid = layoutGraph(nodes, edges, SIZE, direction);
    const height = Math.max(...laid.map((n) => n.position.y + SIZE.height), SIZE.height);
    return { positions: new Map(laid.map((n) => [n.id, n.position])), edges, height };
  }, [shape]);

  const nodes: StageNode[] = stages.map((s) => ({
    id: s.stage,
    type: 'stage',
    position: positioned.positions.get(s.stage) ?? { x: 0, y: 0 },
    data: { stage: s, selected: selected === s.stage, vertical: narrow, onOpen },
    draggable: false,
    connectable: false,
    // The button inside takes the focus; the wrapper itself is not a tab stop.
    focusable: false,
    width: SIZE.width,
    height: SIZE.height,
  }));
  const status = new Map(stages.map((s) => [s.stage, s.status]));
  const edges = positioned.edges.map((e) => ({
    ...e,
    animated: status.get(e.target) === 'RUNNING' || status.get(e.target) === 'QUEUED',
    className: `dag-edge status-${(status.get(e.source) ?? 'PENDING').toLowerCase()}`,
  }));

  return (
    <div
      className="dag"
      role="group"
      aria-label="Pipeline graph: each stage is a button that opens its details"
      style={narrow ? { height: Math.min(positioned.height + 60, 1400) } : undefined}
    >
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        fitView
        fitViewOptions={{ padding: 0.15, maxZoom: 1.2 }}
        minZoom={0.2}
        nodesDraggable={false}
        nodesConnectable={false}
        edgesFocusable={false}
        elementsSelectable={false}
        proOptions={{ hideAttribution: true }}
      >
        <Background gap={16} size={1} />
        <Controls showInteractive={false} />
        <FitOnResize nodesKey={shape} options={{ padding: 0.15, maxZoom: 1.2 }} />
      </ReactFlow>
    </div>
  );
}
