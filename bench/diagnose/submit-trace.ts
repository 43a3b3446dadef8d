/**
 * Diagnostic (not part of `npm run bench`): the submission benchmark's load against an API in
 * this process, with a V8 CPU profile of the load alone (`--profile FILE`, for
 * `summarize-profile.ts`): where a submit's CPU goes. The profile includes the load generator.
 * `tsx bench/diagnose/submit-trace.ts [--seconds 10] [--profile f.cpuprofile]`
 */
import { parseArgs } from 'node:util';
import { startCpuProfile } from './cpu-profile.ts';
import { BenchContext } from '../support/context.ts';
import { httpLoad } from '../support/http-load.ts';
import { tenStageSpec } from '../support/pipelines.ts';
import { startPipewright } from '../support/stack.ts';
import { ms, num, summarize } from '../support/stats.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, profile: { type: 'string' } } });
const ctx = new BenchContext('submit-trace', { quick: true, layout: 'inproc' });
try {
  const stack = await startPipewright(ctx, { label: 'submittrace', layout: 'inproc', workers: 0, orchestrator: false });
  const body = JSON.stringify(tenStageSpec('bench-submit'));
  await httpLoad({ url: `${stack.url}/v1/runs`, method: 'POST', body, connections: 10, seconds: 2, warmupSeconds: 1, expectStatus: 201 });
  const profiling = values.profile ? await startCpuProfile(values.profile) : undefined;
  const cpu0 = process.cpuUsage();
  const runs = await httpLoad({ url: `${stack.url}/v1/runs`, method: 'POST', body, connections: 10, seconds: Number(values.seconds), warmupSeconds: 0, expectStatus: 201 });
  const cpu = process.cpuUsage(cpu0);
  await profiling?.stop();
  const r = summarize(runs.latenciesMs);
  console.log(`POST /v1/runs ${num(runs.rate)}/s p50 ${ms(r.p50)} p99 ${ms(r.p99)}; this process (API and load) ${(((cpu.user + cpu.system) / 1e6 / Number(values.seconds)) * 100).toFixed(0)}% of a core`);
} catch (e) {
  console.error(e);
} finally {
  await ctx.cleanup();
  process.exit(0);
}
