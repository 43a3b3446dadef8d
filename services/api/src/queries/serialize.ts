import type { artifacts, ArtifactRow, AttemptRow } from '@pipewright/db';


export const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

export function serializeArtifact(a: ArtifactRow, producer: { stage: string; attempt: number }) {
  return {
    id: a.id,
    runId: a.runId,
    type: a.type,
    digest: a.digest,
    uri: a.uri,
    mediaType: a.mediaType,
    sizeBytes: a.sizeBytes,
    metadata: a.metadata ?? null,
    outputName: a.outputName,
    producedBy: { stage: producer.stage, stageRunId: a.producedByStageRunId, attemptId: a.producedByAttemptId, attempt: producer.attempt },
    createdAt: a.createdAt.toISOString(),
    links: { self: `/v1/artifacts/${a.id}`, content: `/v1/artifacts/${a.id}/content` },
  };
}

export function serializeAttempt(a: AttemptRow) {
  return {
    id: a.id,
    number: a.number,
    status: a.status,
    queue: a.queue,
    jobId: a.jobId,
    workerId: a.workerId,
    host: a.host,
    backend: a.backend,
    error: a.error ?? null,
    resourceUse: a.resourceUse ?? null,
    queuedAt: a.queuedAt.toISOString(),
    startedAt: iso(a.startedAt),
    finishedAt: iso(a.finishedAt),
  };
}

export function runLinks(id: string) {
  return { self: `/v1/runs/${id}`, lineage: `/v1/runs/${id}/lineage`, metrics: `/v1/runs/${id}/metrics` };
}
