import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArtifactRef } from '@pipewright/core';
import { createBuiltinStages } from './builtin-stages.ts';
import type { ClassificationReport } from './builtin/evaluate-classification.ts';
import { readJson } from './json-io.ts';
import { createStageRegistry } from './stage-registry.ts';
import { StageTestEnvironment } from './testing/stage-test-environment.ts';
import type { StageTestRun } from './testing/stage-test-environment.ts';

/**
 * Runs examples/breast-cancer-diagnosis.yaml stage by stage, in-process, on the real data, so the
 * example cannot rot. Binding follows the spec's rule: an input takes the same-named output of a
 * stage in `needs`. Expressions are limited to whole-value `${{ params.x }}` here; the real
 * evaluator lives in @pipewright/core.
 */
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const specPath = `${repoRoot}examples/breast-cancer-diagnosis.yaml`;

interface SpecStage {
  id: string;
  uses: string;
  needs?: string[];
  with?: Record<string, unknown>;
}
interface Spec {
  params?: Record<string, { default?: unknown }>;
  stages: SpecStage[];
}

function resolveParams(values: Record<string, unknown>, runParams: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => {
      const match = typeof value === 'string' ? /^\$\{\{\s*params\.([A-Za-z_]\w*)\s*\}\}$/.exec(value) : null;
      return [key, match ? runParams[match[1]!] : value];
    }),
  );
}

describe('examples/breast-cancer-diagnosis.yaml', () => {
  let env: StageTestEnvironment;
  const runs = new Map<string, StageTestRun>();
  let elapsedMs = 0;

  beforeAll(async () => {
    env = await StageTestEnvironment.create();
    const spec = parse(await readFile(specPath, 'utf8')) as Spec;
    const runParams = Object.fromEntries(Object.entries(spec.params ?? {}).map(([name, p]) => [name, p.default]));
    const registry = createStageRegistry(createBuiltinStages({ dataDir: repoRoot }));
    const started = performance.now();
    for (const stage of spec.stages) {
      const definition = registry.getDefinition(stage.uses);
      if (!definition) throw new Error(`unknown stage type ${stage.uses}`);
      const inputs: Record<string, ArtifactRef> = {};
      for (const name of Object.keys(definition.inputs)) {
        const candidates = (stage.needs ?? []).flatMap((need) => {
          const ref = runs.get(need)?.outputs[name];
          return ref ? [ref] : [];
        });
        if (candidates.length !== 1) throw new Error(`${stage.id}.${name} binds to ${candidates.length} outputs`);
        inputs[name] = candidates[0]!;
      }
      runs.set(
        stage.id,
        await env.run(definition, { params: resolveParams(stage.with ?? {}, runParams), inputs, stageId: stage.id }),
      );
    }
    elapsedMs = performance.now() - started;
  }, 120_000);

  afterAll(async () => {
    await env?.dispose();
  });

  it('ingests 569 rows of 30 features and a target', () => {
    const data = runs.get('ingest')!.outputs.data!;
    expect(data.metadata).toMatchObject({ rows: 569, target: 'target' });
    expect(data.metadata?.columns).toHaveLength(31);
  });

  it('holds out a stratified 30%', () => {
    expect(runs.get('split')!.metrics).toEqual({ train_rows: 398, test_rows: 171 });
  });

  it('reports loss and accuracy for each of the 50 epochs', () => {
    const train = runs.get('train')!;
    expect(train.backend).toMatch(/^(tensorflow-gpu|tensorflow|wasm|cpu)$/);
    const losses = train.reported.filter((p) => p.name === 'loss');
    expect(losses.map((p) => p.step)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(train.reported.filter((p) => p.name === 'accuracy')).toHaveLength(50);
    expect(losses.at(-1)!.value).toBeLessThan(losses[0]!.value);
  });

  it('classifies held-out tumours with accuracy >= 0.93', async () => {
    const evaluate = runs.get('evaluate')!;
    const metrics = evaluate.metrics!;
    console.info(`breast-cancer-diagnosis: backend=${runs.get('train')!.backend} ${JSON.stringify(metrics)} in ${Math.round(elapsedMs)} ms`);
    expect(metrics.accuracy).toBeGreaterThanOrEqual(0.93);
    expect(metrics.roc_auc).toBeGreaterThanOrEqual(0.97);
    expect(metrics.f1).toBeGreaterThanOrEqual(0.93);
    const report = await readJson<ClassificationReport>(env.store, evaluate.outputs.report!);
    expect(report).toMatchObject({ task: 'binary', positiveClass: 1, classes: [0, 1], samples: 171 });
    const cells = report.confusionMatrix.matrix.flat();
    expect(cells.reduce((a, b) => a + b, 0)).toBe(171);
  });

  it('trains within the demo budget', () => {
    expect(elapsedMs).toBeLessThan(10_000);
  });
});
