import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerKey } from '@pipewright/queue';
import { builtinStages } from '@pipewright/stages';
import { createTestApi, type TestApi } from '../test-app.ts';

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi();
});
afterAll(() => api.close());

describe('GET /v1/workers', () => {
  it('lists the workers whose heartbeat key is in Redis under this prefix, sorted by id', async () => {
    expect((await api.inject('/v1/workers')).json()).toEqual({ items: [] });
    const beat = (id: string) => ({ id, host: `host-${id}`, pid: 42, queues: ['stage-train-cpu'], backend: null, gpuCount: 0, version: '0.1.0', lastHeartbeatAt: new Date().toISOString() });
    // Written the way a worker writes its heartbeat (services/worker/src/start-worker.ts).
    await api.redis.set(workerKey(api.prefix, 'w-b'), JSON.stringify(beat('w-b')), 'PX', 60_000);
    await api.redis.set(workerKey(api.prefix, 'w-a'), JSON.stringify(beat('w-a')), 'PX', 60_000);
    // Another deployment's worker on the same Redis is not listed.
    await api.redis.set(workerKey(`${api.prefix}-other`, 'w-c'), JSON.stringify(beat('w-c')), 'PX', 60_000);
    try {
      const response = await api.inject('/v1/workers');
      expect(response.statusCode).toBe(200);
      expect(response.json<{ items: { id: string; host: string }[] }>().items.map((w) => [w.id, w.host])).toEqual([
        ['w-a', 'host-w-a'],
        ['w-b', 'host-w-b'],
      ]);
    } finally {
      await api.redis.del(workerKey(`${api.prefix}-other`, 'w-c'));
    }
  });
});

describe('GET /v1/stage-types', () => {
  it('lists every built-in stage type with its inputs, outputs and params JSON Schema', async () => {
    const response = await api.inject('/v1/stage-types');
    expect(response.statusCode).toBe(200);
    const items = response.json<{ items: { type: string; family: string; inputs: Record<string, string>; outputs: Record<string, string>; params: { type?: string; properties?: Record<string, unknown> } }[] }>().items;
    expect(items.map((t) => t.type).sort()).toEqual(builtinStages.map((s) => s.type).sort());
    const evaluate = items.find((t) => t.type === 'evaluate.classification@1');
    expect(evaluate).toMatchObject({ family: 'evaluate', inputs: { model: 'model', test: 'table' }, outputs: { report: 'json' } });
    expect(evaluate?.params.type).toBe('object');
    expect(Object.keys(evaluate?.params.properties ?? {})).toContain('threshold');
  });
});
