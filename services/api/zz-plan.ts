import { planPipeline, parseSpecText } from '@pipewright/core';
import { builtinStages, createStageRegistry } from '@pipewright/stages';
const catalog = createStageRegistry(builtinStages);
const spec = {
  apiVersion: 'pipewright/v1',
  name: 'broken',
  stages: [
    { id: 'ingest', uses: 'ingest.csv@1', with: { path: 'x.csv', target: 'target' } },
    { id: 'split', uses: 'split.train_test@1', needs: ['ingest'] },
    { id: 'scale', uses: 'preprocess.standardize@1', needs: ['split'] },
    { id: 'train', uses: 'train.logistic@1', needs: ['scale'], with: { epochs: 'many' } },
    { id: 'evaluate', uses: 'evaluate.classification@1', needs: ['train', 'scale'], inputs: { test: 'train.model' } },
    { id: 'a', uses: 'split.train_test@1', needs: ['b'] },
    { id: 'b', uses: 'split.train_test@1', needs: ['a'] },
    { id: 'mystery', uses: 'does.not_exist@1', needs: ['ingest'] },
    { id: 'orphan', uses: 'split.train_test@1', needs: ['ghost'] },
  ],
};
const r = planPipeline(spec, catalog);
console.log(JSON.stringify(r.ok ? 'ok' : r.problems, null, 1));
console.log(JSON.stringify(parseSpecText('apiVersion: pipewright/v1\nname: x\nstages:\n  - { id: a, uses: [\n  bad: : :\n')));
console.log(JSON.stringify(planPipeline([1,2], catalog)));
console.log(JSON.stringify(planPipeline('hello', catalog)));
