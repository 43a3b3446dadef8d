import { randomUUID } from 'node:crypto';
import type { ArtifactRef } from '@pipewright/core';
import { artifacts, attempts, inArray, lineageEdges, outbox, sql, stageRuns, eq, type Database } from '@pipewright/db';
import { stageJobId, stageQueueName, type StageJob } from '@pipewright/queue';
import type { OutboxMessage } from './outbox-message.ts';

type StageRow = typeof stageRuns.$inferSelect;

export interface EnqueueStageInput {
  runId: string;
  teamId: string | null;
  stage: StageRow;
  /** Every stage of the run, by key, to resolve input bindings. */
  stagesByKey: Map<string, StageRow>;
  attemptNumber: number;
  /** Delay before the job may start (retry backoff); 0 = now. */
  delayMs: number;
  now: Date;
}

/**
 * Creates attempt `attemptNumber` of a stage: the attempt row, its lineage edges (inputs are
 * fixed now) and the outbox row that will publish the job. Caller holds the run's row lock and
 * runs this inside the transaction that made the stage ready.
 */
export async function enqueueStage(tx: Database, input: EnqueueStageInput): Promise<void> {
  const { stage, runId, attemptNumber } = input;
  const producerIds = [...new Set(Object.values(stage.inputs).map((b) => input.stagesByKey.get(b.stage)?.id))].filter(
    (id): id is string => id !== undefined,
  );
  const produced = producerIds.length
    ? await tx.select().from(artifacts).where(inArray(artifacts.producedByStageRunId, producerIds))
    : [];

  const resolved: Record<string, { ref: ArtifactRef; artifactId: string }> = {};
  for (const [inputName, binding] of Object.entries(stage.inputs)) {
    const producer = input.stagesByKey.get(binding.stage);
    const row = produced.find((a) => a.producedByStageRunId === producer?.id && a.outputName === binding.output);
    if (!row) {
      // Validation guarantees the binding; a missing row means the producer's success was not
      // recorded, which is a bug, not bad input: fail loudly rather than run with a hole.
      throw new Error(`stage ${stage.stageKey}: input ${inputName} has no artifact from ${binding.stage}.${binding.output}`);
    }
    resolved[inputName] = {
      artifactId: row.id,
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

  const attemptId = randomUUID();
  const queue = stageQueueName(stage.family, stage.resourceClass);
  await tx.insert(attempts).values({
    id: attemptId,
    stageRunId: stage.id,
    runId,
    number: attemptNumber,
    status: 'QUEUED',
    queue,
    jobId: stageJobId(stage.id, attemptNumber),
    queuedAt: input.now,
  });

  const edges = Object.entries(resolved).map(([inputName, r]) => ({
    id: randomUUID(),
    runId,
    artifactId: r.artifactId,
    consumerStageRunId: stage.id,
    consumerAttemptId: attemptId,
    inputName,
  }));
  if (edges.length) await tx.insert(lineageEdges).values(edges);

  const job: StageJob = {
    runId,
    stageRunId: stage.id,
    attemptId,
    attempt: attemptNumber,
    stageKey: stage.stageKey,
    uses: stage.uses,
    params: stage.params,
    inputs: Object.fromEntries(Object.entries(resolved).map(([k, r]) => [k, r.ref])),
    timeoutMs: stage.timeoutMs,
    teamId: input.teamId,
  };
  const message: OutboxMessage = { kind: 'stage.run', payload: { queue, job } };
  await tx.insert(outbox).values({
    kind: message.kind,
    payload: message.payload,
    // The database's clock decides when a delayed retry is due, whichever process relays it.
    availableAt: sql`now() + make_interval(secs => ${input.delayMs / 1000})`,
  });

  const status = input.delayMs > 0 ? 'RETRY_WAIT' : 'QUEUED';
  await tx
    .update(stageRuns)
    .set({ status, attemptCount: attemptNumber, queuedAt: input.now })
    .where(eq(stageRuns.id, stage.id));
  stage.status = status;
  stage.attemptCount = attemptNumber;
}
