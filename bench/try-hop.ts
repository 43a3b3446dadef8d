import { BenchContext } from '/work/main/bench/support/context.ts';
import { hopLatency } from '/work/main/bench/hop-latency.ts';
const ctx = new BenchContext('hop', { quick: process.argv.includes('--quick'), layout: (process.argv.includes('--procs') ? 'procs' : 'inproc') });
try { console.log(JSON.stringify(await hopLatency(ctx), null, 1)); } finally { await ctx.cleanup(); }
