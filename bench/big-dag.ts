import { performance } from 'node:perf_hooks';
import { planPipeline } from '@pipewright/core';
import { builtinStages, createStageRegistry } from '@pipewright/stages';
import type { BenchContext, ResultRow } from './support/context.ts';
import { bigDagSpec } from './support/pipelines.ts';
import { ms, summarize } from './support/stats.ts';

/**
 * Big DAG: validate and plan a 10,000-stage pipeline (100 layers of 100; every stage after the
 * first layer is util.merge@1 binding two outputs of the layer before) with planPipeline, from a
 * JS object, after warm-up. In this process: pure CPU, no I/O.
 */
export async function bigDag(ctx: BenchContext): Promise<ResultRow[]> {
  const catalog = createStageRegistry(builtinStages);
  const warmups = ctx.options.quick ? 2 : 5;
  const reps = ctx.options.quick ? 5 : 15;
  const samples: number[] = [];
  for (let i = 0; i < warmups + reps; i += 1) {
    ctx.check();
    // A fresh object each time, as a request body would be.
    const spec = bigDagSpec();
    const t0 = performance.now();
    const result = planPipeline(spec, catalog);
    const elapsed = performance.now() - t0;
    if (!result.ok) throw new Error(`big DAG did not plan: ${JSON.stringify(result.problems.slice(0, 3))}`);
    if (result.plan.stages.length !== 10_000) throw new Error(`planned ${result.plan.stages.length} stages`);
    if (i >= warmups) samples.push(elapsed);
    await new Promise((r) => setImmediate(r));
  }
  const s = summarize(samples);
  ctx.log(`planPipeline 10,000 stages: p50 ${ms(s.p50)}, max ${ms(s.max)}`);
  return [
    {
      figure: 'big DAG: plan 10,000 stages (p50)',
      pipewright: ms(s.p50),
      baseline: '—',
      goal: '<= 200 ms',
      pass: s.p50 <= 200,
      notes: [`big DAG: planPipeline of 100 layers x 100 stages (19,800 data edges), ${reps} runs after ${warmups} warm-ups: p50 ${ms(s.p50)}, max ${ms(s.max)}`],
    },
  ];
}
