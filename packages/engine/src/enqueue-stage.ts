import { randomUUID } from 'node:crypto';
import { type Database, type StageRow } from '@pipewright/db';
import { stageJobId, stageQueueName, type StageJob } from '@pipewright/queue';
import { RunChangeSet } from './run-change-set.ts';
import type { ResolvedInputs } from './resolve-stage-inputs.ts';


export interface EnqueueStageInput {
  runId: string;
  teamId: string | null;
  stage: StageRow;
  inputs: ResolvedInputs;
  attemptNumber: number;
  /** Delay before the job may start (retry backoff); 0 = now. */
  delayMs: number;
  now: Date;
}

/**
 * Creates attempt `attemptNumber` of a stage: the attempt row, its lineage edges (inputs are
 * fixed now) and the outbox row that will publish the job. The caller holds the run's row lock
 * and runs this in the transaction that made the stage ready.
 */
export async function enqueueStage(tx: Database, input: EnqueueStageInput): Promise<void> {
  const changes = new RunChangeSet(input.runId);
  planEnqueue(changes, input);
  await changes.flush(tx);
}

/** {@link enqueueStage}, gathered into `changes` (written when the caller flushes them). */
export function planEnqueue(changes: RunChangeSet, input: EnqueueStageInput): void {
  const { stage, runId, attemptNumber } = input;
  const attemptId = randomUUID();
  const queue = stageQueueName(stage.family, stage.resourceClass);
  changes.insertAttempt({
    id: attemptId,
    stageRunId: stage.id,
    runId,
    number: attemptNumber,
    status: 'QUEUED',
    queue,
    jobId: stageJobId(stage.id, attemptNumber),
    queuedAt: input.now,
  });

  const bound = [
    ...Object.entries(input.inputs.single),
    ...Object.entries(input.inputs.lists).flatMap(([name, list]) => list.map((r, i) => [`${name}[${i}]`, r] as const)),
  ];
  changes.insertEdges(
    bound.map(([inputName, r]) => ({
      id: randomUUID(),
      runId,
      artifactId: r.artifactId,
      consumerStageRunId: stage.id,
      consumerAttemptId: attemptId,
      inputName,
      createdAt: input.now,
    })),
  );

  // The database's clock decides when a delayed retry is due, whichever process relays it.
  const job = buildStageJob({ runId, teamId: input.teamId, stage, attemptId, attemptNumber, inputs: input.inputs });
  changes.publishAfterCommit({ queue, job, delayMs: input.delayMs });
  changes.patchStage(stage, { status: input.delayMs > 0 ? 'RETRY_WAIT' : 'QUEUED', attemptCount: attemptNumber, queuedAt: input.now });
}

/** The job payload of one attempt: everything the worker needs, so it never reads Postgres. */
export function buildStageJob(input: {
  runId: string;
  teamId: string | null;
  stage: StageRow;
  attemptId: string;
  attemptNumber: number;
  inputs: ResolvedInputs;
}): StageJob {
  const lists = Object.entries(input.inputs.lists);
  return {
    runId: input.runId,
    stageRunId: input.stage.id,
    attemptId: input.attemptId,
    attempt: input.attemptNumber,
    stageKey: input.stage.stageKey,
    uses: input.stage.uses,
    params: input.stage.params,
    inputs: Object.fromEntries(Object.entries(input.inputs.single).map(([k, r]) => [k, r.ref])),
    ...(lists.length ? { inputLists: Object.fromEntries(lists.map(([k, list]) => [k, list.map((r) => r.ref)])) } : {}),
    timeoutMs: input.stage.timeoutMs,
    teamId: input.teamId,
  };
}
