import type { ArtifactRef } from '@pipewright/core';
import { artifacts, inArray, type Database, type stageRuns } from '@pipewright/db';

type StageRow = typeof stageRuns.$inferSelect;

export interface ResolvedInput {
  artifactId: string;
  ref: ArtifactRef;
}

/**
 * The artifacts bound to a stage's inputs: for each input, the producer's output artifact as
 * recorded on the producer's row (its own output, or an earlier run's on a cache hit).
 */
export async function resolveStageInputs(tx: Database, stage: StageRow, stagesByKey: Map<string, StageRow>): Promise<Record<string, ResolvedInput>> {
  const wanted = new Map<string, string>();
  for (const [inputName, binding] of Object.entries(stage.inputs)) {
    const artifactId = stagesByKey.get(binding.stage)?.outputArtifactIds?.[binding.output];
    if (!artifactId) {
      // Validation guarantees the binding and only satisfied producers let a stage run: a hole
      // here is a bug, and running with it would be worse than failing loudly.
      throw new Error(`stage ${stage.stageKey}: input ${inputName} has no artifact from ${binding.stage}.${binding.output}`);
    }
    wanted.set(inputName, artifactId);
  }
  if (wanted.size === 0) return {};
  const rows = await tx.select().from(artifacts).where(inArray(artifacts.id, [...new Set(wanted.values())]));
  const byId = new Map(rows.map((r) => [r.id, r]));
  const resolved: Record<string, ResolvedInput> = {};
  for (const [inputName, artifactId] of wanted) {
    const row = byId.get(artifactId);
    if (!row) throw new Error(`stage ${stage.stageKey}: artifact ${artifactId} of input ${inputName} is gone`);
    resolved[inputName] = {
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
  }
  return resolved;
}
