import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PipewrightError } from '@pipewright/core';
import { eventStreamPausedKey } from '@pipewright/queue';
import type { ApiDeps } from '../build-app.ts';
import { errorSchema } from '../api-schemas.ts';
import { attemptsFinishedLastMinute, eventStreamQueueStats, knownQueues, QueueHandles, stageQueueStats, type QueueInfo } from '../queries/queue-stats.ts';

export const queueSchema = z
  .object({
    name: z.string().meta({ example: 'stage-train-gpu' }),
    kind: z.enum(['stage', 'events']),
    family: z.string().nullable(),
    resourceClass: z.enum(['cpu', 'gpu']).nullable(),
    paused: z.boolean(),
    waiting: z
      .number()
      .describe('Stage queues: jobs waiting for a worker (including those held by a pause, and prioritized ones). events: events no orchestrator has taken yet'),
    active: z.number().describe('Stage queues: jobs a worker holds. events: events an orchestrator took and has not acknowledged yet'),
    delayed: z.number().describe('Jobs waiting for their start time (retry backoff); 0 for events'),
    failed: z.number().describe('Jobs BullMQ holds as failed (until clean-failed, or their retention); 0 for events'),
    completed: z.number().describe('Completed jobs BullMQ still holds (stage jobs are removed when they complete); 0 for events'),
    throughputPerMinute: z
      .number()
      .nullable()
      .describe('Stage queues: attempts that ended in the last 60 s (from Postgres). events: events the orchestrators handled (applied, or dropped as unreadable) in the last 60 s'),
    failedLastMinute: z.number().nullable().describe('Stage queues: attempts that failed or were lost in the last 60 s; null for events'),
  })
  .meta({ id: 'Queue' });

const queueNameParams = z.object({ name: z.string().min(1).max(100) });

const queueActionSchema = z
  .object({ name: z.string(), paused: z.boolean(), removed: z.number().optional().describe('Failed jobs removed (clean-failed)') })
  .meta({ id: 'QueueAction' });

/**
 * Queue inspection and control for operators: counts, pause/resume, drain failed jobs. Stage
 * queues are BullMQ queues; `events` is a Redis stream, answered in the same shape.
 */
export function registerQueueRoutes(root: FastifyInstance, deps: ApiDeps): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const handles = new QueueHandles(deps.redis, deps.queuePrefix);
  app.addHook('onClose', async () => handles.close());

  const find = (name: string): QueueInfo => {
    const info = knownQueues(deps.catalog).find((q) => q.name === name);
    if (!info) throw new PipewrightError('PW_ERR_QUEUE_NOT_FOUND', `no queue is named "${name}"; GET /v1/queues lists them`);
    return info;
  };
  const stats = async (info: QueueInfo, finished?: Map<string, { done: number; failed: number }>) => {
    if (info.kind === 'events') return { ...info, ...(await eventStreamQueueStats(deps.redis, deps.queuePrefix)) };
    const counts = finished ?? (await attemptsFinishedLastMinute(deps.db));
    return { ...info, ...(await stageQueueStats(handles.get(info.name), counts.get(info.name))) };
  };

  /**
   * Stage queues pause through BullMQ. The events stream pauses through a flag key the
   * orchestrators poll; it has no TTL, because a pause lasts until an operator resumes.
   */
  const setPaused = async (info: QueueInfo, paused: boolean): Promise<void> => {
    if (info.kind === 'events') {
      const key = eventStreamPausedKey(deps.queuePrefix);
      await (paused ? deps.redis.set(key, '1') : deps.redis.del(key));
      return;
    }
    const queue = handles.get(info.name);
    await (paused ? queue.pause() : queue.resume());
  };

  const isPaused = async (info: QueueInfo): Promise<boolean> =>
    info.kind === 'events' ? (await deps.redis.exists(eventStreamPausedKey(deps.queuePrefix))) === 1 : handles.get(info.name).isPaused();

  /**
   * Removes a stage queue's failed jobs; answers how many. The events stream holds no failed
   * entries (an unreadable event is logged and dropped, a failed apply stays pending and is
   * retried), so there is nothing to remove.
   */
  const cleanFailed = async (info: QueueInfo): Promise<number> => {
    if (info.kind === 'events') return 0;
    const queue = handles.get(info.name);
    let removed = 0;
    // In batches, so a huge failed set does not block Redis in one script call.
    for (;;) {
      const batch = await queue.clean(0, 1000, 'failed');
      removed += batch.length;
      if (batch.length < 1000) return removed;
    }
  };

  app.get(
    '/v1/queues',
    {
      schema: {
        tags: ['system'],
        summary: 'Every queue with its job counts, pause state and throughput',
        description:
          'One queue per stage family and resource class (`stage-<family>-<cpu|gpu>`), for the families of the registered stage types, then `events`: the Redis stream through which workers report to the orchestrators.',
        response: { 200: z.object({ items: z.array(queueSchema) }) },
      },
    },
    async () => {
      const finished = await attemptsFinishedLastMinute(deps.db);
      return { items: await Promise.all(knownQueues(deps.catalog).map((info) => stats(info, finished))) };
    },
  );

  app.get(
    '/v1/queues/:name',
    { schema: { tags: ['system'], summary: "One queue's job counts, pause state and throughput", params: queueNameParams, response: { 200: queueSchema, 404: errorSchema } } },
    async (request) => stats(find(request.params.name)),
  );

  app.post(
    '/v1/queues/:name/pause',
    {
      schema: {
        tags: ['system'],
        summary: 'Pause a queue',
        description:
          'Workers finish the jobs they hold and take no new ones from this queue until it is resumed; new jobs still queue up. For `events`, the orchestrators finish the events they hold and read no new ones; workers still add them.',
        params: queueNameParams,
        response: { 200: queueActionSchema, 404: errorSchema },
      },
    },
    async (request) => {
      const info = find(request.params.name);
      await setPaused(info, true);
      request.log.info({ queue: info.name }, 'queue paused');
      return { name: info.name, paused: await isPaused(info) };
    },
  );

  app.post(
    '/v1/queues/:name/resume',
    { schema: { tags: ['system'], summary: 'Resume a paused queue', params: queueNameParams, response: { 200: queueActionSchema, 404: errorSchema } } },
    async (request) => {
      const info = find(request.params.name);
      await setPaused(info, false);
      request.log.info({ queue: info.name }, 'queue resumed');
      return { name: info.name, paused: await isPaused(info) };
    },
  );

  app.post(
    '/v1/queues/:name/clean-failed',
    {
      schema: {
        tags: ['system'],
        summary: "Drain a queue's failed jobs",
        description:
          "Removes the jobs BullMQ holds as failed. Postgres keeps every attempt and its error, so nothing of a run's history is lost; the reconciler retries or fails attempts by their own policy. `events` holds no failed entries (an unreadable event is logged and dropped, one whose apply fails is retried), so this removes nothing from it.",
        params: queueNameParams,
        response: { 200: queueActionSchema, 404: errorSchema },
      },
    },
    async (request) => {
      const info = find(request.params.name);
      const removed = await cleanFailed(info);
      request.log.info({ queue: info.name, removed }, 'failed jobs cleaned');
      return { name: info.name, paused: await isPaused(info), removed };
    },
  );
}
