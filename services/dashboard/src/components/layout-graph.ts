import dagre from '@dagrejs/dagre';
import type { Edge, Node } from '@xyflow/react';

/**
 * Lays a graph out left to right with dagre (the layered layout DAG tools use) and returns the
 * nodes with their positions. Every node has the same size, which keeps the graph readable.
 */
export function layoutGraph<N extends Node>(nodes: N[], edges: Edge[], size: { width: number; height: number }, direction: 'LR' | 'TB' = 'LR'): N[] {
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: direction, nodesep: 24, ranksep: 56, marginx: 8, marginy: 8 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const node of nodes) graph.setNode(node.id, { width: size.width, height: size.height });
  for (const edge of edges) if (graph.hasNode(edge.source) && graph.hasNode(edge.target)) graph.setEdge(edge.source, edge.target);
  dagre.layout(graph);
  return nodes.map((node) => {
    const placed = graph.node(node.id);
    return { ...node, position: { x: (placed?.x ?? 0) - size.width / 2, y: (placed?.y ?? 0) - size.height / 2 } };
  });
}
