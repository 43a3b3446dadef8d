/** Pipeline specs (JSON objects) the benchmarks submit or plan. */

type Stage = { id: string; uses: string; needs?: string[]; inputs?: Record<string, string>; with?: Record<string, unknown>; foreach?: string };
export interface Spec {
  apiVersion: 'pipewright/v1';
  name: string;
  /** Off in every benchmark pipeline: identical no-op stages would be cache hits, not work. */
  cache?: boolean;
  stages: Stage[];
}

const pad = (i: number, width: number) => String(i).padStart(width, '0');

/** s000 -> s001 -> … : `length` util.noop@1 stages ordered by needs only. */
export function chainSpec(length: number, name = 'bench-chain'): Spec {
  const stages: Stage[] = [];
  for (let i = 0; i < length; i += 1) {
    stages.push({ id: `s${pad(i, 3)}`, uses: 'util.noop@1', ...(i > 0 ? { needs: [`s${pad(i - 1, 3)}`] } : {}) });
  }
  return { apiVersion: 'pipewright/v1', name, cache: false, stages };
}

/** root -> `width` parallel no-op stages -> join. */
export function fanSpec(width: number, name = 'bench-fan'): Spec {
  const middle = Array.from({ length: width }, (_, i) => `f${pad(i, 4)}`);
  return {
    apiVersion: 'pipewright/v1',
    name,
    cache: false,
    stages: [
      { id: 'root', uses: 'util.noop@1' },
      ...middle.map((id) => ({ id, uses: 'util.noop@1', needs: ['root'] })),
      { id: 'join', uses: 'util.noop@1', needs: middle },
    ],
  };
}

/** The same shape fanned out at run time: a list of `width` items -> a foreach of no-ops -> join. */
export function foreachSpec(width: number, name = 'bench-foreach'): Spec {
  return {
    apiVersion: 'pipewright/v1',
    name,
    cache: false,
    stages: [
      { id: 'root', uses: 'util.fanout@1', with: { count: width } },
      { id: 'each', uses: 'util.noop@1', needs: ['root'], foreach: 'root.items' },
      { id: 'join', uses: 'util.noop@1', needs: ['each'] },
    ],
  };
}

/** The 10-stage pipeline of the submission and throughput benchmarks: root -> 8 parallel -> join. */
export function tenStageSpec(name = 'bench-ten'): Spec {
  return fanSpec(8, name);
}

/**
 * A 10,000-stage DAG with real data edges: `layers` layers of `width` stages; layer 0 is
 * util.noop@1, every later stage is util.merge@1 whose inputs a and b bind to two stages of the
 * layer before (j and j+1 mod width), which it also needs.
 */
export function bigDagSpec(layers = 100, width = 100, name = 'bench-big-dag'): Spec {
  const id = (l: number, j: number) => `l${pad(l, 3)}_${pad(j, 3)}`;
  const stages: Stage[] = [];
  for (let l = 0; l < layers; l += 1) {
    for (let j = 0; j < width; j += 1) {
      if (l === 0) {
        stages.push({ id: id(l, j), uses: 'util.noop@1', with: { label: `seed-${j}` } });
        continue;
      }
      const a = id(l - 1, j);
      const b = id(l - 1, (j + 1) % width);
      stages.push({ id: id(l, j), uses: 'util.merge@1', needs: [a, b], inputs: { a: `${a}.out`, b: `${b}.out` } });
    }
  }
  return { apiVersion: 'pipewright/v1', name, cache: false, stages };
}
