import type { BenchContext, ResultRow } from './support/context.ts';
import { httpLoad } from './support/http-load.ts';
import { tenStageSpec } from './support/pipelines.ts';
import { cpuMsOf } from './support/processes.ts';
import { startPipewright } from './support/stack.ts';
import { ms, num, summarize } from './support/stats.ts';

/**
 * Submission: POST /v1/runs of the 10-stage pipeline (JSON) under concurrent load, against the
 * same API process answering GET /healthz under the same load. The API runs as its own process
 * (services/api/src/main.ts); the load generator (closed loop, keep-alive, like autocannon -c)
 * runs in this process. No orchestrator or workers: the submitted runs' first stages are
 * published to Redis by the API's relay and left there.
 */
export async function submission(ctx: BenchContext): Promise<ResultRow[]> {
  const connections = 10;
  const seconds = ctx.options.quick ? 5 : 15;
  const warmupSeconds = ctx.options.quick ? 2 : 3;
  const stack = await startPipewright(ctx, { label: 'submit', layout: 'procs', workers: 0, orchestrator: false });
  const api = stack.processes.find((p) => p.name === 'api')!;
  const body = JSON.stringify(tenStageSpec('bench-submit'));

  const cpuH0 = await cpuMsOf(api.pid);
  const health = await httpLoad({ url: `${stack.url}/healthz`, method: 'GET', connections, seconds, warmupSeconds, expectStatus: 200 });
  const cpuH1 = await cpuMsOf(api.pid);
  const runs = await httpLoad({ url: `${stack.url}/v1/runs`, method: 'POST', body, connections, seconds, warmupSeconds, expectStatus: 201 });
  const cpuR1 = await cpuMsOf(api.pid);
  // Diagnostic: the same pipeline under a new name per request (no shared per-name lock).
  let seq = 0;
  const unique = await httpLoad({
    url: `${stack.url}/v1/runs`,
    method: 'POST',
    body: () => JSON.stringify(tenStageSpec(`bench-submit-${(seq += 1)}`)),
    connections,
    seconds: Math.min(seconds, 5),
    warmupSeconds: 1,
    expectStatus: 201,
  });
  const u = summarize(unique.latenciesMs);
  const h = summarize(health.latenciesMs);
  const r = summarize(runs.latenciesMs);
  ctx.log(`healthz ${num(health.rate)}/s p99 ${ms(h.p99)}; POST /v1/runs ${num(runs.rate)}/s p50 ${ms(r.p50)} p99 ${ms(r.p99)} (${runs.errors} errors)`);
  const ratio = runs.rate / health.rate;
  const apiCpu = (cpuR1 - cpuH1) / 1000 / (seconds + warmupSeconds);
  const apiCpuHealth = (cpuH1 - cpuH0) / 1000 / (seconds + warmupSeconds);
  return [
    {
      figure: 'submission rate (POST /v1/runs, 10 stages)',
      pipewright: `${num(runs.rate)} runs/s`,
      baseline: `${num(health.rate)} req/s (GET /healthz)`,
      ratio,
      goal: '>= 0.25',
      pass: ratio >= 0.25,
      notes: [
        `submission: ${connections} keep-alive connections, ${seconds} s after ${warmupSeconds} s warm-up, API as its own process; POST p50 ${ms(r.p50)}, p90 ${ms(r.p90)}, p99 ${ms(r.p99)}, errors ${runs.errors}; healthz p50 ${ms(h.p50)}, p99 ${ms(h.p99)}; API process CPU ${(apiCpu * 100).toFixed(0)}% of a core while submitting, ${(apiCpuHealth * 100).toFixed(0)}% for healthz; load generator CPU ${runs.generatorCpu.toFixed(0)}% / ${health.generatorCpu.toFixed(0)}%`,
        `submission, diagnostic: with a new pipeline name per request (no two submits share the per-name advisory lock): ${num(unique.rate)} runs/s, p50 ${ms(u.p50)}, p99 ${ms(u.p99)}`,
      ],
    },
    { figure: 'submission p99', pipewright: ms(r.p99), baseline: `${ms(h.p99)} (healthz p99)`, ratio: r.p99 / h.p99, goal: '<= 50 ms', pass: r.p99 <= 50 },
  ];
}
