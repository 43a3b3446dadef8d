import { afterAll, describe, expect, it, vi } from 'vitest';
import { cleanupRedisPrefix, testQueuePrefix, testRedisUrl } from '@pipewright/testing';
import type { StageJob } from './job-catalog.ts';
import { stageJobId } from './job-ids.ts';
import { QueueProducer } from './queue-producer.ts';
import { openRedis } from './redis-connection.ts';

const redisUrl = testRedisUrl();
const connection = openRedis(redisUrl);
const prefix = testQueuePrefix();
const producer = new QueueProducer({ connection, prefix });

afterAll(async () => {
  await producer.close();
  connection.disconnect();
  await cleanupRedisPrefix(redisUrl, prefix);
});

const job = (i: number): StageJob => ({
  runId: 'run-1',
  stageRunId: `stage-${String(i).padStart(4, '0')}`,
  attemptId: `attempt-${i}`,
  attempt: 1,
  stageKey: `f${i}`,
  uses: 'util.noop@1',
  params: {},
  inputs: {},
  timeoutMs: 60_000,
});

describe('QueueProducer.publishStageJobs', () => {
  it('adds a wide fan-out in bulks of at most 100 per queue, in order, each job once', async () => {
    const wide = producer.queue('stage-wide-cpu');
    const narrow = producer.queue('stage-narrow-cpu');
    const wideBulks = vi.spyOn(wide, 'addBulk');
    const narrowBulks = vi.spyOn(narrow, 'addBulk');
    const items = [
      ...Array.from({ length: 250 }, (_, i) => ({ queue: 'stage-wide-cpu', job: job(i) })),
      ...Array.from({ length: 3 }, (_, i) => ({ queue: 'stage-narrow-cpu', job: job(1000 + i) })),
    ];
    await producer.publishStageJobs(items);
    expect(wideBulks.mock.calls.map(([list]) => list.length)).toEqual([100, 100, 50]);
    expect(narrowBulks.mock.calls.map(([list]) => list.length)).toEqual([3]);
    const waiting = await wide.getJobs(['wait'], 0, -1, true);
    expect(waiting.map((j) => j.id)).toEqual(items.slice(0, 250).map((it) => stageJobId(it.job.stageRunId, 1)));
    // Published again (an outbox relay after a crash): the deterministic ids add nothing.
    await producer.publishStageJobs(items);
    expect(await wide.getWaitingCount()).toBe(250);
    expect(await narrow.getWaitingCount()).toBe(3);
  });
});
