import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/service-process.ts';
import { startTestStack, type RunDetail, type TestStack } from '../support/start-test-stack.ts';

/** Health: the README demo, run end to end through the API, orchestrator and a worker. */
describe('examples/breast-cancer-diagnosis.yaml', () => {
  let stack: TestStack;
  let run: RunDetail;
  beforeAll(async () => {
    stack = await startTestStack();
    run = await stack.runToEnd(await readFile(`${REPO_ROOT}/examples/breast-cancer-diagnosis.yaml`, 'utf8'));
  });
  afterAll(() => stack?.stop());

  it('succeeds, recording the TensorFlow.js backend of the training attempt', () => {
    expect(run.status).toBe('SUCCEEDED');
    const train = run.stages.find((s) => s.stage === 'train')!;
    expect(train.attempts.at(-1)?.backend).toMatch(/^(tensorflow-gpu|tensorflow|wasm|cpu)$/);
  });

  it('classifies held-out tumours with accuracy >= 0.93', () => {
    const metrics = run.stages.find((s) => s.stage === 'evaluate')!.metrics!;
    console.info(`breast-cancer-diagnosis: ${JSON.stringify(metrics)}`);
    expect(metrics.accuracy).toBeGreaterThanOrEqual(0.93);
    expect(metrics.f1).toBeGreaterThanOrEqual(0.93);
    expect(metrics.roc_auc).toBeGreaterThanOrEqual(0.97);
  });
});
