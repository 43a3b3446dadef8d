import { hostname } from 'node:os';
import { toStageFailure, type ArtifactRef, type StageFailure } from '@pipewright/core';
import type { ArtifactStore } from '@pipewright/artifacts';
import type { QueueProducer, StageEvent, StageJob } from '@pipewright/queue';
import type { StageDefinition } from '@pipewright/stages';
import type { Logger } from 'pino';
import { MetricBatcher } from './metric-batcher.ts';
import { startResourceMeter } from './resource-meter.ts';

export interface StageJobDeps {
  workerId: string;
  producer: QueueProducer;
  store: ArtifactStore;
  /** The definition of a stage type, or a promise of it when it is imported on first use. */
  findStage(type: string): StageDefinition | undefined | Promise<StageDefinition | undefined>;
  logger: Logger;
  /** Resolves when the attempt is canceled (flag or announcement); checked while it runs. */
  watchCancel(attemptId: string, onCancel: () => void): () => void;
  /** How long an aborted handler may take to wind down before the worker gives up on it. @defaultValue 5000 */
  abortGraceMs?: number;
  /** Announce the start only if the stage still runs after this long (0: at once). @defaultValue 200 */
  startEventDelayMs?: number;
  /**
   * Sends the result (succeeded or failed) without waiting for Redis' reply, on the connection
   * the job is then completed on (see startWorker). Without it, the result is published with
   * `producer` and awaited.
   */
  sendResult?(event: ResultEvent): void;
  /** Told the TensorFlow.js backend a stage reports (`ctx.setBackend`), for the heartbeat. */
  noteBackend?(name: string): void;
}

type ResultEvent = Extract<StageEvent, { type: 'stage.succeeded' | 'stage.failed' }>;

/** Read once: a system call per stage showed in the fan-out's profile. */
const HOST = hostname();

/** The abort reason when a stage exceeds its timeout. */
class StageTimeout extends Error {
  constructor(readonly timeoutMs: number) {
    super(`stage exceeded its timeout of ${timeoutMs} ms`);
  }
}

/** The abort reason when the stage or its run was canceled. */
class StageCanceled extends Error {
  constructor() {
    super('canceled on request');
  }
}

/**
 * Runs one stage job and reports it through the events queue: started, metric batches, then
 * succeeded or failed. Every failure, whatever was thrown, is normalised here into a
 * StageFailure; the BullMQ job itself always completes, because retries are the orchestrator's.
 */
export async function runStageJob(job: StageJob, deps: StageJobDeps): Promise<'succeeded' | 'failed'> {
  const logger = deps.logger.child({ runId: job.runId, stageId: job.stageKey, attemptId: job.attemptId, attempt: job.attempt });
  const base = { runId: job.runId, stageRunId: job.stageRunId, attemptId: job.attemptId };
  const now = () => new Date().toISOString();
  let backend: string | undefined;

  // The start is announced only if the stage is still running after `startEventDelayMs`: a short
  // stage reports once, its result carrying who ran it and when (half the events, and half the
  // orchestrator's statements, for a fan-out of quick stages).
  const started = { at: now(), workerId: deps.workerId, host: HOST };
  let startSent: Promise<void> | undefined;
  const sendStart = () => (startSent ??= deps.producer.publishEvent({ type: 'stage.started', ...base, ...started }));
  const startDelay = deps.startEventDelayMs ?? 200;
  const startTimer = startDelay > 0 ? setTimeout(() => void sendStart().catch((error: unknown) => logger.warn({ err: error }, 'start event not sent')), startDelay) : undefined;
  if (startDelay <= 0) await sendStart();
  logger.info({ uses: job.uses }, 'stage started');

  const meter = startResourceMeter();
  const controller = new AbortController();
  const timeout = setTimeout(() => controller.abort(new StageTimeout(job.timeoutMs)), job.timeoutMs);
  const unwatch = deps.watchCancel(job.attemptId, () => controller.abort(new StageCanceled()));
  const batcher = new MetricBatcher((seq, batch) =>
    deps.producer.publishEvent({ type: 'stage.progress', ...base, at: now(), seq, metrics: batch.metrics, ...(batch.logs.length ? { logs: batch.logs } : {}) }),
  );
  const shipLog = (level: 'info' | 'warn', message: string, fields?: Record<string, unknown>) => {
    logger[level](fields ?? {}, message);
    batcher.addLog({ level, message, at: now(), ...(fields ? { fields: jsonSafe(fields) } : {}) });
  };

  let outcome: { ok: true; outputs: Record<string, ArtifactRef>; metrics: Record<string, number> } | { ok: false; failure: StageFailure };
  try {
    // Inside the try: importing a stage's module can fail, and that is this attempt's failure.
    const definition = await deps.findStage(job.uses);
    if (!definition) {
      throw Object.assign(new Error(`no handler for stage type ${job.uses} on this worker`), { pwCode: 'PW_ERR_STAGE_TYPE_UNKNOWN' });
    }
    const params = definition.params.safeParse(job.params);
    if (!params.success) {
      outcome = { ok: false, failure: { kind: 'application', code: 'PW_ERR_BAD_PARAMS', message: params.error.message, retryable: false } };
    } else {
      const result = await raceAbort(
        definition.run({
          params: params.data,
          inputs: job.inputs,
          inputLists: job.inputLists ?? {},
          store: deps.store,
          signal: controller.signal,
          logger: {
            info: (message, fields) => shipLog('info', message, fields),
            warn: (message, fields) => shipLog('warn', message, fields),
          },
          reportMetrics: (points) => batcher.add(points),
          runId: job.runId,
          stageId: job.stageKey,
          attempt: job.attempt,
          setBackend: (name) => {
            backend = name;
            deps.noteBackend?.(name);
          },
        }),
        controller.signal,
        deps.abortGraceMs ?? 5000,
      );
      const missing = Object.keys(definition.outputs).filter((name) => !result.outputs[name]);
      if (missing.length) {
        throw new Error(`stage ${job.uses} did not produce declared outputs: ${missing.join(', ')}`);
      }
      outcome = { ok: true, outputs: result.outputs, metrics: finiteOnly(result.metrics ?? {}) };
    }
  } catch (thrown) {
    outcome = { ok: false, failure: failureOf(thrown, controller.signal) };
  } finally {
    clearTimeout(timeout);
    unwatch();
  }
  const resourceUse = meter.stop();
  clearTimeout(startTimer);
  // Sent: the orchestrator has it (or will; a result may overtake it). Not sent: the result says it.
  const startReport = startSent ? (await startSent.catch(() => undefined), {}) : { started };
  try {
    await batcher.close();
  } catch (error) {
    logger.warn({ err: error }, 'some metric batches could not be sent');
  }

  // The result repeats the series: a progress event can be lost with Redis, a result cannot
  // (the reconciler runs a lost one again), and the orchestrator ignores points it already has.
  const series = batcher.series();
  const seriesReport = series.length ? { series } : {};
  const report = async (event: ResultEvent) => (deps.sendResult ? deps.sendResult(event) : deps.producer.publishEvent(event));
  if (outcome.ok) {
    await report({ type: 'stage.succeeded', ...base, at: now(), outputs: outcome.outputs, metrics: outcome.metrics, ...(backend ? { backend } : {}), resourceUse, ...startReport, ...seriesReport });
    logger.info({ wallMs: resourceUse.wallMs, backend, metrics: outcome.metrics }, 'stage succeeded');
    return 'succeeded';
  }
  await report({ type: 'stage.failed', ...base, at: now(), error: outcome.failure, ...(backend ? { backend } : {}), resourceUse, ...startReport, ...seriesReport });
  logger.warn({ error: outcome.failure }, 'stage failed');
  return 'failed';
}

/**
 * Ends when the handler ends, or `graceMs` after the signal aborts, whichever is first: the
 * handler gets the grace period to stop cleanly, and one that ignores its signal cannot hold
 * the worker past it.
 */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal, graceMs: number): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    let grace: NodeJS.Timeout | undefined;
    const onAbort = () => {
      grace = setTimeout(() => reject(signal.reason), graceMs);
      work.catch(() => undefined).finally(() => clearTimeout(grace));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        clearTimeout(grace);
        // A handler that finished despite an abort still counts as aborted: the run moved on.
        if (signal.aborted) reject(signal.reason);
        else resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        clearTimeout(grace);
        reject(e);
      },
    );
  });
}

function failureOf(thrown: unknown, signal: AbortSignal): StageFailure {
  const reason: unknown = signal.aborted ? signal.reason : undefined;
  if (reason instanceof StageTimeout) {
    return { kind: 'timeout', code: 'PW_ERR_STAGE_TIMEOUT', message: reason.message, retryable: true, timeoutMs: reason.timeoutMs };
  }
  if (reason instanceof StageCanceled) {
    return { kind: 'canceled', code: 'PW_ERR_STAGE_CANCELED', message: reason.message, retryable: false };
  }
  const code = (thrown as { pwCode?: string } | null)?.pwCode;
  if (code) return { kind: 'application', code, message: (thrown as Error).message, retryable: false };
  return toStageFailure(thrown);
}

function finiteOnly(metrics: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(metrics).filter(([, v]) => typeof v === 'number' && Number.isFinite(v)));
}

/** Log fields must survive JSON (an Error, a bigint, a cycle): keep what does. */
function jsonSafe(fields: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(fields, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Error ? v.message : v))) as Record<string, unknown>;
  } catch {
    return { unserialisable: true };
  }
}
