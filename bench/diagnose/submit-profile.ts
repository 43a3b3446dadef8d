/**
 * Diagnostic: CPU profile of the API process (services/api/src/main.ts, its own process, as in
 * the submission benchmark) under POST /v1/runs load with a new pipeline name per request, then
 * a summary of the profile. `tsx bench/diagnose/submit-profile.ts [--seconds 10] [--same-name] [--keep file.cpuprofile]`
 */
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { BenchContext, REPO_ROOT } from '../support/context.ts';
import { httpLoad } from '../support/http-load.ts';
import { tenStageSpec } from '../support/pipelines.ts';
import { freePort, spawnTs } from '../support/processes.ts';
import { REDIS_URL, waitFor } from '../support/context.ts';
import { createBenchDatabase } from '../support/databases.ts';
import { benchPrefix } from '../support/redis.ts';
import { ms, num, summarize } from '../support/stats.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, 'same-name': { type: 'boolean', default: false }, keep: { type: 'string' } } });
const ctx = new BenchContext('submit-profile', { quick: true, layout: 'procs' });
try {
  const db = await createBenchDatabase(ctx, 'subprof');
  const prefix = benchPrefix(ctx, 'subprof');
  const dir = await mkdtemp(join(tmpdir(), 'pw-prof-'));
  ctx.defer(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  const api = spawnTs(ctx, 'api', 'services/api/src/main.ts', {
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
    env: { DATABASE_URL: db.url, REDIS_URL, QUEUE_PREFIX: prefix, ARTIFACT_ROOT: dir, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn' },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor('api', async () => ((await fetch(`${url}/healthz`)).ok ? true : undefined), 60_000, 100).catch((e) => { throw new Error(`${String(e)}\n${api.output().slice(-3000)}`); });
  let seq = 0;
  const r = await httpLoad({
    url: `${url}/v1/runs`,
    method: 'POST',
    body: () => JSON.stringify(tenStageSpec(values['same-name'] ? 'bench-submit' : `bench-submit-${(seq += 1)}`)),
    connections: 10,
    seconds: Number(values.seconds),
    warmupSeconds: 2,
    expectStatus: 201,
  });
  const s = summarize(r.latenciesMs);
  console.log(`${num(r.rate)} runs/s, p50 ${ms(s.p50)}, p99 ${ms(s.p99)}`);
  await api.stop(20_000);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  const main = files.map((f) => join(dir, f)).sort()[0];
  // --keep <file>: keep the profile for a closer look (the temp dir is removed at exit).
  if (main && values.keep) await copyFile(main, values.keep);
  if (main) console.log(execFileSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'bench/diagnose/summarize-profile.ts'), main, '25'], { encoding: 'utf8' }));
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  await ctx.cleanup();
  process.exit();
}
