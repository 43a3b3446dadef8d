/**
 * Child process of the big DAG benchmark (a fresh heap, nothing else running in it): plans the
 * 10,000-stage spec WARMUPS + REPS times and prints one JSON line with the wall and CPU time of
 * each measured planPipeline call.
 */
import { performance } from 'node:perf_hooks';
import { planPipeline } from '@pipewright/core';
import { builtinStages, createStageRegistry } from '@pipewright/stages';
import { bigDagSpec } from './pipelines.ts';

const warmups = Number(process.env['WARMUPS'] ?? 5);
const reps = Number(process.env['REPS'] ?? 15);
const catalog = createStageRegistry(builtinStages);
const wall: number[] = [];
const cpu: number[] = [];
let stages = 0;
for (let i = 0; i < warmups + reps; i += 1) {
  // A fresh object each time, as a request body would be.
  const spec = bigDagSpec();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const result = planPipeline(spec, catalog);
  const elapsed = performance.now() - t0;
  const used = process.cpuUsage(c0);
  if (!result.ok) throw new Error(`big DAG did not plan: ${JSON.stringify(result.problems.slice(0, 3))}`);
  stages = result.plan.stages.length;
  if (i >= warmups) {
    wall.push(elapsed);
    cpu.push((used.user + used.system) / 1000);
  }
}
process.stdout.write(`${JSON.stringify({ stages, wall, cpu })}\n`);
