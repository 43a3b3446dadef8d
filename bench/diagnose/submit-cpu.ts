/**
 * Diagnostic: API CPU time per submitted run. On a shared machine the rate and latency of the
 * submission benchmark move with other processes' load; the API process's own CPU per request
 * moves much less, so A/B comparisons of API-side changes read this figure.
 * `tsx bench/diagnose/submit-cpu.ts [--seconds 10] [--rounds 2] [--new-names]`
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BenchContext, REDIS_URL, waitFor } from '../support/context.ts';
import { createBenchDatabase } from '../support/databases.ts';
import { httpLoad } from '../support/http-load.ts';
import { tenStageSpec } from '../support/pipelines.ts';
import { cpuMsOf, freePort, spawnTs } from '../support/processes.ts';
import { benchPrefix } from '../support/redis.ts';
import { ms, num, summarize } from '../support/stats.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, rounds: { type: 'string', default: '2' }, 'new-names': { type: 'boolean', default: false } } });
const ctx = new BenchContext('submit-cpu', { quick: true, layout: 'procs' });
try {
  const db = await createBenchDatabase(ctx, 'subcpu');
  const prefix = benchPrefix(ctx, 'subcpu');
  const dir = await mkdtemp(join(tmpdir(), 'pw-subcpu-'));
  ctx.defer(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  const api = spawnTs(ctx, 'api', 'services/api/src/main.ts', {
    env: { DATABASE_URL: db.url, REDIS_URL, QUEUE_PREFIX: prefix, ARTIFACT_ROOT: dir, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn' },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor('api', async () => ((await fetch(`${url}/healthz`)).ok ? true : undefined), 60_000, 100).catch((e) => { throw new Error(`${String(e)}\n${api.output().slice(-3000)}`); });
  let seq = 0;
  const body = () => JSON.stringify(tenStageSpec(values['new-names'] ? `bench-submit-${(seq += 1)}` : 'bench-submit'));
  // Warm-up outside the measured window: JIT, pools, the pipeline version row.
  await httpLoad({ url: `${url}/v1/runs`, method: 'POST', body, connections: 10, seconds: 3, expectStatus: 201 });
  for (let round = 1; round <= Number(values.rounds); round += 1) {
    const cpu0 = await cpuMsOf(api.pid);
    const r = await httpLoad({ url: `${url}/v1/runs`, method: 'POST', body, connections: 10, seconds: Number(values.seconds), expectStatus: 201 });
    const cpu = (await cpuMsOf(api.pid)) - cpu0;
    const s = summarize(r.latenciesMs);
    console.log(`round ${round}: ${num(r.rate)} runs/s, p50 ${ms(s.p50)}, p99 ${ms(s.p99)}, errors ${r.errors}; API CPU ${(cpu / r.ok).toFixed(2)} ms per run (${((cpu / 1000 / r.seconds) * 100).toFixed(0)}% of a core)`);
  }
  await api.stop(20_000);
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  await ctx.cleanup();
  process.exit();
}
