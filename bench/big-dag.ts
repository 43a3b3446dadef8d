import type { BenchContext, ResultRow } from './support/context.ts';
import { spawnTs } from './support/processes.ts';
import { ms, summarize } from './support/stats.ts';

/**
 * Big DAG: validate and plan a 10,000-stage pipeline (100 layers of 100; every stage after the
 * first layer is util.merge@1 binding two outputs of the layer before) with planPipeline, from a
 * JS object, after warm-up, in a child process of its own (pure CPU, no I/O, a fresh heap).
 * Reports wall time (the goal) and the CPU time of the same calls (less sensitive to a busy machine).
 */
export async function bigDag(ctx: BenchContext): Promise<ResultRow[]> {
  const warmups = ctx.options.quick ? 3 : 5;
  const reps = ctx.options.quick ? 5 : 15;
  const child = spawnTs(ctx, 'plan-big-dag', 'bench/support/plan-big-dag.ts', { env: { WARMUPS: String(warmups), REPS: String(reps) } });
  const line = await child.waitForOutput(/^\{"stages"/, 110_000);
  const { stages, wall, cpu } = JSON.parse(line) as { stages: number; wall: number[]; cpu: number[] };
  if (stages !== 10_000) throw new Error(`planned ${stages} stages`);
  const w = summarize(wall);
  const c = summarize(cpu);
  ctx.log(`planPipeline 10,000 stages: p50 ${ms(w.p50)} wall, ${ms(c.p50)} CPU; max ${ms(w.max)}`);
  return [
    {
      figure: 'big DAG: plan 10,000 stages (p50)',
      pipewright: ms(w.p50),
      baseline: '—',
      goal: '<= 200 ms',
      pass: w.p50 <= 200,
      notes: [`big DAG: planPipeline of 100 layers x 100 stages (19,800 data edges) in a child process, ${reps} runs after ${warmups} warm-ups: wall p50 ${ms(w.p50)}, max ${ms(w.max)}; CPU time of the same calls p50 ${ms(c.p50)}`],
    },
  ];
}
