import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  descendants,
  edgesFromNeeds,
  findCycle,
  findCycles,
  formatCycle,
  readyStages,
  topologicalOrder,
  type DagEdge,
  type DagNode,
} from './dag.ts';
import { STAGE_STATUSES, isSatisfiedStageStatus, type StageStatus } from './statuses.ts';

/**
 * A random DAG in spec form: node `s<k>` may only need nodes created before it, so the graph is
 * acyclic; the spec order is then shuffled so it is not necessarily topological.
 */
const dagArbitrary = fc
  .integer({ min: 1, max: 30 })
  .chain((n) =>
    fc.tuple(
      fc.tuple(...Array.from({ length: n }, (_, k) => fc.subarray(Array.from({ length: k }, (_, j) => `s${j}`)))),
      fc.shuffledSubarray(Array.from({ length: n }, (_, k) => `s${k}`), { minLength: n, maxLength: n }),
    ),
  )
  .map(([needsByCreation, specOrder]) => {
    const needsOf = new Map(needsByCreation.map((needs, k) => [`s${k}`, needs]));
    return specOrder.map((id): DagNode => ({ id, needs: needsOf.get(id) ?? [] }));
  });

function ids(stages: readonly DagNode[]): string[] {
  return stages.map((stage) => stage.id);
}

/** Brute-force reachability: the nodes reachable from `from` by one or more edges. */
function reachable(from: string, edges: readonly DagEdge[]): Set<string> {
  const seen = new Set<string>();
  const pending = [from];
  while (pending.length > 0) {
    const current = pending.pop() as string;
    for (const [a, b] of edges) {
      if (a === current && !seen.has(b)) {
        seen.add(b);
        pending.push(b);
      }
    }
  }
  return seen;
}

function expectRealCycle(cycle: readonly string[], edges: readonly DagEdge[]): void {
  expect(cycle.length).toBeGreaterThan(0);
  expect(new Set(cycle).size).toBe(cycle.length);
  const edgeSet = new Set(edges.map(([a, b]) => `${a}->${b}`));
  cycle.forEach((from, i) => {
    const to = cycle[(i + 1) % cycle.length] as string;
    expect(edgeSet.has(`${from}->${to}`), `${from}->${to} in ${cycle.join(',')}`).toBe(true);
  });
}

describe('edgesFromNeeds', () => {
  it('makes one [need, id] edge per need', () => {
    expect(edgesFromNeeds([{ id: 'a', needs: [] }, { id: 'b', needs: ['a'] }, { id: 'c', needs: ['a', 'b'] }])).toEqual([
      ['a', 'b'],
      ['a', 'c'],
      ['b', 'c'],
    ]);
  });
});

describe('topologicalOrder', () => {
  it('keeps spec order among ready nodes', () => {
    const stages = [
      { id: 'a', needs: [] },
      { id: 'b', needs: ['a'] },
      { id: 'c', needs: [] },
      { id: 'd', needs: ['c'] },
    ];
    expect(topologicalOrder(ids(stages), edgesFromNeeds(stages))).toEqual(['a', 'b', 'c', 'd']);
    const reversed = [
      { id: 'd', needs: ['c'] },
      { id: 'c', needs: [] },
      { id: 'b', needs: ['a'] },
      { id: 'a', needs: [] },
    ];
    expect(topologicalOrder(ids(reversed), edgesFromNeeds(reversed))).toEqual(['c', 'd', 'a', 'b']);
  });

  it('returns null for a cycle and ignores edges to unknown nodes', () => {
    expect(topologicalOrder(['a', 'b'], [['a', 'b'], ['b', 'a']])).toBeNull();
    expect(topologicalOrder(['a'], [['a', 'a']])).toBeNull();
    expect(topologicalOrder(['a', 'b'], [['ghost', 'a'], ['a', 'b']])).toEqual(['a', 'b']);
    expect(topologicalOrder([], [])).toEqual([]);
  });

  it('handles a 10,000-node chain without recursion', () => {
    const nodes = Array.from({ length: 10_000 }, (_, k) => `n${k}`);
    const edges: DagEdge[] = nodes.slice(1).map((id, k) => [nodes[k] as string, id]);
    expect(topologicalOrder([...nodes].reverse(), edges)).toEqual(nodes);
  });

  it('puts every node after all it needs (property)', () => {
    fc.assert(
      fc.property(dagArbitrary, (stages) => {
        const order = topologicalOrder(ids(stages), edgesFromNeeds(stages));
        expect(order).not.toBeNull();
        expect([...(order ?? [])].sort()).toEqual(ids(stages).sort());
        const position = new Map((order ?? []).map((id, i) => [id, i]));
        for (const stage of stages) {
          for (const need of stage.needs) expect(position.get(need) as number).toBeLessThan(position.get(stage.id) as number);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('returns the spec order unchanged when it is already topological (property)', () => {
    fc.assert(
      fc.property(dagArbitrary, (stages) => {
        const order = topologicalOrder(ids(stages), edgesFromNeeds(stages)) as string[];
        const position = new Map(order.map((id, i) => [id, i]));
        const sorted = [...stages].sort((a, b) => (position.get(a.id) as number) - (position.get(b.id) as number));
        expect(topologicalOrder(ids(sorted), edgesFromNeeds(sorted))).toEqual(ids(sorted));
      }),
      { numRuns: 200 },
    );
  });
});

describe('findCycle / findCycles', () => {
  it('finds nothing in a DAG', () => {
    expect(findCycle(['a', 'b'], [['a', 'b']])).toBeNull();
    expect(findCycles([], [])).toEqual([]);
  });

  it('reports a cycle in edge order, starting at its earliest node', () => {
    const edges: DagEdge[] = [
      ['c', 'a'],
      ['a', 'b'],
      ['b', 'c'],
      ['x', 'a'],
    ];
    expect(findCycle(['x', 'b', 'a', 'c'], edges)).toEqual(['b', 'c', 'a']);
    expect(formatCycle(['a', 'b', 'c'])).toBe('cycle: a -> b -> c -> a');
  });

  it('reports a self-loop', () => {
    expect(findCycle(['a', 'b'], [['a', 'b'], ['b', 'b']])).toEqual(['b']);
    expect(formatCycle(['b'])).toBe('cycle: b -> b');
  });

  it('reports one cycle per strongly connected component', () => {
    const edges: DagEdge[] = [
      ['a', 'b'],
      ['b', 'a'],
      ['b', 'c'],
      ['c', 'd'],
      ['d', 'e'],
      ['e', 'c'],
      ['f', 'f'],
    ];
    const cycles = findCycles(['a', 'b', 'c', 'd', 'e', 'f', 'g'], edges);
    expect(cycles).toEqual([['a', 'b'], ['c', 'd', 'e'], ['f']]);
  });

  it('finds the cycle in a 10,000-node ring without recursion', () => {
    const nodes = Array.from({ length: 10_000 }, (_, k) => `n${k}`);
    const edges: DagEdge[] = nodes.map((id, k) => [id, nodes[(k + 1) % nodes.length] as string]);
    const cycle = findCycle(nodes, edges);
    expect(cycle).toEqual(nodes);
  });

  it('finds no cycle in random DAGs (property)', () => {
    fc.assert(
      fc.property(dagArbitrary, (stages) => {
        expect(findCycle(ids(stages), edgesFromNeeds(stages))).toBeNull();
      }),
      { numRuns: 300 },
    );
  });

  it('finds a real cycle once a back edge is added (property)', () => {
    const withBackEdge = dagArbitrary.chain((stages) =>
      fc.record({ stages: fc.constant(stages), from: fc.nat(stages.length - 1), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(withBackEdge, ({ stages, from, pick }) => {
        const edges = edgesFromNeeds(stages);
        const source = (stages[from] as DagNode).id;
        // A node reachable from `source` (or `source` itself): an edge back to `source` closes a cycle.
        const targets = [source, ...reachable(source, edges)];
        const target = targets[pick % targets.length] as string;
        const cyclic: DagEdge[] = [...edges, [target, source]];
        const cycle = findCycle(ids(stages), cyclic);
        expect(cycle).not.toBeNull();
        expectRealCycle(cycle ?? [], cyclic);
        expect(topologicalOrder(ids(stages), cyclic)).toBeNull();
      }),
      { numRuns: 300 },
    );
  });

  it('reports one real, disjoint cycle per cyclic component of random graphs (property)', () => {
    const graph = fc.integer({ min: 1, max: 12 }).chain((n) =>
      fc.record({
        nodes: fc.constant(Array.from({ length: n }, (_, k) => `v${k}`)),
        edges: fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: 3 * n }),
      }),
    );
    fc.assert(
      fc.property(graph, ({ nodes, edges: raw }) => {
        const edges: DagEdge[] = raw.map(([a, b]) => [nodes[a] as string, nodes[b] as string]);
        const cycles = findCycles(nodes, edges);
        for (const cycle of cycles) expectRealCycle(cycle, edges);
        const all = cycles.flat();
        expect(new Set(all).size).toBe(all.length);
        // Brute force: nodes on some cycle, grouped by mutual reachability.
        const reach = new Map(nodes.map((v) => [v, reachable(v, edges)]));
        const cyclicNodes = nodes.filter((v) => reach.get(v)?.has(v));
        const components = new Set(
          cyclicNodes.map((v) => cyclicNodes.filter((w) => reach.get(v)?.has(w) && reach.get(w)?.has(v)).sort().join(',')),
        );
        expect(cycles.length).toBe(components.size);
        expect(topologicalOrder(nodes, edges) === null).toBe(cycles.length > 0);
      }),
      { numRuns: 500 },
    );
  });
});

describe('readyStages', () => {
  it('returns PENDING stages whose needs are all SUCCEEDED or CACHED', () => {
    const stages: { id: string; needs: string[]; status: StageStatus }[] = [
      { id: 'a', needs: [], status: 'SUCCEEDED' },
      { id: 'b', needs: [], status: 'CACHED' },
      { id: 'c', needs: ['a', 'b'], status: 'PENDING' },
      { id: 'd', needs: ['a'], status: 'QUEUED' },
      { id: 'e', needs: ['d'], status: 'PENDING' },
      { id: 'f', needs: [], status: 'PENDING' },
      { id: 'g', needs: ['ghost'], status: 'PENDING' },
      { id: 'h', needs: ['x'], status: 'PENDING' },
      { id: 'x', needs: [], status: 'SKIPPED' },
    ];
    expect(readyStages(stages)).toEqual(['c', 'f']);
  });

  it('equals a brute-force check on random DAGs and statuses (property)', () => {
    const withStatuses = dagArbitrary.chain((stages) =>
      fc.tuple(fc.constant(stages), fc.array(fc.constantFrom(...STAGE_STATUSES), { minLength: stages.length, maxLength: stages.length })),
    );
    fc.assert(
      fc.property(withStatuses, ([stages, statuses]) => {
        const withStatus = stages.map((stage, i) => ({ ...stage, status: statuses[i] as StageStatus }));
        const expected = withStatus
          .filter(
            (stage) =>
              stage.status === 'PENDING' &&
              stage.needs.every((need) => {
                const other = withStatus.find((candidate) => candidate.id === need);
                return other !== undefined && isSatisfiedStageStatus(other.status);
              }),
          )
          .map((stage) => stage.id);
        expect(readyStages(withStatus)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});

describe('descendants', () => {
  it('lists everything downstream, in input order, without the stage itself', () => {
    const stages = [
      { id: 'a', needs: [] },
      { id: 'b', needs: ['a'] },
      { id: 'c', needs: ['b'] },
      { id: 'd', needs: [] },
      { id: 'e', needs: ['d', 'b'] },
    ];
    expect(descendants('b', stages)).toEqual(['c', 'e']);
    expect(descendants('a', stages)).toEqual(['b', 'c', 'e']);
    expect(descendants('c', stages)).toEqual([]);
    expect(descendants('ghost', stages)).toEqual([]);
  });

  it('terminates on a cycle', () => {
    expect(descendants('a', [{ id: 'a', needs: ['b'] }, { id: 'b', needs: ['a'] }])).toEqual(['b']);
  });

  it('equals brute-force reachability on random DAGs (property)', () => {
    const withPick = dagArbitrary.chain((stages) => fc.tuple(fc.constant(stages), fc.nat(stages.length - 1)));
    fc.assert(
      fc.property(withPick, ([stages, pick]) => {
        const id = (stages[pick] as DagNode).id;
        const expected = reachable(id, edgesFromNeeds(stages));
        expect(descendants(id, stages)).toEqual(ids(stages).filter((other) => expected.has(other)));
      }),
      { numRuns: 300 },
    );
  });
});
