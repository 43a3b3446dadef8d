import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanupRedisPrefix, testQueuePrefix, testRedisUrl } from '@pipewright/testing';
import { EventStreamConsumer, readEventStreamStats, type EventStreamConsumerOptions } from './event-stream-consumer.ts';
import type { StageEvent } from './job-catalog.ts';
import { peekEvents } from './peek-events.ts';
import { QueueProducer } from './queue-producer.ts';
import { EVENTS_GROUP, eventStreamKey, eventStreamPausedKey } from './queue-names.ts';
import { openRedis } from './redis-connection.ts';

const redisUrl = testRedisUrl();
const connection = openRedis(redisUrl);
const prefixes: string[] = [];
const consumers: EventStreamConsumer[] = [];

const progress = (attemptId: string, seq = 0): StageEvent => ({
  type: 'stage.progress',
  runId: 'run-1',
  stageRunId: 'stage-1',
  attemptId,
  at: new Date().toISOString(),
  seq,
  metrics: [{ name: 'loss', step: seq, value: 0.5 }],
});

/** A fresh prefix, a producer on it, and a way to start consumers on it. */
function fixture() {
  const prefix = testQueuePrefix();
  prefixes.push(prefix);
  const producer = new QueueProducer({ connection, prefix });
  const start = (consumer: string, handle: EventStreamConsumerOptions['handle'], extra: Partial<EventStreamConsumerOptions> = {}) => {
    const errors: { context: string; error: unknown }[] = [];
    const c = new EventStreamConsumer({
      blockingConnection: openRedis(redisUrl),
      connection,
      prefix,
      consumer,
      handle,
      onError: (error, context) => errors.push({ context, error }),
      blockMs: 200,
      ...extra,
    }).start();
    consumers.push(c);
    return { consumer: c, errors };
  };
  return { prefix, producer, start, key: eventStreamKey(prefix) };
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

afterEach(async () => {
  await Promise.all(consumers.splice(0).map((c) => c.stop()));
});

afterAll(async () => {
  for (const prefix of prefixes) await cleanupRedisPrefix(redisUrl, prefix);
  connection.disconnect();
});

describe('EventStreamConsumer', () => {
  it('hands every published event to the handler, then acknowledges and deletes it', async () => {
    const { prefix, producer, start, key } = fixture();
    // Published before any consumer exists: the group is created from the stream's start.
    await producer.publishEvent(progress('a1', 0));
    const seen: string[] = [];
    start('c1', async (event) => {
      seen.push(`${event.attemptId}/${event.type === 'stage.progress' ? event.seq : ''}`);
    });
    for (let seq = 1; seq <= 4; seq += 1) await producer.publishEvent(progress('a1', seq));
    await until('five events', () => seen.length === 5);
    expect(seen).toEqual(['a1/0', 'a1/1', 'a1/2', 'a1/3', 'a1/4']);
    await until('the stream to be empty', async () => (await connection.xlen(key)) === 0);
    // Each acknowledgement counts its events in the same round trip, for the throughput.
    await until('the five counted', async () => (await readEventStreamStats(connection, prefix)).handledLastMinute === 5);
    expect(await readEventStreamStats(connection, prefix)).toEqual({ waiting: 0, active: 0, paused: false, handledLastMinute: 5 });
  });

  it('retries a failing apply, and a live consumer claims what a failed one left pending', async () => {
    const { prefix, producer, start } = fixture();
    let calls = 0;
    const first = start('failing', async () => {
      calls += 1;
      throw new Error('database away');
    });
    await producer.publishEvent(progress('a2'));
    // Tried a few times in the process, then left pending for a claim.
    await until('the retries to give up', () => first.errors.some((e) => e.context === 'apply'), 15_000);
    expect(calls).toBe(4);
    expect(await readEventStreamStats(connection, prefix)).toMatchObject({ waiting: 0, active: 1 });
    await first.consumer.stop();

    const applied: string[] = [];
    start('healthy', async (event) => void applied.push(event.attemptId), { claimIdleMs: 100, claimIntervalMs: 100 });
    await until('the claim', () => applied.length === 1);
    expect(applied).toEqual(['a2']);
    await until('the ack', async () => (await readEventStreamStats(connection, prefix)).active === 0);
  });

  it("claims the entries of a consumer that died holding them", async () => {
    const { producer, start, key } = fixture();
    await connection.xgroup('CREATE', key, EVENTS_GROUP, '0', 'MKSTREAM');
    await producer.publishEvent(progress('a3'));
    await producer.publishEvent(progress('a4'));
    // A consumer that read both and was SIGKILLed before acknowledging them.
    const taken = (await connection.xreadgroup('GROUP', EVENTS_GROUP, 'dead', 'COUNT', 10, 'STREAMS', key, '>')) as [string, unknown[]][];
    expect(taken[0]?.[1]).toHaveLength(2);
    const applied: string[] = [];
    start('live', async (event) => void applied.push(event.attemptId), { claimIdleMs: 150, claimIntervalMs: 100 });
    await until('both claimed', () => applied.length === 2);
    expect(applied.sort()).toEqual(['a3', 'a4']);
    await until('the stream to be empty', async () => (await connection.xlen(key)) === 0);
  });

  it('creates the stream and group again after Redis lost them, and goes on', async () => {
    const { producer, start, key } = fixture();
    const applied: string[] = [];
    start('c', async (event) => void applied.push(event.attemptId));
    await producer.publishEvent(progress('before'));
    await until('the first event', () => applied.length === 1);
    await connection.del(key);
    await producer.publishEvent(progress('after'));
    await until('the event after the wipe', () => applied.length === 2, 15_000);
    expect(applied).toEqual(['before', 'after']);
  });

  it('reports and drops an entry that is not a stage event', async () => {
    const { prefix, producer, start, key } = fixture();
    await connection.xadd(key, '*', 'e', '{"type":"stage.exploded"}');
    await connection.xadd(key, '*', 'e', 'not json');
    // Peeking skips what is not an event.
    await producer.publishEvent(progress('seen'));
    expect((await peekEvents(connection, prefix)).map((e) => e.attemptId)).toEqual(['seen']);
    await producer.publishEvent(progress('good'));
    const applied: string[] = [];
    const { errors } = start('c', async (event) => void applied.push(event.attemptId));
    await until('the good events', () => applied.length === 2);
    await until('the stream to be empty', async () => (await connection.xlen(key)) === 0);
    expect(errors.map((e) => e.context)).toEqual(['poison', 'poison']);
    expect(await peekEvents(connection, prefix)).toEqual([]);
    expect(String((errors[0]?.error as Error).message)).toContain('is not a stage event');
  });

  it('reads nothing new while paused', async () => {
    const { prefix, producer, start } = fixture();
    await connection.set(eventStreamPausedKey(prefix), '1');
    const applied: string[] = [];
    start('c', async (event) => void applied.push(event.attemptId), { pauseCheckMs: 50 });
    await producer.publishEvent(progress('held'));
    await new Promise((r) => setTimeout(r, 600));
    expect(applied).toEqual([]);
    expect(await readEventStreamStats(connection, prefix)).toEqual({ waiting: 1, active: 0, paused: true, handledLastMinute: 0 });
    expect((await peekEvents(connection, prefix)).map((e) => e.attemptId)).toEqual(['held']);
    await connection.del(eventStreamPausedKey(prefix));
    await until('the event after resume', () => applied.length === 1);
  });

  it('holds at most maxInFlight events at once, and stop waits for them', async () => {
    const { producer, start } = fixture();
    let running = 0;
    let peak = 0;
    let done = 0;
    const { consumer } = start(
      'c',
      async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 30));
        running -= 1;
        done += 1;
      },
      { maxInFlight: 3 },
    );
    for (let i = 0; i < 12; i += 1) await producer.publishEvent(progress(`m${i}`));
    await until('some progress', () => done >= 4);
    await consumer.stop();
    expect(running).toBe(0);
    expect(peak).toBe(3);
  });
});
