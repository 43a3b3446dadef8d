import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/start-test-stack.ts';

describe('in-process test stack', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ workers: 2 });
  });
  afterAll(() => stack.stop());

  it('runs several demo pipelines at once to SUCCEEDED', async () => {
    const spec = {
      apiVersion: 'pipewright/v1',
      name: 'stack-demo',
      stages: [
        { id: 'ingest', uses: 'ingest.csv@1', with: { path: 'examples/data/breast_cancer.csv', target: 'target' } },
        { id: 'split', uses: 'split.train_test@1', needs: ['ingest'], with: { testSize: 0.3 } },
        { id: 'scale', uses: 'preprocess.standardize@1', needs: ['split'] },
        { id: 'train', uses: 'train.logistic@1', needs: ['scale'], with: { epochs: 20 } },
        { id: 'evaluate', uses: 'evaluate.classification@1', needs: ['train', 'scale'] },
      ],
    };
    const runs = await Promise.all([stack.runToEnd(spec), stack.runToEnd(spec), stack.runToEnd(spec)]);
    for (const run of runs) {
      expect(run.status).toBe('SUCCEEDED');
      expect(run.stages.find((s) => s.stage === 'evaluate')?.metrics?.accuracy).toBeGreaterThanOrEqual(0.93);
    }
  });
});
