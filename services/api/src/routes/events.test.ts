import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { outbox, sql } from '@pipewright/db';
import { applyStageEvent } from '@pipewright/engine';
import type { StageJob } from '@pipewright/queue';
import { createTestApi, expectApiError, readExampleYaml, type TestApi } from '../test-app.ts';

/**
 * Server-sent events over a real socket: a change written to the database (by the engine, at
 * commit) reaches a connected client through Postgres LISTEN.
 */

interface SseEvent {
  event: string;
  data: unknown;
}

interface EventReader {
  contentType: string | null;
  /** Resolves with the next event matching `predicate` (earlier ones are consumed). */
  next(predicate?: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  /** Every event received so far. */
  received: SseEvent[];
  close(): void;
}

async function openEvents(url: string): Promise<EventReader> {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal, headers: { accept: 'text/event-stream' } });
  expect(response.status).toBe(200);
  const body = response.body;
  if (!body) throw new Error('no body');
  const received: SseEvent[] = [];
  const queue: SseEvent[] = [];
  let wake: (() => void) | undefined;
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = block.split('\n');
          const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
          const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          if (!event) continue;
          const parsed = { event, data: JSON.parse(data) as unknown };
          received.push(parsed);
          queue.push(parsed);
          wake?.();
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    contentType: response.headers.get('content-type'),
    received,
    async next(predicate = () => true, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const index = queue.findIndex(predicate);
        if (index >= 0) {
          const [found] = queue.splice(0, index + 1).slice(-1);
          if (found) return found;
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no matching event in ${timeoutMs} ms; received: ${received.map((e) => e.event).join(', ')}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, left);
        });
      }
    },
    close: () => controller.abort(),
  };
}

let api: TestApi;
let base = '';

async function submit(): Promise<{ runId: string; ingest: StageJob }> {
  const response = await api.inject({ method: 'POST', url: '/v1/runs', headers: { 'content-type': 'application/yaml' }, payload: await readExampleYaml() });
  expect(response.statusCode, response.body).toBe(201);
  const runId = response.json<{ id: string }>().id;
  const rows = await api.db.select().from(outbox);
  const ingest = rows.map((r) => (r.payload as { job: StageJob }).job).find((j) => j.runId === runId && j.stageKey === 'ingest');
  if (!ingest) throw new Error('no ingest job');
  return { runId, ingest };
}

const at = () => new Date().toISOString();

beforeAll(async () => {
  api = await createTestApi();
  base = await api.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(() => api.close());

describe('GET /v1/runs/{id}/events', () => {
  it('answers 404 for an unknown run and 400 for a bad id, as JSON', async () => {
    expectApiError(await api.inject(`/v1/runs/${randomUUID()}/events`), 404, 'PW_ERR_RUN_NOT_FOUND');
    expectApiError(await api.inject('/v1/runs/nope/events'), 400, 'PW_ERR_VALIDATION');
  });

  it('sends the run and its metrics on connect, then each change the engine commits', async () => {
    const { runId, ingest } = await submit();
    const events = await openEvents(`${base}/v1/runs/${runId}/events`);
    try {
      expect(events.contentType).toMatch(/^text\/event-stream/);
      const first = (await events.next((e) => e.event === 'run')).data as { id: string; status: string; stages: { stage: string; status: string }[] };
      expect(first.id).toBe(runId);
      expect(first.status).toBe('QUEUED');
      expect(((await events.next((e) => e.event === 'metrics')).data as { series: unknown[] }).series).toEqual([]);

      // A worker's "started" applied by the engine: one transaction, notified at commit.
      await applyStageEvent(api.db, { type: 'stage.started', runId, stageRunId: ingest.stageRunId, attemptId: ingest.attemptId, at: at(), workerId: 'w1', host: 'h1' });
      const running = (await events.next((e) => e.event === 'run')).data as typeof first;
      expect(running.status).toBe('RUNNING');
      expect(running.stages.find((s) => s.stage === 'ingest')?.status).toBe('RUNNING');

      await applyStageEvent(api.db, { type: 'stage.progress', runId, stageRunId: ingest.stageRunId, attemptId: ingest.attemptId, at: at(), seq: 0, metrics: [{ name: 'loss', step: 1, value: 0.5 }] });
      const metrics = (await events.next((e) => e.event === 'metrics')).data as { series: { stage: string; name: string; points: { step: number; value: number }[] }[] };
      expect(metrics.series).toEqual([expect.objectContaining({ stage: 'ingest', name: 'loss', points: [expect.objectContaining({ step: 1, value: 0.5 })] })]);
    } finally {
      events.close();
    }
  });

  it('coalesces a burst of notifications into at most one send per 200 ms, and ignores other runs', async () => {
    const { runId } = await submit();
    const other = await submit();
    const events = await openEvents(`${base}/v1/runs/${runId}/events`);
    try {
      await events.next((e) => e.event === 'metrics');
      const before = events.received.length;
      // 30 notifications in about 30 ms, as a busy training stage would send.
      for (let i = 0; i < 30; i += 1) {
        await api.db.execute(sql`select pg_notify('pw_run_changed', ${JSON.stringify({ runId, change: 'metrics' })})`);
        await api.db.execute(sql`select pg_notify('pw_run_changed', ${JSON.stringify({ runId: other.runId, change: 'state' })})`);
      }
      await api.db.execute(sql`select pg_notify('pw_run_changed', 'not json')`);
      await new Promise((r) => setTimeout(r, 600));
      const burst = events.received.slice(before);
      expect(burst.every((e) => e.event === 'metrics')).toBe(true);
      // The leading send, then at most one per window for the rest of the burst.
      expect(burst.length).toBeGreaterThanOrEqual(1);
      expect(burst.length).toBeLessThanOrEqual(3);
    } finally {
      events.close();
    }
  });

  it('fans one change out to every client of the run', async () => {
    const { runId, ingest } = await submit();
    const a = await openEvents(`${base}/v1/runs/${runId}/events`);
    const b = await openEvents(`${base}/v1/runs/${runId}/events`);
    try {
      await a.next((e) => e.event === 'metrics');
      await b.next((e) => e.event === 'metrics');
      await applyStageEvent(api.db, { type: 'stage.started', runId, stageRunId: ingest.stageRunId, attemptId: ingest.attemptId, at: at(), workerId: 'w1', host: 'h1' });
      for (const reader of [a, b]) expect(((await reader.next((e) => e.event === 'run')).data as { status: string }).status).toBe('RUNNING');
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('GET /v1/events', () => {
  it('says ready, then sends the summary of each run whose state changes', async () => {
    const events = await openEvents(`${base}/v1/events`);
    try {
      await events.next((e) => e.event === 'ready');
      const { runId, ingest } = await submit();
      await applyStageEvent(api.db, { type: 'stage.started', runId, stageRunId: ingest.stageRunId, attemptId: ingest.attemptId, at: at(), workerId: 'w1', host: 'h1' });
      // The submit is announced too (QUEUED); the start follows within the coalescing window.
      const isRunning = (e: SseEvent) => e.event === 'run' && (e.data as { id: string; status: string }).id === runId && (e.data as { status: string }).status === 'RUNNING';
      const summary = (await events.next(isRunning)).data as { status: string; links: Record<string, string> };
      expect(summary.links.self).toBe(`/v1/runs/${runId}`);
    } finally {
      events.close();
    }
  });
});

describe('closing the app', () => {
  it('ends open streams instead of waiting for them', async () => {
    const own = await createTestApi();
    try {
      const url = await own.app.listen({ host: '127.0.0.1', port: 0 });
      const events = await openEvents(`${url}/v1/events`);
      await events.next((e) => e.event === 'ready');
      const started = Date.now();
      await own.app.close();
      expect(Date.now() - started).toBeLessThan(3000);
      events.close();
    } finally {
      await own.close();
    }
  });
});
