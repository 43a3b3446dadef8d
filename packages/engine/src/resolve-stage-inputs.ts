import type { ArtifactRef } from '@pipewright/core';
import { artifacts, inArray, type Database, type stageRuns } from '@pipewright/db';

type StageRow = typeof stageRuns.$inferSelect;

export interface ResolvedInput {
  artifactId: string;
  ref: ArtifactRef;
}

export interface ResolvedInputs {
  single: Record<string, ResolvedInput>;
  /** List inputs: that output of every instance of a foreach stage, in item order. */
  lists: Record<string, ResolvedInput[]>;
}

/**
 * The artifacts bound to a stage's inputs: for each input, the producer's output artifact as
 * recorded on the producer's row (its own output, or an earlier run's on a cache hit); for a
 * list input, that output of each instance of the foreach producer.
 */
export async function resolveStageInputs(tx: Database, stage: StageRow, stagesByKey: Map<string, StageRow>): Promise<ResolvedInputs> {
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
  const ids = [...new Set([...single.values(), ...[...lists.values()].flat()])];
  const rows = ids.length ? await tx.select().from(artifacts).where(inArray(artifacts.id, ids)) : [];
  const byId = new Map(rows.map((r) => [r.id, r]));
  const resolve = (inputName: string, artifactId: string): ResolvedInput => {
    const row = byId.get(artifactId);
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
    lists: Object.fromEntries([...lists].map(([name, ids2]) => [name, ids2.map((id) => resolve(name, id))])),
  };
}

/** Input name -> digest, list inputs as `name[i]`: the inputs part of a cache key. */
export function inputDigests(inputs: ResolvedInputs): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, r] of Object.entries(inputs.single)) out[name] = r.ref.digest;
  for (const [name, list] of Object.entries(inputs.lists)) list.forEach((r, i) => (out[`${name}[${i}]`] = r.ref.digest));
  return out;
}
