/**
 * Diagnostic: POST /v1/runs under load against an in-process API with timing spans on every
 * Postgres statement; prints where a submission's time goes, for one shared pipeline name and
 * for a new name per request. `tsx bench/diagnose/submit-trace.ts [--seconds 5]`
 */
import { parseArgs } from 'node:util';
import { statementTotals, tracer, transactions } from './trace-spans.ts';
import { BenchContext } from '../support/context.ts';
import { httpLoad } from '../support/http-load.ts';
import { tenStageSpec } from '../support/pipelines.ts';
import { startPipewright } from '../support/stack.ts';
import { ms, num, summarize } from '../support/stats.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' } } });
const ctx = new BenchContext('submit-trace', { quick: true, layout: 'inproc' });
try {
  const stack = await startPipewright(ctx, { label: 'subtrace', layout: 'inproc', workers: 0, orchestrator: false });
  let seq = 0;
  for (const [name, body] of [
    ['same name', () => JSON.stringify(tenStageSpec('bench-submit'))],
    ['new name each', () => JSON.stringify(tenStageSpec(`bench-submit-${(seq += 1)}`))],
  ] as const) {
    tracer.spans.length = 0;
    tracer.on = true;
    const cpu0 = process.cpuUsage();
    const r = await httpLoad({ url: `${stack.url}/v1/runs`, method: 'POST', body, connections: 10, seconds: Number(values.seconds), warmupSeconds: 1, expectStatus: 201 });
    const cpu = process.cpuUsage(cpu0);
    tracer.on = false;
    const s = summarize(r.latenciesMs);
    console.log(`\n${name}: ${num(r.rate)} runs/s, p50 ${ms(s.p50)}, p99 ${ms(s.p99)}; this process (API + load generator) CPU ${(((cpu.user + cpu.system) / 1000 / (r.seconds * 1000 + 1000)) * 100).toFixed(0)}% of a core`);
    const txs = transactions();
    for (const kind of ['submit', 'relay']) {
      const list = txs.filter((t) => t.kind === kind);
      if (!list.length) continue;
      const mean = (f: (t: (typeof list)[number]) => number) => ms(list.reduce((a, t) => a + f(t), 0) / list.length);
      console.log(`  ${kind} transactions: ${list.length}, mean ${mean((t) => t.t1 - t.t0)}, ${(list.reduce((a, t) => a + t.statements.length, 0) / list.length).toFixed(1)} statements, commit ${mean((t) => t.commitMs)}`);
    }
    console.log('  statement | n | mean ms | total s');
    for (const st of statementTotals().slice(0, 8)) console.log(`  ${st.what.slice(0, 90)} | ${st.n} | ${(st.totalMs / st.n).toFixed(2)} | ${(st.totalMs / 1000).toFixed(1)}`);
  }
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  await ctx.cleanup();
  process.exit();
}
