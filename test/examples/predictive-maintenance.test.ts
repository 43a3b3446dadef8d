import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/service-process.ts';
import { startTestStack, type RunDetail, type TestStack } from '../support/start-test-stack.ts';

/**
 * Manufacturing: window features of sensor series, failure within 24 hours, scored on machines
 * the model never saw. It reaches ROC-AUC ~0.98, PR-AUC ~0.84 and F1 ~0.75 (8.5 % positives);
 * the floors leave room for backend-level numeric differences.
 */
describe('examples/predictive-maintenance.yaml', () => {
  let stack: TestStack;
  let run: RunDetail;
  beforeAll(async () => {
    stack = await startTestStack({ workers: 2 });
    run = await stack.runToEnd(await readFile(`${REPO_ROOT}/examples/predictive-maintenance.yaml`, 'utf8'), 240_000);
  }, 300_000);
  afterAll(() => stack?.stop());

  const metrics = (stage: string) => run.stages.find((s) => s.stage === stage)!.metrics!;

  it('succeeds, windowing both machine sets the same way', () => {
    expect(run.status).toBe('SUCCEEDED');
    expect(metrics('window_train')).toMatchObject({ features: 20 });
    expect(metrics('window_test')).toMatchObject({ features: 20 });
    // About 24 of every ~300 hours of a machine precede its failure.
    expect(metrics('window_train').positive_rate).toBeGreaterThan(0.05);
    expect(metrics('window_train').positive_rate).toBeLessThan(0.12);
  });

  it('warns of failures within the horizon on unseen machines', () => {
    const m = metrics('evaluate');
    console.info(`predictive-maintenance: ${JSON.stringify(m)}`);
    expect(m.roc_auc).toBeGreaterThanOrEqual(0.95);
    expect(m.pr_auc).toBeGreaterThanOrEqual(0.7);
    expect(m.f1).toBeGreaterThanOrEqual(0.6);
    expect(m.recall).toBeGreaterThanOrEqual(0.75);
  });
});
