import type { ArtifactRef } from '@pipewright/core';
import { artifacts, sql, type Database, type StageRow, type ArtifactRow } from '@pipewright/db';


export interface ResolvedInput {
  artifactId: string;
  ref: ArtifactRef;
}

export interface ResolvedInputs {
  single: Record<string, ResolvedInput>;
  /** List inputs: that output of every instance of a foreach stage, in item order. */
  lists: Record<string, ResolvedInput[]>;
}


/** Artifact rows by id, shared by the decisions of one locked step (rows it wrote itself included). */
export type KnownArtifacts = Map<string, ArtifactRow>;

/** Input name -> artifact id(s): which producer outputs a stage consumes (no I/O). */
interface BoundInputs {
  single: Map<string, string>;
  lists: Map<string, string[]>;
}

/**
 * For each input, the producer's output artifact as recorded on the producer's row (its own
 * output, or an earlier run's on a cache hit); for a list input, that output of each instance of
 * the foreach producer.
 */
function bindInputs(stage: StageRow, stagesByKey: Map<string, StageRow>): BoundInputs {
  const single = new Map<string, string>();
  const lists = new Map<string, string[]>();
  const missing = (inputName: string, from: string) =>
    // Validation guarantees the binding and only satisfied producers let a stage run: a hole
    // here is a bug, and running with it would be worse than failing loudly.
    new Error(`stage ${stage.stageKey}: input ${inputName} has no artifact from ${from}`);
  for (const [inputName, binding] of Object.entries(stage.inputs)) {
    if (binding.list) {
      const instances = [...stagesByKey.values()]
        .filter((s) => s.parentKey === binding.stage)
        .sort((a, b) => (a.itemIndex ?? 0) - (b.itemIndex ?? 0));
      lists.set(
        inputName,
        instances.map((s) => {
          const id = s.outputArtifactIds?.[binding.output];
          if (!id) throw missing(inputName, `${s.stageKey}.${binding.output}`);
          return id;
        }),
      );
      continue;
    }
    const artifactId = stagesByKey.get(binding.stage)?.outputArtifactIds?.[binding.output];
    if (!artifactId) throw missing(inputName, `${binding.stage}.${binding.output}`);
    single.set(inputName, artifactId);
  }
  return { single, lists };
}

/**
 * The artifacts bound to the inputs of each of `stages`, reading only the artifact rows `known`
 * lacks — in one query for all of them — and adding what it read to `known`.
 */
export async function resolveInputsOfStages(
  tx: Database,
  stages: StageRow[],
  stagesByKey: Map<string, StageRow>,
  known: KnownArtifacts = new Map(),
): Promise<ResolvedInputs[]> {
  const bound = stages.map((stage) => bindInputs(stage, stagesByKey));
  const wanted = new Set<string>();
  for (const b of bound) for (const id of [...b.single.values(), ...[...b.lists.values()].flat()]) if (!known.has(id)) wanted.add(id);
  if (wanted.size) for (const row of await tx.select().from(artifacts).where(sql`${artifacts.id} = any(${sql.param([...wanted])}::uuid[])`)) known.set(row.id, row);
  return stages.map((stage, i) => {
    const { single, lists } = bound[i] as BoundInputs;
    const resolve = (inputName: string, artifactId: string): ResolvedInput => {
      const row = known.get(artifactId);
      if (!row) throw new Error(`stage ${stage.stageKey}: artifact ${artifactId} of input ${inputName} is gone`);
      return {
        artifactId,
        ref: {
          digest: row.digest,
          uri: row.uri,
          type: row.type,
          mediaType: row.mediaType,
          sizeBytes: row.sizeBytes,
          ...(row.metadata ? { metadata: row.metadata } : {}),
        },
      };
    };
    return {
      single: Object.fromEntries([...single].map(([name, id]) => [name, resolve(name, id)])),
      lists: Object.fromEntries([...lists].map(([name, ids]) => [name, ids.map((id) => resolve(name, id))])),
    };
  });
}

/** The artifacts bound to one stage's inputs (see {@link resolveInputsOfStages}). */
export async function resolveStageInputs(tx: Database, stage: StageRow, stagesByKey: Map<string, StageRow>): Promise<ResolvedInputs> {
  const [inputs] = await resolveInputsOfStages(tx, [stage], stagesByKey);
  return inputs as ResolvedInputs;
}

/** Input name -> digest, list inputs as `name[i]`: the inputs part of a cache key. */
export function inputDigests(inputs: ResolvedInputs): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, r] of Object.entries(inputs.single)) out[name] = r.ref.digest;
  for (const [name, list] of Object.entries(inputs.lists)) list.forEach((r, i) => (out[`${name}[${i}]`] = r.ref.digest));
  return out;
}
