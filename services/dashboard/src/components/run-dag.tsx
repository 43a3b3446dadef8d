import { Background, Controls, Handle, Position, ReactFlow, type Edge, type Node, type NodeProps } from '@xyflow/react';
import { useMemo } from 'react';
import { useMediaQuery } from '../api/hooks.ts';
import type { Stage } from '../api/types.ts';
import { formatDuration } from '../format.ts';
import { FitOnResize } from './fit-on-resize.tsx';
import { layoutGraph } from './layout-graph.ts';

const SIZE = { width: 176, height: 64 };

type StageNodeData = { stage: Stage; selected: boolean; vertical: boolean; instances: Stage[]; onOpen: (stage: string) => void };

/** "3 of 8 done, 1 failed" for a foreach group's instances. */
function instanceSummary(instances: Stage[]): string {
  const done = instances.filter((i) => i.status === 'SUCCEEDED' || i.status === 'CACHED').length;
  const failed = instances.filter((i) => i.status === 'FAILED').length;
  return `${done}/${instances.length} done${failed ? `, ${failed} failed` : ''}`;
}
type StageNode = Node<StageNodeData, 'stage'>;

/** A stage as a button: Enter or a click opens its drawer, so the graph works by keyboard. */
function StageNodeView({ data }: NodeProps<StageNode>) {
  const { stage, selected, vertical, instances, onOpen } = data;
  const detail = stage.foreach
    ? instances.length
      ? instanceSummary(instances)
      : 'foreach'
    : stage.status === 'RUNNING' || stage.status === 'RETRY_WAIT'
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
        aria-label={`Stage ${stage.stage} (${stage.uses}): ${stage.status}${stage.foreach ? `, foreach over ${stage.foreach.stage}.${stage.foreach.output}: ${instanceSummary(instances)}` : ''}. Open details`}
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
export function RunDag({ stages: all, selected, onOpen }: { stages: Stage[]; selected: string | null; onOpen: (stage: string) => void }) {
  // The instances of a foreach group are summed up on the group's node (there may be hundreds);
  // the stages table and the group's drawer list them.
  const stages = all.filter((s) => !s.parent);
  const visible = new Set(stages.map((s) => s.stage));
  const instancesOf = (group: string) => all.filter((s) => s.parent === group);
  // A narrow window lays the graph out top to bottom, at a readable size, and scrolls the page.
  const narrow = useMediaQuery('(max-width: 700px)');
  const direction = narrow ? 'TB' : 'LR';
  const shape = `${direction}:${stages.map((s) => `${s.stage}<${s.needs.join(',')}`).join(';')}`;
  // Layout only when the shape changes: a status update re-colours nodes where they are.
  const positioned = useMemo(() => {
    const edges: Edge[] = stages.flatMap((s) => s.needs.filter((need) => visible.has(need)).map((need) => ({ id: `${need}->${s.stage}`, source: need, target: s.stage })));
    const nodes = stages.map((s) => ({ id: s.stage, type: 'stage' as const, position: { x: 0, y: 0 }, data: {} }));
    const laid = layoutGraph(nodes, edges, SIZE, direction);
    const height = Math.max(...laid.map((n) => n.position.y + SIZE.height), SIZE.height);
    return { positions: new Map(laid.map((n) => [n.id, n.position])), edges, height };
  }, [shape]);

  const nodes: StageNode[] = stages.map((s) => ({
    id: s.stage,
    type: 'stage',
    position: positioned.positions.get(s.stage) ?? { x: 0, y: 0 },
    data: { stage: s, selected: selected === s.stage || instancesOf(s.stage).some((i) => i.stage === selected), vertical: narrow, instances: instancesOf(s.stage), onOpen },
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
