/**
 * Graph algorithms over stage dependencies. Everything here is iterative (no recursion, so a
 * 10,000-stage chain cannot overflow the stack) and linear in nodes plus edges, except
 * `topologicalOrder`, whose heap adds a log factor to keep ties in spec order.
 *
 * Edges point the way data flows: `[from, to]` means `to` needs `from`. Edges that name an
 * unknown node are ignored here; planning reports them as missing needs.
 */
import { isSatisfiedStageStatus, type StageStatus } from './statuses.ts';

/** `[from, to]`: `to` needs `from`, so `from` runs first. */
export type DagEdge = readonly [from: string, to: string];

/** A stage as far as the graph is concerned. */
export interface DagNode {
  id: string;
  needs: readonly string[];
}

/** The edges implied by `needs`: one `[need, id]` per entry. */
export function edgesFromNeeds(stages: readonly DagNode[]): DagEdge[] {
  const edges: DagEdge[] = [];
  for (const stage of stages) for (const need of stage.needs) edges.push([need, stage.id]);
  return edges;
}

/** Nodes as dense indices and adjacency lists, so the algorithms below work on int arrays. */
interface IndexedGraph {
  ids: readonly string[];
  indexOf: Map<string, number>;
  successors: number[][];
}

function indexGraph(nodes: readonly string[], edges: readonly DagEdge[]): IndexedGraph {
  const indexOf = new Map<string, number>();
  const ids: string[] = [];
  for (const id of nodes) {
    if (!indexOf.has(id)) {
      indexOf.set(id, ids.length);
      ids.push(id);
    }
  }
  const successors: number[][] = ids.map(() => []);
  for (const [from, to] of edges) {
    const f = indexOf.get(from);
    const t = indexOf.get(to);
    if (f !== undefined && t !== undefined) (successors[f] as number[]).push(t);
  }
  return { ids, indexOf, successors };
}

/**
 * Strongly connected components by Tarjan's algorithm, run with an explicit stack.
 * Returns each node's component number.
 */
function componentsOf(graph: IndexedGraph): Int32Array {
  const n = graph.ids.length;
  const order = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const component = new Int32Array(n).fill(-1);
  const edgeCursor = new Int32Array(n);
  const sccStack: number[] = [];
  const callStack: number[] = [];
  let counter = 0;
  let components = 0;

  for (let root = 0; root < n; root++) {
    if (order[root] !== -1) continue;
    order[root] = low[root] = counter++;
    sccStack.push(root);
    onStack[root] = 1;
    callStack.push(root);
    while (callStack.length > 0) {
      const v = callStack[callStack.length - 1] as number;
      const next = graph.successors[v] as number[];
      const cursor = edgeCursor[v] as number;
      if (cursor < next.length) {
        edgeCursor[v] = cursor + 1;
        const w = next[cursor] as number;
        if (order[w] === -1) {
          order[w] = low[w] = counter++;
          sccStack.push(w);
          onStack[w] = 1;
          callStack.push(w);
        } else if (onStack[w]) {
          low[v] = Math.min(low[v] as number, order[w] as number);
        }
        continue;
      }
      callStack.pop();
      const parent = callStack[callStack.length - 1];
      if (parent !== undefined) low[parent] = Math.min(low[parent] as number, low[v] as number);
      if (low[v] === order[v]) {
        for (;;) {
          const w = sccStack.pop() as number;
          onStack[w] = 0;
          component[w] = components;
          if (w === v) break;
        }
        components++;
      }
    }
  }
  return component;
}

/**
 * A cycle through `start` using only edges inside `start`'s component. Inside a strongly
 * connected component every depth-first search from any node meets a back edge, and the path
 * from that edge's target to the current node, closed by the edge, is a cycle.
 */
function cycleInComponent(graph: IndexedGraph, component: Int32Array, start: number): number[] {
  const comp = component[start];
  const state = new Map<number, 1 | 2>(); // 1 = on the current path, 2 = finished
  const positionOnPath = new Map<number, number>();
  const path: number[] = [start];
  const cursor: number[] = [0];
  state.set(start, 1);
  positionOnPath.set(start, 0);
  while (path.length > 0) {
    const top = path.length - 1;
    const v = path[top] as number;
    const next = graph.successors[v] as number[];
    const c = cursor[top] as number;
    if (c >= next.length) {
      state.set(v, 2);
      positionOnPath.delete(v);
      path.pop();
      cursor.pop();
      continue;
    }
    cursor[top] = c + 1;
    const w = next[c] as number;
    if (component[w] !== comp) continue;
    const seen = state.get(w);
    if (seen === 1) return path.slice(positionOnPath.get(w) as number);
    if (seen === undefined) {
      state.set(w, 1);
      positionOnPath.set(w, path.length);
      path.push(w);
      cursor.push(0);
    }
  }
  // Unreachable for a component that has a cycle; callers only ask for those.
  return [];
}

/**
 * One cycle per strongly connected component that has one, each as node ids in edge order
 * (`[a, b, c]` means a -> b -> c -> a) and starting from its earliest node in `nodes` order.
 * Cycles are sorted by that first node. Empty when the graph is acyclic.
 */
export function findCycles(nodes: readonly string[], edges: readonly DagEdge[]): string[][] {
  const graph = indexGraph(nodes, edges);
  const n = graph.ids.length;
  const component = componentsOf(graph);
  const size = new Int32Array(n);
  for (let v = 0; v < n; v++) size[component[v] as number]!++;
  const firstOfComponent = new Map<number, number>();
  for (let v = 0; v < n; v++) {
    const comp = component[v] as number;
    const cyclic = (size[comp] as number) > 1 || (graph.successors[v] as number[]).includes(v);
    if (cyclic && !firstOfComponent.has(comp)) firstOfComponent.set(comp, v);
  }
  const cycles: string[][] = [];
  for (const start of [...firstOfComponent.values()].sort((a, b) => a - b)) {
    const cycle = cycleInComponent(graph, component, start);
    // Rotate so the cycle begins at its earliest node: stable messages for the same spec.
    let best = 0;
    for (let i = 1; i < cycle.length; i++) if ((cycle[i] as number) < (cycle[best] as number)) best = i;
    const rotated = [...cycle.slice(best), ...cycle.slice(0, best)];
    cycles.push(rotated.map((v) => graph.ids[v] as string));
  }
  return cycles;
}

/** One cycle of the graph (see `findCycles`), or null when it is acyclic. */
export function findCycle(nodes: readonly string[], edges: readonly DagEdge[]): string[] | null {
  return findCycles(nodes, edges)[0] ?? null;
}

/** `cycle: a -> b -> c -> a` */
export function formatCycle(cycle: readonly string[]): string {
  return `cycle: ${[...cycle, cycle[0] ?? ''].join(' -> ')}`;
}

/**
 * Kahn's algorithm; among the nodes ready at any point, the one earliest in `nodes` goes
 * first, so a spec already written in dependency order comes back unchanged.
 * Returns null when the graph has a cycle.
 */
export function topologicalOrder(nodes: readonly string[], edges: readonly DagEdge[]): string[] | null {
  const graph = indexGraph(nodes, edges);
  const n = graph.ids.length;
  const inDegree = new Int32Array(n);
  for (const next of graph.successors) for (const w of next) inDegree[w]!++;
  const heap = new MinHeap();
  for (let v = 0; v < n; v++) if (inDegree[v] === 0) heap.push(v);
  const order: string[] = [];
  while (heap.size > 0) {
    const v = heap.pop();
    order.push(graph.ids[v] as string);
    for (const w of graph.successors[v] as number[]) {
      if (--inDegree[w]! === 0) heap.push(w);
    }
  }
  return order.length === n ? order : null;
}

/** A binary min-heap of small integers. */
class MinHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  push(value: number): void {
    const items = this.items;
    let i = items.length;
    items.push(value);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((items[parent] as number) <= value) break;
      items[i] = items[parent] as number;
      i = parent;
    }
    items[i] = value;
  }

  pop(): number {
    const items = this.items;
    const top = items[0] as number;
    const last = items.pop() as number;
    if (items.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= items.length) break;
        const r = l + 1;
        const child = r < items.length && (items[r] as number) < (items[l] as number) ? r : l;
        if ((items[child] as number) >= last) break;
        items[i] = items[child] as number;
        i = child;
      }
      items[i] = last;
    }
    return top;
  }
}

/**
 * The stages that may be enqueued now: PENDING, with every need SUCCEEDED or CACHED.
 * A need that names no listed stage is never satisfied. Ids come back in input order.
 * (`when` is not evaluated here; the orchestrator does that for the stages returned.)
 */
export function readyStages(stages: readonly { id: string; needs: readonly string[]; status: StageStatus }[]): string[] {
  const statusOf = new Map<string, StageStatus>();
  for (const stage of stages) statusOf.set(stage.id, stage.status);
  const ready: string[] = [];
  for (const stage of stages) {
    if (stage.status !== 'PENDING') continue;
    const satisfied = stage.needs.every((need) => {
      const status = statusOf.get(need);
      return status !== undefined && isSatisfiedStageStatus(status);
    });
    if (satisfied) ready.push(stage.id);
  }
  return ready;
}

/**
 * Every stage that depends on `id`, directly or transitively, in input order; `id` itself is
 * not included. Used to re-run a stage and everything downstream of it.
 */
export function descendants(id: string, stages: readonly DagNode[]): string[] {
  const dependents = new Map<string, string[]>();
  for (const stage of stages) {
    for (const need of stage.needs) {
      const list = dependents.get(need);
      if (list === undefined) dependents.set(need, [stage.id]);
      else list.push(stage.id);
    }
  }
  const seen = new Set<string>([id]);
  const pending = [id];
  for (let current = pending.pop(); current !== undefined; current = pending.pop()) {
    for (const next of dependents.get(current) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        pending.push(next);
      }
    }
  }
  return stages.filter((stage) => stage.id !== id && seen.has(stage.id)).map((stage) => stage.id);
}
