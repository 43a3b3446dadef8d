import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifacts, attempts, eq, executeRows, lineageEdges, metrics, runs, sql, stageRuns } from '@pipewright/db';
import { openRedis, readEventStreamStats } from '@pipewright/queue';
import { cleanupRedisPrefix, createTestDatabase, testQueuePrefix, testRedisUrl, type TestDatabase } from '@pipewright/testing';
import { freePort, REPO_ROOT, startServiceProcess, waitFor, type ServiceProcess } from '../support/service-process.ts';

/**
 * Chaos: the API, two orchestrators and three workers as OS processes; runs are submitted for
 * `CHAOS_MS` while a driver SIGKILLs a random worker or orchestrator about every second (and
 * restarts it), and wipes Redis once halfway. Afterwards every run must have SUCCEEDED with
 * exactly one applied success per stage, nothing duplicated, and no job left in any queue.
 */
const CHAOS_MS = Number(process.env['PW_CHAOS_MS'] ?? 60_000);
const RUNS = Number(process.env['PW_CHAOS_RUNS'] ?? 50);

const util = (extra: Record<string, unknown>) => ({ sleepMs: 250, metricPoints: 3, ...extra });
/** src -> t1..t4 (fan-out) -> m1(t1,t2), m2(t3,t4) -> final(m1,m2) (fan-in): 8 stages. */
const spec = (i: number) => ({
  apiVersion: 'pipewright/v1',
  name: 'chaos-dag',
  cache: false,
  stages: [
    { id: 'src', uses: 'util.noop@1', with: util({ label: `run-${i}` }) },
    ...[1, 2, 3, 4].map((k) => ({ id: `t${k}`, uses: 'util.transform@1', needs: ['src'], inputs: { in: 'src.out' }, with: util({}) })),
    { id: 'm1', uses: 'util.merge@1', needs: ['t1', 't2'], inputs: { a: 't1.out', b: 't2.out' }, with: util({}) },
    { id: 'm2', uses: 'util.merge@1', needs: ['t3', 't4'], inputs: { a: 't3.out', b: 't4.out' }, with: util({}) },
    { id: 'final', uses: 'util.merge@1', needs: ['m1', 'm2'], inputs: { a: 'm1.out', b: 'm2.out' }, with: util({}) },
  ].map((s) => ({ ...s, retry: { attempts: 25, backoff: 'exponential', delayMs: 200, maxDelayMs: 2000 } })),
});
const STAGES = 8;
const INPUTS = 4 * 1 + 3 * 2;

describe('chaos: SIGKILLed workers and orchestrators, a wiped Redis', () => {
  let database: TestDatabase;
  let artifactRoot: string;
  const prefix = testQueuePrefix();
  const redisUrl = testRedisUrl();
  const live = new Map<string, ServiceProcess>();
  let generation = 0;
  let api = '';
  let common: Record<string, string> = {};

  const start = (role: 'orchestrator' | 'worker', slot: number) => {
    generation += 1;
    const name = `${role}-${slot}`;
    const proc =
      role === 'orchestrator'
        ? startServiceProcess(name, 'services/orchestrator/src/main.ts', { ...common, DATABASE_URL: database.url, RECONCILE_INTERVAL_MS: '500', RECONCILE_GRACE_MS: '1500', LOG_LEVEL: 'warn' })
        : startServiceProcess(name, 'services/worker/src/main.ts', {
            ...common,
            WORKER_ID: `chaos-${name}-g${generation}`,
            WORKER_HEARTBEAT_MS: '500',
            WORKER_CONCURRENCY: '4',
            TF_BACKEND: 'cpu',
            LOG_LEVEL: 'warn',
          }, ['--queues', 'cpu']);
    live.set(name, proc);
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    artifactRoot = await mkdtemp(join(tmpdir(), 'pw-chaos-'));
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    common = { REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, ARTIFACT_ROOT: artifactRoot, DATA_ROOT: REPO_ROOT };
    live.set('api', startServiceProcess('api', 'services/api/src/main.ts', { ...common, DATABASE_URL: database.url, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' }));
    for (const slot of [1, 2]) start('orchestrator', slot);
    for (const slot of [1, 2, 3]) start('worker', slot);
    await waitFor('the API', async () => ((await fetch(`${api}/readyz`).catch(() => undefined))?.ok ? true : undefined), 60_000);
  });

  afterAll(async () => {
    await Promise.all([...live.values()].map((p) => p.stop(2000)));
    await cleanupRedisPrefix(redisUrl, prefix);
    await database?.drop();
    if (artifactRoot) await rm(artifactRoot, { recursive: true, force: true });
  });

  it(`completes ${RUNS} runs through ${CHAOS_MS / 1000} s of kill -9 and a Redis wipe`, async () => {
    const t0 = Date.now();
    const runIds: string[] = [];
    let kills = 0;
    let wiped = false;
    const submitEvery = CHAOS_MS / RUNS;
    let nextSubmit = t0;
    let nextKill = t0 + 1000;

    while (Date.now() - t0 < CHAOS_MS || runIds.length < RUNS) {
      const now = Date.now();
      if (runIds.length < RUNS && now >= nextSubmit) {
        const response = await fetch(`${api}/v1/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(spec(runIds.length)) });
        const body = (await response.json()) as { id: string };
        expect(response.status, JSON.stringify(body)).toBe(201);
        runIds.push(body.id);
        nextSubmit += submitEvery;
      }
      if (now - t0 < CHAOS_MS && now >= nextKill) {
        const victims = [...live.keys()].filter((k) => k !== 'api');
        const victim = victims[Math.floor(Math.random() * victims.length)] ?? 'worker-1';
        live.get(victim)?.kill('SIGKILL');
        kills += 1;
        const [role, slot] = victim.split('-') as ['orchestrator' | 'worker', string];
        start(role, Number(slot));
        nextKill = now + 700 + Math.random() * 600;
      }
      if (!wiped && now - t0 >= CHAOS_MS / 2) {
        // Redis loses everything of ours: queued jobs, jobs in flight, events not yet applied.
        await cleanupRedisPrefix(redisUrl, prefix);
        wiped = true;
      }
      await new Promise((r) => setTimeout(r, 50));
    }

    const db = database.handle.db;
    const ended = await waitFor(
      'every run to end',
      async () => {
        const rows = await db.select({ id: runs.id, status: runs.status }).from(runs);
        return rows.length === RUNS && rows.every((r) => ['SUCCEEDED', 'FAILED', 'CANCELED'].includes(r.status)) ? rows : undefined;
      },
      120_000,
      500,
    ).catch(async (error: unknown) => {
      const stuck = await executeRows(db, sql`select s.stage_key, s.status, count(*)::int as n from stage_runs s join runs r on r.id = s.run_id where r.status not in ('SUCCEEDED') group by 1, 2 order by 1`);
      throw new Error(`${String(error)}\nstages of unfinished runs: ${JSON.stringify(stuck)}\n${[...live.values()].map((p) => `--- ${p.name}\n${p.output().slice(-3000)}`).join('\n')}`);
    });
    const wallMs = Date.now() - t0;

    // Every run SUCCEEDED, and every stage of it.
    expect(ended.filter((r) => r.status !== 'SUCCEEDED')).toEqual([]);
    const stageRows = await db.select().from(stageRuns);
    expect(stageRows).toHaveLength(RUNS * STAGES);
    expect(stageRows.filter((s) => s.status !== 'SUCCEEDED')).toEqual([]);

    // Exactly one applied success per stage, and it is the stage's current attempt.
    const attemptRows = await db.select().from(attempts);
    const successes = attemptRows.filter((a) => a.status === 'SUCCEEDED');
    expect(successes).toHaveLength(RUNS * STAGES);
    const byStage = new Map(successes.map((a) => [a.stageRunId, a]));
    expect(byStage.size).toBe(RUNS * STAGES);
    for (const s of stageRows) expect(byStage.get(s.id)?.number).toBe(s.attemptCount);

    // No artifact, lineage edge or metric point twice; artifacts only from applied successes.
    const artifactRows = await db.select().from(artifacts);
    expect(artifactRows).toHaveLength(RUNS * STAGES);
    expect(artifactRows.every((a) => byStage.get(a.producedByStageRunId)?.id === a.producedByAttemptId)).toBe(true);
    const successIds = new Set(successes.map((a) => a.id));
    const edges = await db.select().from(lineageEdges);
    const successEdges = edges.filter((e) => successIds.has(e.consumerAttemptId));
    expect(successEdges).toHaveLength(RUNS * INPUTS);
    expect(new Set(edges.map((e) => `${e.consumerAttemptId}/${e.inputName}`)).size).toBe(edges.length);
    const points = await db.select().from(metrics).where(eq(metrics.kind, 'series'));
    expect(new Set(points.map((m) => `${m.attemptId}/${m.name}/${m.step}`)).size).toBe(points.length);
    for (const a of successes) {
      const steps = points.filter((m) => m.attemptId === a.id).map((m) => m.step).sort((x, y) => x - y);
      expect(steps).toEqual([1, 2, 3]);
    }

    // Nothing left in any queue or in the events stream. A job a killed worker held stays
    // 'active' until its lock expires and a live worker's stalled check removes it (lockDuration
    // + stalledInterval); an event a killed orchestrator held, until a live one claims it.
    const connection = openRedis(redisUrl);
    const queueNames = [...new Set(attemptRows.map((a) => a.queue))];
    const leftovers = async () => {
      const left: Record<string, unknown>[] = [];
      const stream = await readEventStreamStats(connection, prefix);
      if (stream.waiting + stream.active > 0) left.push({ name: 'events', ...stream });
      for (const name of queueNames) {
        const queue = new Queue(name, { connection, prefix });
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed', 'paused', 'completed');
        await queue.close();
        if (Object.values(counts).some((n) => n > 0)) left.push({ name, ...counts });
      }
      return left;
    };
    try {
      await waitFor('the queues to be empty', async () => ((await leftovers()).length === 0 ? true : undefined), 60_000, 1000).catch(async () => {
        expect(await leftovers()).toEqual([]);
      });
    } finally {
      connection.disconnect();
    }

    const lost = attemptRows.filter((a) => a.status === 'LOST').length;
    const report = { runs: RUNS, stagesPerRun: STAGES, kills, redisWiped: wiped, attempts: attemptRows.length, lostAttempts: lost, wallSeconds: wallMs / 1000 };
    await mkdir(join(REPO_ROOT, 'test-output'), { recursive: true });
    await writeFile(join(REPO_ROOT, 'test-output', 'chaos-report.json'), `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`chaos: ${JSON.stringify(report)}\n`);
    expect(kills).toBeGreaterThanOrEqual(Math.floor(CHAOS_MS / 1300));
  });
});
