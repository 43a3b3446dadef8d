import { isTerminalAttemptStatus, isTerminalStageStatus } from '@pipewright/core';
import { and, artifacts, attempts, eq, metrics, runs, stageRuns, type Database } from '@pipewright/db';
import type { StageEvent } from '@pipewright/queue';
import { randomUUID } from 'node:crypto';
import { advanceRun } from './advance-run.ts';
import { enqueueStage } from './enqueue-stage.ts';
import { notifyRunChanged } from './notify-run-changed.ts';
import { retryDelayMs } from './retry-delay.ts';

export type ApplyOutcome =
  | 'applied'
  /** The event refers to an attempt that is already final, or superseded: nothing changed. */
  | 'stale'
  | 'unknown-attempt';

export interface ApplyResult {
  outcome: ApplyOutcome;
  /** Whether the transaction wrote outbox rows (the relay should run now). */
  enqueued: number;
}

/**
 * Applies one worker event in one transaction, idempotently: the same event applied twice, an
 * event for an old attempt, or an event for an already-final stage changes nothing. Progress
 * events only add metric points (their unique key absorbs re-deliveries).
 */
export async function applyStageEvent(db: Database, event: StageEvent, now: () => Date = () => new Date()): Promise<ApplyResult> {
  if (event.type === 'stage.progress') {
    if (event.metrics.length === 0) return { outcome: 'applied', enqueued: 0 };
    const rows = event.metrics.map((m) => ({
      runId: event.runId,
      stageRunId: event.stageRunId,
      attemptId: event.attemptId,
      kind: 'series' as const,
      name: m.name,
      step: m.step,
      value: m.value,
    }));
    try {
      await db.insert(metrics).values(rows).onConflictDoNothing();
    } catch (error) {
      // A foreign-key miss means the attempt does not exist (a stale job from a dropped run).
      if (isForeignKeyViolation(error)) return { outcome: 'unknown-attempt', enqueued: 0 };
      throw error;
    }
    await notifyRunChanged(db, event.runId, 'metrics');
    return { outcome: 'applied', enqueued: 0 };
  }

  return db.transaction(async (tx) => {
    // Lock order: run, then its rows. Every state change of a run takes this lock first.
    const [run] = await tx.select().from(runs).where(eq(runs.id, event.runId)).for('update');
    const [attempt] = await tx.select().from(attempts).where(eq(attempts.id, event.attemptId));
    if (!run || !attempt) return { outcome: 'unknown-attempt' as const, enqueued: 0 };
    const [stage] = await tx.select().from(stageRuns).where(eq(stageRuns.id, attempt.stageRunId));
    if (!stage) return { outcome: 'unknown-attempt' as const, enqueued: 0 };
    const at = now();
    const current = stage.attemptCount === attempt.number && !isTerminalStageStatus(stage.status);

    switch (event.type) {
      case 'stage.started': {
        if (attempt.status !== 'QUEUED') return { outcome: 'stale' as const, enqueued: 0 };
        await tx
          .update(attempts)
          .set({ status: 'RUNNING', workerId: event.workerId, host: event.host, backend: event.backend ?? null, startedAt: new Date(event.at) })
          .where(eq(attempts.id, attempt.id));
        if (!current) return { outcome: 'stale' as const, enqueued: 0 };
        await tx.update(stageRuns).set({ status: 'RUNNING', startedAt: stage.startedAt ?? new Date(event.at) }).where(eq(stageRuns.id, stage.id));
        if (run.status === 'QUEUED') {
          await tx.update(runs).set({ status: 'RUNNING', startedAt: at, updatedAt: at }).where(eq(runs.id, run.id));
        }
        return { outcome: 'applied' as const, enqueued: 0 };
      }

      case 'stage.succeeded': {
        if (isTerminalAttemptStatus(attempt.status)) return { outcome: 'stale' as const, enqueued: 0 };
        await tx
          .update(attempts)
          .set({
            status: 'SUCCEEDED',
            backend: event.backend ?? attempt.backend,
            resourceUse: event.resourceUse,
            startedAt: attempt.startedAt ?? new Date(event.at),
            finishedAt: new Date(event.at),
          })
          .where(eq(attempts.id, attempt.id));
        if (!current) return { outcome: 'stale' as const, enqueued: 0 };

        const outputRows = Object.entries(event.outputs).map(([outputName, ref]) => ({
          id: randomUUID(),
          teamId: run.teamId,
          runId: run.id,
          producedByStageRunId: stage.id,
          producedByAttemptId: attempt.id,
          outputName,
          type: ref.type,
          digest: ref.digest,
          uri: ref.uri,
          mediaType: ref.mediaType,
          sizeBytes: ref.sizeBytes,
          metadata: ref.metadata ?? null,
        }));
        if (outputRows.length) await tx.insert(artifacts).values(outputRows).onConflictDoNothing();
        const finalMetrics = Object.entries(event.metrics).map(([name, value]) => ({
          runId: run.id,
          stageRunId: stage.id,
          attemptId: attempt.id,
          kind: 'final' as const,
          name,
          step: 0,
          value,
        }));
        if (finalMetrics.length) await tx.insert(metrics).values(finalMetrics).onConflictDoNothing();
        await tx
          .update(stageRuns)
          .set({ status: 'SUCCEEDED', metrics: event.metrics, finishedAt: new Date(event.at), startedAt: stage.startedAt ?? attempt.startedAt ?? new Date(event.at) })
          .where(eq(stageRuns.id, stage.id));
        const advanced = await advanceRun(tx, run, at);
        return { outcome: 'applied' as const, enqueued: advanced.enqueued };
      }

      case 'stage.failed': {
        if (isTerminalAttemptStatus(attempt.status)) return { outcome: 'stale' as const, enqueued: 0 };
        await tx
          .update(attempts)
          .set({
            status: 'FAILED',
            error: event.error as never,
            backend: event.backend ?? attempt.backend,
            resourceUse: event.resourceUse,
            finishedAt: new Date(event.at),
          })
          .where(eq(attempts.id, attempt.id));
        if (!current) return { outcome: 'stale' as const, enqueued: 0 };

        if (event.error.retryable && attempt.number < stage.retry.attempts) {
          const next = attempt.number + 1;
          const stagesByKey = new Map([[stage.stageKey, stage]]);
          // Inputs of a retry are those of the first attempt; load the producers to rebind.
          for (const s of await tx.select().from(stageRuns).where(eq(stageRuns.runId, run.id))) stagesByKey.set(s.stageKey, s);
          await enqueueStage(tx, {
            runId: run.id,
            teamId: run.teamId,
            stage,
            stagesByKey,
            attemptNumber: next,
            delayMs: retryDelayMs(stage.retry, next),
            now: at,
          });
          return { outcome: 'applied' as const, enqueued: 1 };
        }
        await tx
          .update(stageRuns)
          .set({ status: 'FAILED', error: event.error, finishedAt: new Date(event.at) })
          .where(and(eq(stageRuns.id, stage.id)));
        const advanced = await advanceRun(tx, run, at);
        return { outcome: 'applied' as const, enqueued: advanced.enqueued };
      }
    }
  });
}

function isForeignKeyViolation(error: unknown): boolean {
  const code = (error as { code?: string; cause?: { code?: string } } | null)?.code ?? (error as { cause?: { code?: string } } | null)?.cause?.code;
  return code === '23503';
}
