import type { ResourceClass } from '@pipewright/core';

/**
 * Default key prefix. The braces are a Redis Cluster hash tag: every key of every queue hashes
 * to one slot, which BullMQ's multi-key Lua scripts require.
 */
export const DEFAULT_QUEUE_PREFIX = '{pw}';

/**
 * The durable channel through which workers report to the orchestrators, as operators see it
 * (`GET /v1/queues`). It is a Redis stream, not a BullMQ queue: see `eventStreamKey`.
 */
export const EVENTS_QUEUE = 'events';

/**
 * The Redis stream of stage events. A stream, not a BullMQ queue: a worker's report is one XADD,
 * and an orchestrator takes hundreds in one XREADGROUP and acknowledges them in one XACK, where a
 * BullMQ job per event cost three script calls (add, take, finish) and a job object each.
 */
export function eventStreamKey(prefix: string): string {
  return `${prefix}:${EVENTS_QUEUE}:stream`;
}

/** The one field of an events stream entry: the event as JSON. */
export const EVENT_FIELD = 'e';

/** The consumer group of the orchestrators: each event goes to one of them. */
export const EVENTS_GROUP = 'orchestrators';

/** Set while an operator has paused the events stream: orchestrators read nothing new. */
export function eventStreamPausedKey(prefix: string): string {
  return `${prefix}:${EVENTS_QUEUE}:paused`;
}

/**
 * How many events orchestrators handled (applied, or dropped as unreadable) in one second of the
 * epoch: counted with the acknowledgement, kept two minutes, summed for `GET /v1/queues`.
 */
export function eventsHandledKey(prefix: string, epochSecond: number): string {
  return `${prefix}:${EVENTS_QUEUE}:handled:${epochSecond}`;
}

/** How long a per-second count of handled events is kept. */
export const EVENTS_HANDLED_TTL_SEC = 120;

/** One queue per stage family and resource class: `stage-train-gpu`, `stage-ingest-cpu`, … */
export function stageQueueName(family: string, resourceClass: ResourceClass): string {
  return `stage-${family}-${resourceClass}`;
}

/**
 * Expands a worker's `--queues` argument. Accepts explicit queue names, `cpu` / `gpu` (every
 * family of that class) and `all`.
 */
export function expandQueueSelection(selection: string[], families: string[]): string[] {
  const names = new Set<string>();
  for (const raw of selection) {
    const item = raw.trim();
    if (item === '') continue;
    if (item === 'all' || item === 'cpu' || item === 'gpu') {
      const classes: ResourceClass[] = item === 'all' ? ['cpu', 'gpu'] : [item];
      for (const family of families) for (const c of classes) names.add(stageQueueName(family, c));
    } else if (/^stage-[a-z][a-z0-9_]*-(cpu|gpu)$/.test(item)) {
      names.add(item);
    } else {
      throw new Error(`unknown queue "${item}": use cpu, gpu, all or names like stage-train-gpu`);
    }
  }
  return [...names].sort();
}

/** The Redis key of a worker's heartbeat record (expires when the worker stops beating). */
export function workerKey(prefix: string, workerId: string): string {
  return `${prefix}:workers:${workerId}`;
}

/** SCAN pattern matching every worker heartbeat key. */
export function workerKeyPattern(prefix: string): string {
  return `${prefix.replace(/[[\]*?]/g, (c) => `\\${c}`)}:workers:*`;
}

/** Pub/sub channel on which cancels are announced (payload: the attempt id). */
export function cancelChannel(prefix: string): string {
  return `${prefix}:cancel`;
}

/**
 * Flag key of a canceled attempt. Pub/sub is fire-and-forget, so a worker also checks this key
 * when a job starts and while it runs: a cancel sent while it was disconnected still lands.
 */
export function canceledAttemptKey(prefix: string, attemptId: string): string {
  return `${prefix}:canceled:${attemptId}`;
}
