import { artifacts, attempts, eq, inArray, lineageEdges, runs, stageRuns, type Database, type ArtifactRow } from '@pipewright/db';

export interface LineageOptions {
  /** Stage hops followed upstream and downstream from the artifact. */
  depth: number;
  /** Stop adding nodes past this many (the answer says `truncated`). */
  maxNodes: number;
}


export interface LineageArtifactNode {
  kind: 'artifact';
  id: string;
  runId: string;
  type: string;
  outputName: string;
  digest: string;
  sizeBytes: number;
  mediaType: string;
  createdAt: string;
  /** Hops from the root: negative upstream, positive downstream, 0 for the root. */
  level: number;
  links: Record<string, string>;
}

export interface LineageStageNode {
  kind: 'stage';
  /** The attempt id: one node per attempt (a retry that consumed the same inputs is another). */
  id: string;
  runId: string;
  pipeline: string;
  stage: string;
  uses: string;
  attempt: number;
  status: string;
  level: number;
}

export interface LineageEdge {
  from: string;
  to: string;
  /** `produced`: stage attempt -> artifact; `consumed`: artifact -> stage attempt. */
  kind: 'produced' | 'consumed';
  /** The output name (produced) or input name (consumed). */
  name: string;
}

/**
 * What produced an artifact and what used it, transitively and across runs (a cached stage's
 * consumers read the earlier run's artifact), as a graph: artifact nodes, stage-attempt nodes,
 * produced/consumed edges. Breadth-first, one batch of index lookups per hop and direction:
 * upstream through artifacts.produced_by_attempt_id and lineage_edges(consumer_attempt_id),
 * downstream through lineage_edges(artifact_id) and artifacts(produced_by_attempt_id).
 * Null when there is no such artifact.
 */
export async function getArtifactLineage(db: Database, artifactId: string, options: LineageOptions) {
  const [root] = await db.select().from(artifacts).where(eq(artifacts.id, artifactId));
  if (!root) return null;

  const artifactNodes = new Map<string, LineageArtifactNode>();
  const attemptLevels = new Map<string, number>();
  const edges = new Map<string, LineageEdge>();
  let truncated = false;

  const size = () => artifactNodes.size + attemptLevels.size;
  const addArtifact = (a: ArtifactRow, level: number): boolean => {
    if (artifactNodes.has(a.id)) return false;
    if (size() >= options.maxNodes) {
      truncated = true;
      return false;
    }
    artifactNodes.set(a.id, {
      kind: 'artifact',
      id: a.id,
      runId: a.runId,
      type: a.type,
      outputName: a.outputName,
      digest: a.digest,
      sizeBytes: a.sizeBytes,
      mediaType: a.mediaType,
      createdAt: a.createdAt.toISOString(),
      level,
      links: { self: `/v1/artifacts/${a.id}`, content: `/v1/artifacts/${a.id}/content`, lineage: `/v1/artifacts/${a.id}/lineage` },
    });
    return true;
  };
  const addAttempt = (id: string, level: number): boolean => {
    if (attemptLevels.has(id)) return false;
    if (size() >= options.maxNodes) {
      truncated = true;
      return false;
    }
    attemptLevels.set(id, level);
    return true;
  };
  const addEdge = (edge: LineageEdge) => edges.set(`${edge.from}>${edge.to}>${edge.name}`, edge);

  addArtifact(root, 0);

  // Upstream: artifact <- producing attempt <- its input artifacts <- …
  let frontier: ArtifactRow[] = [root];
  for (let hop = 1; hop <= options.depth && frontier.length > 0; hop += 1) {
    const producers = [...new Set(frontier.map((a) => a.producedByAttemptId))];
    for (const a of frontier) addEdge({ from: a.producedByAttemptId, to: a.id, kind: 'produced', name: a.outputName });
    const fresh = producers.filter((id) => addAttempt(id, -hop));
    if (fresh.length === 0) break;
    const inputs = await db
      .select({ edge: lineageEdges, artifact: artifacts })
      .from(lineageEdges)
      .innerJoin(artifacts, eq(artifacts.id, lineageEdges.artifactId))
      .where(inArray(lineageEdges.consumerAttemptId, fresh));
    const next: ArtifactRow[] = [];
    for (const { edge, artifact } of inputs) {
      addEdge({ from: artifact.id, to: edge.consumerAttemptId, kind: 'consumed', name: edge.inputName });
      if (addArtifact(artifact, -hop)) next.push(artifact);
    }
    frontier = next;
  }
  // Producers at the depth limit have edges but may lack nodes: keep only edges between nodes.

  // Downstream: artifact -> consuming attempts -> their outputs -> …
  let downstream: string[] = [root.id];
  for (let hop = 1; hop <= options.depth && downstream.length > 0; hop += 1) {
    const uses = await db.select().from(lineageEdges).where(inArray(lineageEdges.artifactId, downstream));
    const consumers: string[] = [];
    for (const edge of uses) {
      addEdge({ from: edge.artifactId, to: edge.consumerAttemptId, kind: 'consumed', name: edge.inputName });
      if (addAttempt(edge.consumerAttemptId, hop)) consumers.push(edge.consumerAttemptId);
    }
    if (consumers.length === 0) break;
    const outputs = await db.select().from(artifacts).where(inArray(artifacts.producedByAttemptId, consumers));
    const next: string[] = [];
    for (const artifact of outputs) {
      addEdge({ from: artifact.producedByAttemptId, to: artifact.id, kind: 'produced', name: artifact.outputName });
      if (addArtifact(artifact, hop)) next.push(artifact.id);
    }
    downstream = next;
  }

  const attemptIds = [...attemptLevels.keys()];
  const attemptRows = attemptIds.length
    ? await db
        .select({ id: attempts.id, runId: attempts.runId, number: attempts.number, status: attempts.status, stage: stageRuns.stageKey, uses: stageRuns.uses, pipeline: runs.pipelineName })
        .from(attempts)
        .innerJoin(stageRuns, eq(stageRuns.id, attempts.stageRunId))
        .innerJoin(runs, eq(runs.id, attempts.runId))
        .where(inArray(attempts.id, attemptIds))
    : [];
  const stageNodes: LineageStageNode[] = attemptRows.map((a) => ({
    kind: 'stage',
    id: a.id,
    runId: a.runId,
    pipeline: a.pipeline,
    stage: a.stage,
    uses: a.uses,
    attempt: a.number,
    status: a.status,
    level: attemptLevels.get(a.id) ?? 0,
  }));
  const nodeIds = new Set<string>([...artifactNodes.keys(), ...stageNodes.map((n) => n.id)]);
  return {
    root: root.id,
    depth: options.depth,
    truncated,
    nodes: [...artifactNodes.values(), ...stageNodes],
    edges: [...edges.values()].filter((e) => nodeIds.has(e.from) && nodeIds.has(e.to)),
  };
}
