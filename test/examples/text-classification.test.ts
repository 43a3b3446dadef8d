import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/service-process.ts';
import { startTestStack, type RunDetail, type TestStack } from '../support/start-test-stack.ts';

/**
 * NLP: five fortune categories from TF-IDF. It reaches accuracy ~0.71 and macro F1 ~0.70, as
 * scikit-learn's TfidfVectorizer + LogisticRegression does on the same split (0.70 / 0.70);
 * guessing the largest class scores 0.30.
 */
describe('examples/text-classification.yaml', () => {
  let stack: TestStack;
  let run: RunDetail;
  beforeAll(async () => {
    stack = await startTestStack();
    run = await stack.runToEnd(await readFile(`${REPO_ROOT}/examples/text-classification.yaml`, 'utf8'), 240_000);
  }, 300_000);
  afterAll(() => stack?.stop());

  const metrics = (stage: string) => run.stages.find((s) => s.stage === stage)!.metrics!;

  it('succeeds with a vocabulary fitted on the training split', () => {
    expect(run.status).toBe('SUCCEEDED');
    expect(metrics('tfidf').terms).toBe(3000);
  });

  it('classifies held-out fortunes far above chance', () => {
    const m = metrics('evaluate');
    console.info(`text-classification: ${JSON.stringify(m)}`);
    expect(m.accuracy).toBeGreaterThanOrEqual(0.6);
    expect(m.f1_macro).toBeGreaterThanOrEqual(0.6);
    expect(m.roc_auc).toBeGreaterThanOrEqual(0.85);
  });
});
