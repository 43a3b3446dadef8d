import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/service-process.ts';
import { startTestStack, type RunDetail, type TestStack } from '../support/start-test-stack.ts';

/** Model selection fanned out at run time: 4 settings x 3 folds = 12 trial stages, then a join. */
describe('examples/hyperparameter-search.yaml', () => {
  let stack: TestStack;
  let run: RunDetail;
  beforeAll(async () => {
    stack = await startTestStack({ workers: 2 });
    run = await stack.runToEnd(await readFile(`${REPO_ROOT}/examples/hyperparameter-search.yaml`, 'utf8'), 240_000);
  }, 300_000);
  afterAll(() => stack?.stop());

  it('runs one trial stage per (settings, fold) and joins them', () => {
    expect(run.status).toBe('SUCCEEDED');
    expect(run.stages.find((s) => s.stage === 'grid')!.metrics).toMatchObject({ trials: 4, folds: 3, runs: 12 });
    const instances = run.stages.filter((s) => /^trial\[\d+\]$/.test(s.stage));
    expect(instances).toHaveLength(12);
    expect(instances.every((s) => s.status === 'SUCCEEDED')).toBe(true);
  });

  it('picks settings that learn over ones that barely move', () => {
    const best = run.stages.find((s) => s.stage === 'best')!.metrics!;
    console.info(`hyperparameter-search: ${JSON.stringify(best)}`);
    expect(best).toMatchObject({ trials: 4, folds: 3, best_learningRate: 0.01 });
    expect(best.best_score).toBeGreaterThanOrEqual(0.97);
  });
});
