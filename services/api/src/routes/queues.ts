import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PipewrightError } from '@pipewright/core';
import type { ApiDeps } from '../build-app.ts';
import { errorSchema } from '../api-schemas.ts';
import { attemptsFinishedLastMinute, knownQueues, QueueHandles, queueStats, type QueueInfo } from '../queries/queue-stats.ts';

export const queueSchema = z
  .object({
    name: z.string().meta({ example: 'stage-train-gpu' }),
    kind: z.enum(['stage', 'events']),
    family: z.string().nullable(),
    resourceClass: z.enum(['cpu', 'gpu']).nullable(),
    paused: z.boolean(),
    waiting: z.number().describe('Jobs waiting for a worker (including those held by a pause, and prioritized ones)'),
    active: z.number(),
    delayed: z.number().describe('Jobs waiting for their start time (retry backoff)'),
    failed: z.number().describe('Jobs BullMQ holds as failed (until clean-failed, or their retention)'),
    completed: z.number().describe('Completed jobs BullMQ still holds (stage jobs are removed when they complete)'),
    throughputPerMinute: z
      .number()
      .nullable()
      .describe('Stage queues: attempts that ended in the last 60 s (from Postgres). events: jobs completed in the last minute when BullMQ metrics are collected, else null'),
    failedLastMinute: z.number().nullable().describe('Stage queues: attempts that failed or were lost in the last 60 s; null for events'),
  })
  .meta({ id: 'Queue' });

const queueNameParams = z.object({ name: z.string().min(1).max(100) });

const queueActionSchema = z
  .object({ name: z.string(), paused: z.boolean(), removed: z.number().optional().describe('Failed jobs removed (clean-failed)') })
  .meta({ id: 'QueueAction' });

/** Queue inspection and control for operators: counts, pause/resume, drain failed jobs. */
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
    const counts = finished ?? (await attemptsFinishedLastMinute(deps.db));
    return { ...info, ...(await queueStats(handles.get(info.name), counts.get(info.name), info.kind)) };
  };

  app.get(
    '/v1/queues',
    {
      schema: {
        tags: ['system'],
        summary: 'Every queue with its job counts, pause state and throughput',
        description: 'One queue per stage family and resource class (`stage-<family>-<cpu|gpu>`), for the families of the registered stage types, then the `events` queue.',
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
        description: 'Workers finish the jobs they hold and take no new ones from this queue until it is resumed; new jobs still queue up.',
        params: queueNameParams,
        response: { 200: queueActionSchema, 404: errorSchema },
      },
    },
    async (request) => {
      const info = find(request.params.name);
      const queue = handles.get(info.name);
      await queue.pause();
      request.log.info({ queue: info.name }, 'queue paused');
      return { name: info.name, paused: await queue.isPaused() };
    },
  );

  app.post(
    '/v1/queues/:name/resume',
    { schema: { tags: ['system'], summary: 'Resume a paused queue', params: queueNameParams, response: { 200: queueActionSchema, 404: errorSchema } } },
    async (request) => {
      const info = find(request.params.name);
      const queue = handles.get(info.name);
      await queue.resume();
      request.log.info({ queue: info.name }, 'queue resumed');
      return { name: info.name, paused: await queue.isPaused() };
    },
  );

  app.post(
    '/v1/queues/:name/clean-failed',
    {
      schema: {
        tags: ['system'],
        summary: "Drain a queue's failed jobs",
        description:
          "Removes the jobs BullMQ holds as failed. Postgres keeps every attempt and its error, so nothing of a run's history is lost; the reconciler retries or fails attempts by their own policy.",
        params: queueNameParams,
        response: { 200: queueActionSchema, 404: errorSchema },
      },
    },
    async (request) => {
      const info = find(request.params.name);
      const queue = handles.get(info.name);
      let removed = 0;
      // In batches, so a huge failed set does not block Redis in one script call.
      for (;;) {
        const batch = await queue.clean(0, 1000, 'failed');
        removed += batch.length;
        if (batch.length < 1000) break;
      }
      request.log.info({ queue: info.name, removed }, 'failed jobs cleaned');
      return { name: info.name, paused: await queue.isPaused(), removed };
    },
  );
}
