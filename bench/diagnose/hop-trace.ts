/**
 * Diagnostic (not part of `npm run bench`): 100-stage chains through the in-process stack with
 * timing spans around every Postgres statement (grouped into transactions per connection), every
 * BullMQ add, every event publish and the stage handler; prints the critical path of a hop,
 * segment by segment. Spans cost a little time themselves: compare segments, not totals.
 * With `--profile FILE`, a V8 CPU profile of the chains alone goes to FILE (`summarize-profile.ts`).
 * `tsx bench/diagnose/hop-trace.ts [--chains 3] [--profile f.cpuprofile]`
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startCpuProfile } from './cpu-profile.ts';
import { tracer, transactions, type Span } from './trace-spans.ts';
import { BenchContext } from '../support/context.ts';
import { chainSpec } from '../support/pipelines.ts';
import { startPipewright, submit, waitRunEnded } from '../support/stack.ts';
import { ms, summarize } from '../support/stats.ts';

const { values } = parseArgs({ options: { chains: { type: 'string', default: '3' }, profile: { type: 'string' } } });
const chains = Number(values.chains);
const ctx = new BenchContext('hop-trace', { quick: true, layout: 'inproc' });
try {
  const stack = await startPipewright(ctx, { label: 'trace', layout: 'inproc', workers: 2 });
  await waitRunEnded(ctx, stack.pool, await submit(stack.url, chainSpec(10)), 60_000);
  const segments: Record<string, number[]> = {};
  const add = (k: string, v: number) => (segments[k] ??= []).push(v);
  let cpuTotal = 0;
  let wallTotal = 0;
  const profiling = values.profile ? await startCpuProfile(values.profile) : undefined;
  for (let c = 0; c < chains; c += 1) {
    tracer.spans.length = 0;
    const cpu0 = process.cpuUsage();
    const w0 = performance.now();
    tracer.on = true;
    await waitRunEnded(ctx, stack.pool, await submit(stack.url, chainSpec(100)), 120_000);
    tracer.on = false;
    const cpu = process.cpuUsage(cpu0);
    cpuTotal += (cpu.user + cpu.system) / 1000;
    wallTotal += performance.now() - w0;
    const txs = transactions();
    const sorted = [...tracer.spans].sort((a, b) => a.t0 - b.t0);
    const after = (pred: (s: Span) => boolean, t: number) => sorted.find((s) => s.t0 >= t && pred(s));
    for (const end of sorted.filter((s) => s.what === 'handler end')) {
      const pub = after((s) => s.what === 'publish stage.succeeded', end.t0);
      const apply = txs.find((t) => t.kind === 'apply succeeded' && t.t0 >= end.t0);
      if (!pub || !apply) continue;
      // The apply publishes the stage jobs it made due right after its commit (one addBulk).
      const bulk = after((s) => s.what.startsWith('addBulk'), apply.t1 - 0.01);
      // A quick stage announces no start (its result carries it): its handler starting marks it.
      const started = bulk && after((s) => s.what === 'handler start', bulk.t0);
      if (!bulk || !started) continue;
      const overlapping = txs.find((t) => t.kind === 'apply started' && t.t0 < apply.t0 + 0.5 && t.t1 > apply.t0);
      add('1 publish succeeded event (XADD)', pub.t1 - end.t0);
      // In one process the orchestrator's XREADGROUP can return before the XADD's reply does.
      add('2 events stream pick-up (from the XADD reply; may be negative)', apply.t0 - pub.t1);
      add(`3 apply transaction (${apply.statements.length} statements + commit)`, apply.t1 - apply.t0);
      add('3a  of which select run for update (lock wait)', apply.lockMs);
      add('3b  of which commit', apply.commitMs);
      add('3c  an apply-started tx held the run lock (share)', overlapping ? 1 : 0);
      add('4 commit -> publish after commit begins', bulk.t0 - apply.t1);
      add('5 addBulk of the next stage job', bulk.t1 - bulk.t0);
      add('6 addBulk done -> next handler starts (BullMQ pick-up)', started.t0 - bulk.t1);
      add('total: handler end -> next started', started.t0 - end.t0);
    }
  }
  await profiling?.stop();
  console.log(`${chains} chains of 100: wall ${ms(wallTotal / chains / 100)} per stage; this process' CPU ${((cpuTotal / wallTotal) * 100).toFixed(0)}% of one core`);
  console.log('segment | p50 | mean | p90');
  for (const [k, v] of Object.entries(segments).sort()) {
    const s = summarize(v);
    console.log(`${k} | ${k.includes('share') ? `${(s.mean * 100).toFixed(0)}%` : ms(s.p50)} | ${k.includes('share') ? '' : ms(s.mean)} | ${k.includes('share') ? '' : ms(s.p90)}`);
  }
  const txAll = transactions();
  console.log('\nstatements of the apply-succeeded transaction (mean ms each, in order):');
  const applies = txAll.filter((t) => t.kind === 'apply succeeded');
  const shapes = new Map<string, number[]>();
  for (const t of applies) for (const st of t.statements) (shapes.get(st.what.slice(0, 90)) ?? shapes.set(st.what.slice(0, 90), []).get(st.what.slice(0, 90))!).push(st.t1 - st.t0);
  for (const [what, list] of shapes) console.log(`  ${(list.reduce((a, b) => a + b, 0) / list.length).toFixed(2).padStart(6)}  x${(list.length / applies.length).toFixed(1)}  ${what}`);
  console.log('\ntransaction kind | n | mean ms | mean lock wait ms | mean commit ms');
  for (const kind of [...new Set(txAll.map((t) => t.kind))]) {
    const list = txAll.filter((t) => t.kind === kind);
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
