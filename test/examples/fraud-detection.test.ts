import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/service-process.ts';
import { startTestStack, type RunDetail, type TestStack } from '../support/start-test-stack.ts';

/**
 * Finance, heavily imbalanced (1.5 % fraud). The floors sit well below what the pipeline reaches
 * (MLP: PR-AUC ~0.80, recall ~0.69 at precision 0.9; forest: ~0.86 and ~0.72), and above what a
 * useless model gets (PR-AUC ~0.015, the fraud rate).
 */
describe('examples/fraud-detection.yaml', () => {
  let stack: TestStack;
  let run: RunDetail;
  beforeAll(async () => {
    stack = await startTestStack({ workers: 2 });
    run = await stack.runToEnd(await readFile(`${REPO_ROOT}/examples/fraud-detection.yaml`, 'utf8'), 240_000);
  }, 300_000);
  afterAll(() => stack?.stop());

  const metrics = (stage: string) => run.stages.find((s) => s.stage === stage)!.metrics!;

  it('succeeds', () => {
    expect(run.status).toBe('SUCCEEDED');
    expect(metrics('ingest')).toMatchObject({ rows: 20_000 });
  });

  it('the class-weighted MLP ranks frauds well and catches most of them at precision 0.9', () => {
    const m = metrics('evaluate_mlp');
    console.info(`fraud-detection mlp: ${JSON.stringify(m)}`);
    expect(m.pr_auc).toBeGreaterThanOrEqual(0.7);
    expect(m.roc_auc).toBeGreaterThanOrEqual(0.95);
    expect(m.recall_at_precision).toBeGreaterThanOrEqual(0.55);
    // Balanced class weights push recall at the default threshold far above a plain model's.
    expect(m.recall).toBeGreaterThanOrEqual(0.75);
    expect(metrics('train_mlp').best_epoch).toBeLessThanOrEqual(metrics('train_mlp').epochs!);
  });

  it('the random-forest baseline does too', () => {
    const m = metrics('evaluate_forest');
    console.info(`fraud-detection forest: ${JSON.stringify(m)}`);
    expect(m.pr_auc).toBeGreaterThanOrEqual(0.75);
    expect(m.recall_at_precision).toBeGreaterThanOrEqual(0.6);
  });
});
