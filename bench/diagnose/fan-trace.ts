/**
 * Diagnostic: one fan-out run (root -> N -> join) through the in-process stack with timing spans;
 * prints where the orchestrator's time goes per statement shape, per transaction kind, and the
 * CPU used by this process, Postgres and Redis. With `--profile FILE`, a V8 CPU profile of the
 * run alone (not the start-up) goes to FILE, for `summarize-profile.ts`; `--no-trace` leaves the
 * spans out; `--foreach` fans out at run time (a foreach over a list of `width` items) instead.
 * `tsx bench/diagnose/fan-trace.ts [--width 1000] [--foreach] [--profile f.cpuprofile] [--no-trace]`
 */
import { startCpuProfile } from './cpu-profile.ts';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { serverCpuMs, statementTotals, tracer, transactions } from './trace-spans.ts';
import { BenchContext } from '../support/context.ts';
import { fanSpec, foreachSpec } from '../support/pipelines.ts';
import { startPipewright, submit, waitRunEnded } from '../support/stack.ts';

const { values } = parseArgs({ options: { width: { type: 'string', default: '1000' }, foreach: { type: 'boolean', default: false }, profile: { type: 'string' }, 'no-trace': { type: 'boolean', default: false } } });
const width = Number(values.width);
const spec = values.foreach ? foreachSpec : fanSpec;
const ctx = new BenchContext('fan-trace', { quick: true, layout: 'inproc' });
try {
  const stack = await startPipewright(ctx, { label: 'fantrace', layout: 'inproc', workers: 2 });
  await waitRunEnded(ctx, stack.pool, await submit(stack.url, spec(10)), 60_000);
  const cpu0 = process.cpuUsage();
  const s0 = await serverCpuMs();
  const profiling = values.profile ? await startCpuProfile(values.profile) : undefined;
  const w0 = performance.now();
  tracer.on = !values['no-trace'];
  const runId = await submit(stack.url, spec(width));
  await waitRunEnded(ctx, stack.pool, runId, 900_000, 50);
  tracer.on = false;
  const wall = performance.now() - w0;
  await profiling?.stop();
  const cpu = process.cpuUsage(cpu0);
  const s1 = await serverCpuMs();
  console.log(`1 -> ${width}${values.foreach ? ' (foreach)' : ''} -> 1: wall ${(wall / 1000).toFixed(1)} s; CPU: this process ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s, postgres ${((s1.postgres - s0.postgres) / 1000).toFixed(1)} s, redis ${((s1.redis - s0.redis) / 1000).toFixed(1)} s`);
  console.log('\nstatement | n | total s | mean ms | rows returned');
  for (const s of statementTotals().slice(0, 15)) console.log(`${s.what} | ${s.n} | ${(s.totalMs / 1000).toFixed(2)} | ${(s.totalMs / s.n).toFixed(2)} | ${s.rows}`);
  const txs = transactions();
  // The fan-out's serial start: from the submit to the first middle stage's handler, what took
  // longer than half a millisecond (the root's apply, its write statement, the first addBulk).
  const spans = [...tracer.spans].sort((a, b) => a.t0 - b.t0);
  const starts = spans.filter((x) => x.what === 'handler start');
  const firstMiddle = starts[1];
  if (firstMiddle) {
    console.log('\nfrom the submit to the first middle stage starting: ms after the submit, duration, what');
    for (const x of spans.filter((x) => x.t0 <= firstMiddle.t0 && (x.t1 - x.t0 >= 0.5 || x.what.startsWith('handler')))) {
      console.log(`${(x.t0 - w0).toFixed(1)} | ${(x.t1 - x.t0).toFixed(1)} | ${x.what.slice(0, 90)}`);
    }
  }
  console.log('\ntransaction kind | n | mean ms | mean lock wait ms | mean commit ms');
  for (const kind of [...new Set(txs.map((t) => t.kind))]) {
    const list = txs.filter((t) => t.kind === kind);
    const avg = (f: (t: (typeof list)[number]) => number) => (list.reduce((a, t) => a + f(t), 0) / list.length).toFixed(2);
    console.log(`${kind} | ${list.length} | ${avg((t) => t.t1 - t.t0)} | ${avg((t) => t.lockMs)} | ${avg((t) => t.commitMs)}`);
  }
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  await ctx.cleanup();
  process.exit();
}
