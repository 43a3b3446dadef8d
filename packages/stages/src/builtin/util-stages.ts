import { z } from 'zod';
import { StageError, type ArtifactRef } from '@pipewright/core';
import { defineStage, type StageContext } from '../define-stage.ts';
import { writeJson } from '../json-io.ts';

/**
 * Utility stages with no ML in them: for wiring tests, chaos tests and benchmarks of the
 * orchestrator itself (hop latency, fan-out), and for trying failure handling from the API or
 * the dashboard. Each writes a small JSON artifact naming what it consumed, so lineage is real.
 */
const behaviour = {
  /** Sleep this long (in slices of at most 50 ms, checking the abort signal). */
  sleepMs: z.number().int().min(0).max(3_600_000).default(0),
  /** Report this many points of a `progress` metric, spread over the sleep. */
  metricPoints: z.number().int().min(0).max(10_000).default(0),
  /** Fail every attempt up to and including this number (0 = never fail). */
  failUntilAttempt: z.number().int().min(0).default(0),
  /** Whether those failures may be retried by the retry policy. */
  failRetryable: z.boolean().default(true),
  /** Free-form value copied into the output (makes outputs differ when it differs). */
  label: z.string().max(200).optional(),
};
const paramsSchema = z.object(behaviour).strict();
type UtilParams = z.output<typeof paramsSchema>;

async function behave(ctx: StageContext<UtilParams>): Promise<void> {
  const { sleepMs, metricPoints } = ctx.params;
  const slices = Math.max(metricPoints, Math.ceil(sleepMs / 50));
  for (let i = 1; i <= slices; i += 1) {
    ctx.signal.throwIfAborted();
    if (sleepMs > 0) await new Promise((r) => setTimeout(r, sleepMs / slices));
    if (metricPoints > 0 && i <= metricPoints) ctx.reportMetrics([{ name: 'progress', step: i, value: i / metricPoints }]);
  }
  ctx.signal.throwIfAborted();
  if (ctx.attempt <= ctx.params.failUntilAttempt) {
    const message = `failing on purpose (attempt ${ctx.attempt} of failUntilAttempt ${ctx.params.failUntilAttempt})`;
    throw ctx.params.failRetryable ? StageError.retryable('PW_ERR_TEST_FAILURE', message) : StageError.nonRetryable('PW_ERR_TEST_FAILURE', message);
  }
}

async function output(ctx: StageContext<UtilParams>, consumed: Record<string, ArtifactRef>) {
  const out = await writeJson(ctx.store, {
    stage: ctx.stageId,
    label: ctx.params.label ?? null,
    consumed: Object.fromEntries(Object.entries(consumed).map(([k, v]) => [k, v.digest])),
  });
  return { outputs: { out }, metrics: { attempt: ctx.attempt } };
}

export const utilNoopStage = defineStage({
  type: 'util.noop@1',
  description: 'Does nothing (optionally sleeps, reports progress or fails on purpose) and writes a small JSON output.',
  inputs: {},
  outputs: { out: 'json' },
  params: paramsSchema,
  async run(ctx) {
    await behave(ctx);
    return output(ctx, {});
  },
});

export const utilTransformStage = defineStage({
  type: 'util.transform@1',
  description: 'Consumes one JSON artifact and writes another that names it.',
  inputs: { in: 'json' },
  outputs: { out: 'json' },
  params: paramsSchema,
  async run(ctx) {
    await behave(ctx);
    return output(ctx, ctx.inputs);
  },
});

export const utilMergeStage = defineStage({
  type: 'util.merge@1',
  description: 'Consumes two JSON artifacts (a fan-in) and writes one that names both.',
  inputs: { a: 'json', b: 'json' },
  outputs: { out: 'json' },
  params: paramsSchema,
  async run(ctx) {
    await behave(ctx);
    return output(ctx, ctx.inputs);
  },
});

export const utilFanOutStage = defineStage({
  type: 'util.fanout@1',
  description:
    'Writes a list of `count` items (`{ index, label, failUntilAttempt }`) for a foreach stage to map over; the item at `failIndex` carries failUntilAttempt 1.',
  inputs: {},
  outputs: { items: 'json' },
  params: z
    .object({ ...behaviour, count: z.number().int().min(0).max(10_000).default(3), failIndex: z.number().int().default(-1) })
    .strict(),
  async run(ctx) {
    await behave(ctx);
    const items = Array.from({ length: ctx.params.count }, (_, index) => ({
      index,
      label: ctx.params.label ?? null,
      failUntilAttempt: index === ctx.params.failIndex ? 1 : 0,
    }));
    // The list goes in the metadata too: the orchestrator fans out from it without reading bytes.
    return { outputs: { items: await writeJson(ctx.store, items, { items }) }, metrics: { count: items.length } };
  },
});

export const utilGatherStage = defineStage({
  type: 'util.gather@1',
  description: 'Consumes the outputs of every instance of a foreach stage (a fan-in) and writes one that names them.',
  inputs: { parts: 'json[]' },
  outputs: { out: 'json' },
  params: paramsSchema,
  async run(ctx) {
    await behave(ctx);
    const parts = ctx.inputLists['parts'] ?? [];
    const out = await writeJson(ctx.store, { stage: ctx.stageId, parts: parts.map((p) => p.digest) });
    return { outputs: { out }, metrics: { parts: parts.length } };
  },
});
