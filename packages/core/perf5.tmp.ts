import { planPipeline } from './src/index.ts';
import { fakeStageCatalog } from './src/fake-stage-catalog.fixture.ts';
const catalog = fakeStageCatalog();
let state = 1;
const random = () => { state = (state * 1103515245 + 12345) % 2147483648; return state / 2147483648; };
const stages = Array.from({ length: 10000 }, (_, i) => {
  const needs = new Set<string>();
  const count = i === 0 ? 0 : Math.floor(random() * 4);
  for (let k = 0; k < count; k++) needs.add(`s${Math.floor(random() * i)}`);
  return { id: `s${i}`, uses: 'util.noop@1', ...(needs.size ? { needs: [...needs] } : {}), with: { n: '${{ params.n }}' } };
});
const spec = { apiVersion: 'pipewright/v1', name: 'random', params: { n: { type: 'integer', default: 7 } }, stages };
const times: number[] = [];
for (let r = 0; r < 30; r++) { const t = performance.now(); planPipeline(spec, catalog); times.push(performance.now() - t); }
console.log('first', times[0]!.toFixed(1), 'min', Math.min(...times).toFixed(1), 'median', [...times].sort((a, b) => a - b)[15]!.toFixed(1));
