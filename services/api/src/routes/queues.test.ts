import { Queue, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outbox } from '@pipewright/db';
import { applyStageEvent } from '@pipewright/engine';
import { EVENTS_GROUP, eventsHandledKey, eventStreamKey, eventStreamPausedKey, openRedis, type StageJob } from '@pipewright/queue';
import { testRedisUrl } from '@pipewright/testing';
import { createTestApi, expectApiError, readExampleYaml, type TestApi } from '../test-app.ts';

interface QueueBody {
  name: string;
  kind: string;
  family: string | null;
  resourceClass: string | null;
  paused: boolean;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
  throughputPerMinute: number | null;
  failedLastMinute: number | null;
}

let api: TestApi;
const extra: Queue[] = [];

function queue(name: string): Queue {
  const q = new Queue(name, { connection: openRedis(testRedisUrl()), prefix: api.prefix });
  extra.push(q);
  return q;
}

async function list(): Promise<QueueBody[]> {
  const response = await api.inject('/v1/queues');
  expect(response.statusCode, response.body).toBe(200);
  return response.json<{ items: QueueBody[] }>().items;
}

beforeAll(async () => {
  api = await createTestApi();
});
afterAll(async () => {
  for (const q of extra) {
    await q.close();
    await q.disconnect();
  }
  await api.close();
});

describe('GET /v1/queues', () => {
  it("lists every family of the catalog on cpu and gpu, then events", async () => {
    const items = await list();
    const families = [...new Set(api.app && (await api.inject('/v1/stage-types')).json<{ items: { family: string }[] }>().items.map((t) => t.family))].sort();
    expect(items.map((q) => q.name)).toEqual([...families.flatMap((f) => [`stage-${f}-cpu`, `stage-${f}-gpu`]), 'events']);
    expect(items.find((q) => q.name === 'stage-train-gpu')).toMatchObject({ kind: 'stage', family: 'train', resourceClass: 'gpu', paused: false, waiting: 0, active: 0, failed: 0 });
    expect(items.at(-1)).toMatchObject({ name: 'events', kind: 'events', family: null, resourceClass: null, paused: false, waiting: 0, active: 0, failed: 0, throughputPerMinute: 0 });
  });

  it('counts waiting and delayed jobs', async () => {
    const q = queue('stage-split-cpu');
    await q.add('stage.run', { x: 1 });
    await q.add('stage.run', { x: 2 }, { delay: 60_000 });
    const split = (await list()).find((item) => item.name === 'stage-split-cpu');
    expect(split).toMatchObject({ waiting: 1, delayed: 1, active: 0 });
  });

  it('counts the attempts that ended in the last minute as throughput', async () => {
    const submitted = await api.inject({ method: 'POST', url: '/v1/runs', headers: { 'content-type': 'application/yaml' }, payload: await readExampleYaml() });
    const runId = submitted.json<{ id: string }>().id;
    const job = (await api.db.select().from(outbox)).map((r) => (r.payload as { job: StageJob }).job).find((j) => j.runId === runId);
    if (!job) throw new Error('no ingest job');
    const base = { runId, stageRunId: job.stageRunId, attemptId: job.attemptId, at: new Date().toISOString() };
    await applyStageEvent(api.db, { type: 'stage.started', ...base, workerId: 'w', host: 'h' });
    await applyStageEvent(api.db, {
      type: 'stage.failed',
      ...base,
      error: { kind: 'application', code: 'PW_ERR_BAD_DATA', message: 'no rows', retryable: false },
      resourceUse: { cpuUserMs: 1, cpuSystemMs: 1, peakRssBytes: 1, wallMs: 1 },
    });
    const ingest = (await list()).find((item) => item.name === 'stage-ingest-cpu');
    expect(ingest).toMatchObject({ throughputPerMinute: 1, failedLastMinute: 1 });
    expect((await api.inject('/v1/queues/stage-ingest-cpu')).json()).toMatchObject({ name: 'stage-ingest-cpu', throughputPerMinute: 1 });
  });
});

describe('pause, resume, clean-failed', () => {
  it('pauses and resumes a queue', async () => {
    const paused = await api.inject({ method: 'POST', url: '/v1/queues/stage-train-gpu/pause' });
    expect(paused.statusCode, paused.body).toBe(200);
    expect(paused.json()).toEqual({ name: 'stage-train-gpu', paused: true });
    expect(await queue('stage-train-gpu').isPaused()).toBe(true);
    expect((await list()).find((q) => q.name === 'stage-train-gpu')?.paused).toBe(true);
    const resumed = await api.inject({ method: 'POST', url: '/v1/queues/stage-train-gpu/resume' });
    expect(resumed.json()).toEqual({ name: 'stage-train-gpu', paused: false });
    expect(await queue('stage-train-gpu').isPaused()).toBe(false);
  });

  it('removes the failed jobs of a queue and only those', async () => {
    const name = 'stage-evaluate-cpu';
    const q = queue(name);
    await q.add('stage.run', { fail: true });
    await q.add('stage.run', { fail: true });
    const worker = new Worker(name, async () => {
      throw new Error('boom');
    }, { connection: openRedis(testRedisUrl()), prefix: api.prefix });
    try {
      for (let i = 0; i < 100 && (await q.getFailedCount()) < 2; i += 1) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await worker.close();
    }
    await q.add('stage.run', { waiting: true });
    expect((await list()).find((item) => item.name === name)).toMatchObject({ failed: 2, waiting: 1 });
    const cleaned = await api.inject({ method: 'POST', url: `/v1/queues/${name}/clean-failed` });
    expect(cleaned.statusCode, cleaned.body).toBe(200);
    expect(cleaned.json()).toEqual({ name, paused: false, removed: 2 });
    expect((await list()).find((item) => item.name === name)).toMatchObject({ failed: 0, waiting: 1 });
  });

  it.each(['pause', 'resume', 'clean-failed'])('answers 404 PW_ERR_QUEUE_NOT_FOUND to %s of an unknown queue', async (action) => {
    const body = expectApiError(await api.inject({ method: 'POST', url: `/v1/queues/stage-nope-cpu/${action}` }), 404, 'PW_ERR_QUEUE_NOT_FOUND');
    expect(body.message).toContain('stage-nope-cpu');
  });

  it('answers 404 for GET of an unknown queue', async () => {
    expectApiError(await api.inject('/v1/queues/bogus'), 404, 'PW_ERR_QUEUE_NOT_FOUND');
  });
});

describe('the events stream', () => {
  it('counts entries no orchestrator took as waiting, and taken unacknowledged ones as active', async () => {
    const key = eventStreamKey(api.prefix);
    try {
      await api.redis.xgroup('CREATE', key, EVENTS_GROUP, '0', 'MKSTREAM');
      // 'e' is the consumer's one field; the API counts entries and never parses them.
      await api.redis.xadd(key, '*', 'e', '{}');
      await api.redis.xadd(key, '*', 'e', '{}');
      await api.redis.xreadgroup('GROUP', EVENTS_GROUP, 'test-orchestrator', 'COUNT', 1, 'STREAMS', key, '>');
      const response = await api.inject('/v1/queues/events');
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).toEqual({
        name: 'events',
        kind: 'events',
        family: null,
        resourceClass: null,
        paused: false,
        waiting: 1,
        active: 1,
        delayed: 0,
        failed: 0,
        completed: 0,
        throughputPerMinute: 0,
        failedLastMinute: null,
      });
      expect((await list()).at(-1)).toMatchObject({ name: 'events', waiting: 1, active: 1 });
    } finally {
      await api.redis.del(key);
    }
  });

  it('reports as throughput the events handled in the last 60 s, as the orchestrators count them', async () => {
    const second = Math.floor(Date.now() / 1000);
    const counts: [number, number][] = [[second, 3], [second - 30, 4], [second - 90, 7]]; // the last one is too old
    try {
      for (const [at, n] of counts) await api.redis.incrby(eventsHandledKey(api.prefix, at), n);
      expect((await api.inject('/v1/queues/events')).json()).toMatchObject({ name: 'events', throughputPerMinute: 7, failedLastMinute: null });
    } finally {
      await api.redis.del(...counts.map(([at]) => eventsHandledKey(api.prefix, at)));
    }
  });

  it('pauses and resumes events through the flag key the orchestrators poll', async () => {
    const pausedKey = eventStreamPausedKey(api.prefix);
    try {
      const paused = await api.inject({ method: 'POST', url: '/v1/queues/events/pause' });
      expect(paused.statusCode, paused.body).toBe(200);
      expect(paused.json()).toEqual({ name: 'events', paused: true });
      expect(await api.redis.exists(pausedKey)).toBe(1);
      expect(await api.redis.ttl(pausedKey)).toBe(-1);
      expect((await api.inject('/v1/queues/events')).json()).toMatchObject({ paused: true });
      const resumed = await api.inject({ method: 'POST', url: '/v1/queues/events/resume' });
      expect(resumed.json()).toEqual({ name: 'events', paused: false });
      expect(await api.redis.exists(pausedKey)).toBe(0);
      expect((await api.inject('/v1/queues/events')).json()).toMatchObject({ paused: false });
    } finally {
      await api.redis.del(pausedKey);
    }
  });

  it('removes nothing on clean-failed: the stream holds no failed entries', async () => {
    const cleaned = await api.inject({ method: 'POST', url: '/v1/queues/events/clean-failed' });
    expect(cleaned.statusCode, cleaned.body).toBe(200);
    expect(cleaned.json()).toEqual({ name: 'events', paused: false, removed: 0 });
  });
});
