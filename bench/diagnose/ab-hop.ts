/**
 * Diagnostic: A/B of hop latency between code variants switched by environment variables the
 * code reads at run time (e.g. a prototype behind `process.env.X === '1'`), in ONE in-process
 * stack, alternating variants chain by chain so that they share the machine's noise.
 *
 *   tsx bench/diagnose/ab-hop.ts --variants 'base:;fast:PW_X=1,PW_Y=1' [--rounds 4] [--length 100]
 */
import { parseArgs } from 'node:util';
import { pipewrightChain } from '../hop-latency.ts';
import { BenchContext } from '../support/context.ts';
import { chainSpec } from '../support/pipelines.ts';
import { startPipewright, submit, waitRunEnded } from '../support/stack.ts';
import { ms, summarize } from '../support/stats.ts';

const { values } = parseArgs({ options: { variants: { type: 'string', default: 'base:' }, rounds: { type: 'string', default: '4' }, length: { type: 'string', default: '100' } } });
const variants = values.variants.split(';').map((v) => {
  const [name, env = ''] = v.split(':');
  return { name: name!, env: Object.fromEntries(env.split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string])) };
});
const allKeys = [...new Set(variants.flatMap((v) => Object.keys(v.env)))];
const ctx = new BenchContext('ab-hop', { quick: true, layout: 'inproc' });
try {
  const stack = await startPipewright(ctx, { label: 'abhop', layout: 'inproc', workers: 2 });
  await waitRunEnded(ctx, stack.pool, await submit(stack.url, chainSpec(10)), 60_000);
  const hops = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let r = 0; r < Number(values.rounds); r += 1) {
    for (const v of r % 2 === 0 ? variants : [...variants].reverse()) {
      for (const k of allKeys) delete process.env[k];
      Object.assign(process.env, v.env);
      const result = await pipewrightChain(ctx, stack, Number(values.length));
      hops.get(v.name)!.push(...result.hops.map((h) => h.total));
    }
  }
  for (const v of variants) {
    const s = summarize(hops.get(v.name)!);
    console.log(`${v.name.padEnd(12)} hops ${s.n}: p50 ${ms(s.p50)}, p90 ${ms(s.p90)}, p99 ${ms(s.p99)}, mean ${ms(s.mean)}`);
  }
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  await ctx.cleanup();
  process.exit();
}
