import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FAKE_DESCRIPTORS, fakeStageCatalog } from './fake-stage-catalog.fixture.ts';
import type { PlannedStage, PlanResult, SpecProblem } from './pipeline-plan.ts';
import { parseSpecText } from './pipeline-spec.ts';
import { DEFAULT_RETRY_POLICY, MAX_PLANNED_STAGES, planPipeline, type PlanPipelineOptions } from './plan-pipeline.ts';
import { SPEC_PROBLEM_CODE_LIST, type SpecProblemCode } from './spec-problem-codes.ts';

const catalog = fakeStageCatalog();

type Json = Record<string, unknown>;
type Stage = Json & { id: string; uses: string };

/** The design doc's example pipeline, on the fake catalog. Stage indices: 0 ingest … 5 register. */
function baseSpec(): Json & { params: Json; stages: Stage[] } {
  return {
    apiVersion: 'pipewright/v1',
    name: 'breast-cancer-diagnosis',
    params: { testSize: { type: 'number', default: 0.3 } },
    stages: [
      { id: 'ingest', uses: 'ingest.csv@1', with: { path: 'data/bc.csv', target: 'target' } },
      {
        id: 'split',
        uses: 'split.train_test@1',
        needs: ['ingest'],
        with: { testSize: '${{ params.testSize }}', stratify: true, seed: 42 },
      },
      { id: 'scale', uses: 'preprocess.standardize@1', needs: ['split'] },
      { id: 'train', uses: 'train.logistic@1', needs: ['scale'], with: { epochs: 5 } },
      { id: 'evaluate', uses: 'evaluate.classification@1', needs: ['train', 'scale'] },
      { id: 'register', uses: 'deploy.register@1', needs: ['evaluate', 'train'], when: '${{ stages.evaluate.metrics.f1 >= 0.9 }}' },
    ],
  };
}

function spec(change: (s: ReturnType<typeof baseSpec>) => void): Json {
  const s = baseSpec();
  change(s);
  return s;
}

function stage(s: ReturnType<typeof baseSpec>, id: string): Stage {
  const found = s.stages.find((candidate) => candidate.id === id);
  if (found === undefined) throw new Error(`no stage ${id}`);
  return found;
}

function problemsOf(result: PlanResult): SpecProblem[] {
  if (result.ok) throw new Error('expected problems, got a plan');
  return result.problems;
}

function planOf(result: PlanResult): PlannedStage[] {
  if (!result.ok) throw new Error(`expected a plan, got ${JSON.stringify(result.problems, null, 2)}`);
  return result.plan.stages;
}

function byId(stages: PlannedStage[], id: string): PlannedStage {
  const found = stages.find((candidate) => candidate.id === id);
  if (found === undefined) throw new Error(`no planned stage ${id}`);
  return found;
}

/** Every code some test below produced; checked against the full list at the end. */
const codesSeen = new Set<string>();

function expectProblem(
  input: unknown,
  expected: { code: SpecProblemCode; path: string; message?: RegExp },
  options?: PlanPipelineOptions,
): SpecProblem[] {
  const problems = problemsOf(planPipeline(input, catalog, options));
  for (const problem of problems) codesSeen.add(problem.code);
  const match = problems.find((p) => p.code === expected.code && p.path === expected.path);
  expect(match, `${expected.code} at ${expected.path} in ${JSON.stringify(problems, null, 2)}`).toBeDefined();
  if (expected.message) expect(match?.message).toMatch(expected.message);
  return problems;
}

describe('planPipeline: a valid spec', () => {
  it('plans the example pipeline with bindings, params and defaults', () => {
    const result = planPipeline(baseSpec(), catalog);
    const stages = planOf(result);
    expect(result.ok && result.plan).toMatchObject({ apiVersion: 'pipewright/v1', name: 'breast-cancer-diagnosis', params: { testSize: 0.3 } });
    expect(stages.map((s) => s.id)).toEqual(['ingest', 'split', 'scale', 'train', 'evaluate', 'register']);
    expect(byId(stages, 'split')).toEqual({
      id: 'split',
      uses: 'split.train_test@1',
      family: 'split',
      needs: ['ingest'],
      inputs: { data: { stage: 'ingest', output: 'data', type: 'table' } },
      outputs: { train: 'table', test: 'table' },
      params: { testSize: 0.3, stratify: true, seed: 42 },
      resources: { class: 'cpu', gpu: 0 },
      retry: DEFAULT_RETRY_POLICY,
      timeoutMs: 3_600_000,
      cache: true,
    });
    expect(byId(stages, 'evaluate').inputs).toEqual({
      model: { stage: 'train', output: 'model', type: 'model' },
      test: { stage: 'scale', output: 'test', type: 'table' },
    });
    expect(byId(stages, 'train').params).toEqual({ lr: 0.01, epochs: 5 });
    expect(byId(stages, 'train').timeoutMs).toBe(900_000);
    expect(byId(stages, 'register').when).toBe('${{ stages.evaluate.metrics.f1 >= 0.9 }}');
    expect(byId(stages, 'register').params).toEqual({ name: 'model' });
    expect(byId(stages, 'ingest').params).toEqual({ path: 'data/bc.csv', target: 'target' });
    expect('when' in byId(stages, 'ingest')).toBe(false);
    expect('matrix' in byId(stages, 'ingest')).toBe(false);
  });

  it('plans the same spec parsed from YAML', () => {
    const text = [
      'apiVersion: pipewright/v1',
      'name: breast-cancer-diagnosis',
      'params: { testSize: { type: number, default: 0.3 } }',
      'stages:',
      '  - { id: ingest, uses: ingest.csv@1, with: { path: data/bc.csv, target: target } }',
      '  - { id: split, uses: split.train_test@1, needs: [ingest], with: { testSize: "${{ params.testSize }}", stratify: true, seed: 42 } }',
      '  - { id: scale, uses: preprocess.standardize@1, needs: [split] }',
      '  - id: train',
      '    uses: train.logistic@1',
      '    needs: [scale]',
      '    with: { epochs: 5 }',
      '  - { id: evaluate, uses: evaluate.classification@1, needs: [train, scale] }',
      '  - { id: register, uses: deploy.register@1, needs: [evaluate, train], when: "${{ stages.evaluate.metrics.f1 >= 0.9 }}" }',
    ].join('\n');
    const parsed = parseSpecText(text, 'application/yaml');
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(planPipeline(parsed.value, catalog)).toEqual(planPipeline(baseSpec(), catalog));
  });

  it('applies run param overrides', () => {
    const stages = planOf(planPipeline(baseSpec(), catalog, { params: { testSize: 0.2 } }));
    expect(byId(stages, 'split').params['testSize']).toBe(0.2);
    const result = planPipeline(baseSpec(), catalog, { params: { testSize: 0.2 } });
    expect(result.ok && result.plan.params).toEqual({ testSize: 0.2 });
  });

  it('fills stage params defaults from the stage type schema', () => {
    const stages = planOf(planPipeline(spec((s) => delete stage(s, 'split')['with']), catalog));
    expect(byId(stages, 'split').params).toEqual({ testSize: 0.25, stratify: false, seed: 0 });
  });

  it('merges retry, resources, timeout and cache with their defaults', () => {
    const stages = planOf(
      planPipeline(
        spec((s) => {
          s['cache'] = false;
          Object.assign(stage(s, 'train'), {
            resources: { gpu: 2 },
            retry: { attempts: 5, delayMs: 500 },
            timeoutMs: 600_000,
            cache: true,
          });
          Object.assign(stage(s, 'evaluate'), { retry: { delayMs: 120_000, backoff: 'fixed', jitter: false }, resources: { gpu: 0 } });
        }),
        catalog,
      ),
    );
    const train = byId(stages, 'train');
    expect(train.resources).toEqual({ class: 'gpu', gpu: 2 });
    expect(train.retry).toEqual({ attempts: 5, backoff: 'exponential', delayMs: 500, maxDelayMs: 60_000, jitter: true });
    expect(train.timeoutMs).toBe(600_000);
    expect(train.cache).toBe(true);
    const evaluate = byId(stages, 'evaluate');
    expect(evaluate.resources).toEqual({ class: 'cpu', gpu: 0 });
    expect(evaluate.retry).toEqual({ attempts: 3, backoff: 'fixed', delayMs: 120_000, maxDelayMs: 120_000, jitter: false });
    expect(evaluate.cache).toBe(false);
    expect(byId(stages, 'ingest').cache).toBe(false);
  });

  it('accepts explicit input bindings', () => {
    const stages = planOf(
      planPipeline(
        spec((s) => {
          stage(s, 'evaluate')['needs'] = ['train', 'scale', 'split'];
          stage(s, 'evaluate')['inputs'] = { test: 'split.test' };
        }),
        catalog,
      ),
    );
    expect(byId(stages, 'evaluate').inputs['test']).toEqual({ stage: 'split', output: 'test', type: 'table' });
    expect(byId(stages, 'evaluate').needs).toEqual(['train', 'scale', 'split']);
  });

  it('returns stages in topological order, keeping spec order among ready ones', () => {
    const stages = planOf(planPipeline(spec((s) => s.stages.reverse()), catalog));
    expect(stages.map((s) => s.id)).toEqual(['ingest', 'split', 'scale', 'train', 'evaluate', 'register']);
  });

  it('ignores duplicate needs', () => {
    const stages = planOf(planPipeline(spec((s) => (stage(s, 'scale')['needs'] = ['split', 'split'])), catalog));
    expect(byId(stages, 'scale').needs).toEqual(['split']);
  });

  it('expands a matrix into <id>-<index> stages, first axis outermost, with fan-in', () => {
    const result = planPipeline(
      spec((s) => {
        Object.assign(stage(s, 'train'), {
          matrix: { lr: [0.1, 0.01], epochs: [1, 2] },
          with: { lr: '${{ matrix.lr }}', epochs: '${{ matrix.epochs }}' },
        });
        stage(s, 'evaluate')['inputs'] = { model: 'train-2.model' };
        stage(s, 'register')['inputs'] = { model: 'train-3.model' };
        stage(s, 'register')['when'] = "${{ stages.evaluate.metrics.f1 >= 0.9 && stages['train-3'].metrics.loss < 1 }}";
        s.stages.push({ id: 'gather', uses: 'util.noop@1', needs: ['train'] });
      }),
      catalog,
    );
    const stages = planOf(result);
    expect(stages.map((s) => s.id)).toEqual([
      'ingest',
      'split',
      'scale',
      'train-0',
      'train-1',
      'train-2',
      'train-3',
      'evaluate',
      'register',
      'gather',
    ]);
    expect([0, 1, 2, 3].map((k) => byId(stages, `train-${k}`).params)).toEqual([
      { lr: 0.1, epochs: 1 },
      { lr: 0.1, epochs: 2 },
      { lr: 0.01, epochs: 1 },
      { lr: 0.01, epochs: 2 },
    ]);
    expect(byId(stages, 'train-2').matrix).toEqual({ of: 'train', index: 2, values: { lr: 0.01, epochs: 1 } });
    expect(byId(stages, 'train-2').inputs).toEqual({ train: { stage: 'scale', output: 'train', type: 'table' } });
    expect(byId(stages, 'gather').needs).toEqual(['train-0', 'train-1', 'train-2', 'train-3']);
    expect(byId(stages, 'evaluate').needs).toEqual(['train-0', 'train-1', 'train-2', 'train-3', 'scale']);
    expect(byId(stages, 'evaluate').inputs['model']).toEqual({ stage: 'train-2', output: 'model', type: 'model' });
  });

  it('is deterministic', () => {
    expect(planPipeline(baseSpec(), catalog)).toEqual(planPipeline(baseSpec(), catalog));
  });

  it('does not let a planned stage share objects with another', () => {
    const stages = planOf(
      planPipeline(
        spec((s) => {
          Object.assign(stage(s, 'train'), { matrix: { lr: [0.1, 0.2] }, with: { lr: '${{ matrix.lr }}' } });
          stage(s, 'evaluate')['inputs'] = { model: 'train-0.model' };
          stage(s, 'register')['inputs'] = { model: 'train-0.model' };
        }),
        catalog,
      ),
    );
    const [a, b] = [byId(stages, 'train-0'), byId(stages, 'train-1')];
    expect(a.inputs).not.toBe(b.inputs);
    expect(a.retry).not.toBe(b.retry);
    expect(a.needs).not.toBe(b.needs);
  });
});

describe('planPipeline: problems', () => {
  it('PW_SPEC_SCHEMA with zod paths, and keeps checking the rest', () => {
    const problems = expectProblem(
      spec((s) => {
        (s.stages[2] as Stage).uses = 'Bad';
        (s.stages[3] as Stage)['need'] = ['scale'];
        s['extra'] = true;
        stage(s, 'evaluate')['needs'] = ['train', 'scale', 'nope'];
      }),
      { code: 'PW_SPEC_SCHEMA', path: 'stages[2].uses', message: /family\.name@version/ },
    );
    expect(problems).toContainEqual({ path: 'stages[3].need', code: 'PW_SPEC_SCHEMA', message: 'unknown key "need"' });
    expect(problems).toContainEqual({ path: 'extra', code: 'PW_SPEC_SCHEMA', message: 'unknown key "extra"' });
    expect(problems).toContainEqual(expect.objectContaining({ code: 'PW_SPEC_UNKNOWN_NEED', path: 'stages[4].needs[2]' }));
    // A stage that failed the schema still exists: no "missing need" for the stages that need it.
    expect(problems.filter((p) => p.code === 'PW_SPEC_UNKNOWN_NEED')).toHaveLength(1);
  });

  it('PW_SPEC_SCHEMA for something that is not a spec at all', () => {
    for (const input of [null, 42, 'text', [], {}, { apiVersion: 'pipewright/v1', name: 'x', stages: 'no' }]) {
      const problems = problemsOf(planPipeline(input, catalog));
      expect(problems.length).toBeGreaterThan(0);
      expect(problems.every((p) => p.code === 'PW_SPEC_SCHEMA')).toBe(true);
    }
    expect(problemsOf(planPipeline(null, catalog))[0]?.path).toBe('');
  });

  it('PW_SPEC_SCHEMA keys that are not identifiers are quoted in paths', () => {
    expectProblem(spec((s) => (s.params = { 'bad-name': { type: 'number', default: 1 } })), {
      code: 'PW_SPEC_SCHEMA',
      path: 'params.bad-name',
      message: /invalid key: must be an identifier/,
    });
    expectProblem(spec((s) => (s.params = { 'a.b': { type: 'number', default: 1 } })), {
      code: 'PW_SPEC_SCHEMA',
      path: 'params["a.b"]',
    });
  });

  it('PW_SPEC_DUPLICATE_STAGE_ID', () => {
    expectProblem(spec((s) => ((s.stages[3] as Stage).id = 'scale')), {
      code: 'PW_SPEC_DUPLICATE_STAGE_ID',
      path: 'stages[3].id',
      message: /already used by stages\[2\]/,
    });
  });

  it('PW_SPEC_DUPLICATE_STAGE_ID when a matrix expansion takes an existing id', () => {
    expectProblem(
      spec((s) => {
        stage(s, 'train')['matrix'] = { lr: [0.1, 0.2] };
        s.stages.push({ id: 'train-1', uses: 'util.noop@1' });
      }),
      { code: 'PW_SPEC_DUPLICATE_STAGE_ID', path: 'stages[3].matrix', message: /train-1 is already the id of stages\[6\]/ },
    );
  });

  it('PW_SPEC_UNKNOWN_STAGE_TYPE with the registered versions', () => {
    expectProblem(spec((s) => (stage(s, 'train').uses = 'train.logistic@2')), {
      code: 'PW_SPEC_UNKNOWN_STAGE_TYPE',
      path: 'stages[3].uses',
      message: /unknown stage type train\.logistic@2; registered versions: train\.logistic@1/,
    });
    expectProblem(spec((s) => (stage(s, 'train').uses = 'quantum.annealer@1')), {
      code: 'PW_SPEC_UNKNOWN_STAGE_TYPE',
      path: 'stages[3].uses',
      message: /^unknown stage type quantum\.annealer@1$/,
    });
  });

  it('PW_SPEC_UNKNOWN_STAGE_TYPE even in a stage that also fails the schema', () => {
    const problems = expectProblem(
      spec((s) => {
        stage(s, 'train').uses = 'train.nope@1';
        stage(s, 'train')['timeoutMs'] = -1;
      }),
      { code: 'PW_SPEC_UNKNOWN_STAGE_TYPE', path: 'stages[3].uses' },
    );
    expect(problems).toContainEqual(expect.objectContaining({ code: 'PW_SPEC_SCHEMA', path: 'stages[3].timeoutMs' }));
  });

  it('PW_SPEC_UNKNOWN_NEED', () => {
    expectProblem(spec((s) => (stage(s, 'evaluate')['needs'] = ['train', 'scal'])), {
      code: 'PW_SPEC_UNKNOWN_NEED',
      path: 'stages[4].needs[1]',
      message: /stage scal does not exist/,
    });
  });

  it('PW_SPEC_CYCLE naming the stages in order', () => {
    const problems = expectProblem(spec((s) => (stage(s, 'ingest')['needs'] = ['register'])), {
      code: 'PW_SPEC_CYCLE',
      path: 'stages[0].needs[0]',
      message: /cycle: ingest -> split -> scale -> train -> evaluate -> register -> ingest/,
    });
    expect(problems.filter((p) => p.code === 'PW_SPEC_CYCLE')).toHaveLength(1);
  });

  it('PW_SPEC_CYCLE for a stage that needs itself, and one per independent cycle', () => {
    const problems = expectProblem(
      spec((s) => {
        stage(s, 'scale')['needs'] = ['split', 'scale'];
        s.stages.push({ id: 'x', uses: 'util.noop@1', needs: ['y'] }, { id: 'y', uses: 'util.noop@1', needs: ['x'] });
      }),
      { code: 'PW_SPEC_CYCLE', path: 'stages[2].needs[1]', message: /cycle: scale -> scale/ },
    );
    expect(problems).toContainEqual(expect.objectContaining({ code: 'PW_SPEC_CYCLE', message: 'needs form a cycle: x -> y -> x' }));
  });

  it('PW_SPEC_INPUT_UNBOUND', () => {
    expectProblem(spec((s) => (stage(s, 'evaluate')['needs'] = ['train'])), {
      code: 'PW_SPEC_INPUT_UNBOUND',
      path: 'stages[4].inputs.test',
      message: /input test \(table\) of evaluate\.classification@1 is not bound: none of its needs \(train\) has an output named test/,
    });
    expectProblem(spec((s) => delete stage(s, 'split')['needs']), {
      code: 'PW_SPEC_INPUT_UNBOUND',
      path: 'stages[1].inputs.data',
      message: /it needs no stage with an output named data/,
    });
  });

  it('PW_SPEC_INPUT_UNBOUND is not reported when a needed stage has an unknown type', () => {
    const problems = problemsOf(
      planPipeline(
        spec((s) => (stage(s, 'scale').uses = 'preprocess.nope@1')),
        catalog,
      ),
    );
    expect(problems.map((p) => p.code)).toEqual(['PW_SPEC_UNKNOWN_STAGE_TYPE']);
  });

  it('PW_SPEC_INPUT_AMBIGUOUS', () => {
    expectProblem(spec((s) => (stage(s, 'evaluate')['needs'] = ['train', 'scale', 'split'])), {
      code: 'PW_SPEC_INPUT_AMBIGUOUS',
      path: 'stages[4].inputs.test',
      message: /matches several outputs: scale\.test, split\.test; choose one with inputs: \{ test: <stage>\.<output> \}/,
    });
  });

  it('PW_SPEC_INPUT_AMBIGUOUS when the input comes from a matrix stage', () => {
    expectProblem(spec((s) => (stage(s, 'train')['matrix'] = { lr: [0.1, 0.2] })), {
      code: 'PW_SPEC_INPUT_AMBIGUOUS',
      path: 'stages[4].inputs.model',
      message: /train-0\.model, train-1\.model/,
    });
  });

  it('PW_SPEC_INPUT_TYPE_MISMATCH for an explicit binding, naming both types', () => {
    expectProblem(spec((s) => (stage(s, 'evaluate')['inputs'] = { test: 'train.model' })), {
      code: 'PW_SPEC_INPUT_TYPE_MISMATCH',
      path: 'stages[4].inputs.test',
      message: /input test of evaluate\.classification@1 expects table, but train\.model is model/,
    });
  });

  it('PW_SPEC_INPUT_TYPE_MISMATCH for an implicit match by name', () => {
    expectProblem(
      spec((s) => {
        s.stages.push({ id: 'describe', uses: 'export.json_model@1' });
        stage(s, 'register')['needs'] = ['describe', 'evaluate'];
      }),
      {
        code: 'PW_SPEC_INPUT_TYPE_MISMATCH',
        path: 'stages[5].inputs.model',
        message: /input model of deploy\.register@1 expects model, but describe\.model is json/,
      },
    );
  });

  it('PW_SPEC_INPUT_NOT_IN_NEEDS', () => {
    expectProblem(spec((s) => (stage(s, 'evaluate')['inputs'] = { test: 'split.test' })), {
      code: 'PW_SPEC_INPUT_NOT_IN_NEEDS',
      path: 'stages[4].inputs.test',
      message: /stage split is not in needs of evaluate/,
    });
    expectProblem(
      spec((s) => {
        stage(s, 'train')['matrix'] = { lr: [0.1, 0.2] };
        stage(s, 'evaluate')['inputs'] = { model: 'train.model' };
      }),
      { code: 'PW_SPEC_INPUT_NOT_IN_NEEDS', path: 'stages[4].inputs.model', message: /train is a matrix stage; bind to one of its expansions \(train-0, train-1\)/ },
    );
  });

  it('PW_SPEC_INPUT_UNKNOWN_OUTPUT', () => {
    expectProblem(spec((s) => (stage(s, 'evaluate')['inputs'] = { test: 'scale.tests' })), {
      code: 'PW_SPEC_INPUT_UNKNOWN_OUTPUT',
      path: 'stages[4].inputs.test',
      message: /stage scale \(preprocess\.standardize@1\) has no output tests; outputs: train, test/,
    });
  });

  it('PW_SPEC_INPUT_UNKNOWN', () => {
    expectProblem(spec((s) => (stage(s, 'evaluate')['inputs'] = { labels: 'scale.test' })), {
      code: 'PW_SPEC_INPUT_UNKNOWN',
      path: 'stages[4].inputs.labels',
      message: /evaluate\.classification@1 has no input labels \(inputs: model, test\)/,
    });
    expectProblem(spec((s) => (stage(s, 'ingest')['inputs'] = { data: 'x.y' })), {
      code: 'PW_SPEC_INPUT_UNKNOWN',
      path: 'stages[0].inputs.data',
      message: /takes no inputs/,
    });
  });

  it('PW_SPEC_PARAM_UNKNOWN for an override, a with expression and a when expression', () => {
    expectProblem(baseSpec(), { code: 'PW_SPEC_PARAM_UNKNOWN', path: 'params.nope', message: /param nope is not declared/ }, {
      params: { nope: 1 },
    });
    expectProblem(spec((s) => (stage(s, 'split')['with'] = { testSize: '${{ params.testSise }}' })), {
      code: 'PW_SPEC_PARAM_UNKNOWN',
      path: 'stages[1].with.testSize',
      message: /params\.testSise is not declared/,
    });
    expectProblem(spec((s) => (stage(s, 'register')['when'] = '${{ params.minF1 < stages.evaluate.metrics.f1 }}')), {
      code: 'PW_SPEC_PARAM_UNKNOWN',
      path: 'stages[5].when',
      message: /params\.minF1/,
    });
  });

  it('PW_SPEC_PARAM_TYPE for a default and for an override', () => {
    expectProblem(spec((s) => (s.params = { testSize: { type: 'number', default: 'x' } })), {
      code: 'PW_SPEC_PARAM_TYPE',
      path: 'params.testSize.default',
      message: /must be number, got string/,
    });
    const problems = expectProblem(baseSpec(), { code: 'PW_SPEC_PARAM_TYPE', path: 'params.testSize', message: /must be number/ }, {
      params: { testSize: 'big' },
    });
    // The bad value is reported once, where the param is, not again in every stage reading it.
    expect(problems).toHaveLength(1);
    expectProblem(spec((s) => (s.params = { n: { type: 'integer', default: 1.5 } })), {
      code: 'PW_SPEC_PARAM_TYPE',
      path: 'params.n.default',
      message: /must be integer, got number 1\.5/,
    });
    expectProblem(spec((s) => (s.params = { o: { type: 'object', default: [] } })), {
      code: 'PW_SPEC_PARAM_TYPE',
      path: 'params.o.default',
    });
  });

  it('PW_SPEC_PARAM_MISSING', () => {
    const problems = expectProblem(spec((s) => (s.params = { testSize: { type: 'number' } })), {
      code: 'PW_SPEC_PARAM_MISSING',
      path: 'params.testSize',
      message: /no default and no value/,
    });
    expect(problems).toHaveLength(1);
    const stages = planOf(planPipeline(spec((s) => (s.params = { testSize: { type: 'number' } })), catalog, { params: { testSize: 0.4 } }));
    expect(byId(stages, 'split').params['testSize']).toBe(0.4);
  });

  it('PW_SPEC_PARAMS_INVALID with zod messages at stages[i].with.<field>', () => {
    expectProblem(spec((s) => (stage(s, 'split')['with'] = { testSize: 'big' })), {
      code: 'PW_SPEC_PARAMS_INVALID',
      path: 'stages[1].with.testSize',
      message: /expected number, received string/,
    });
    expectProblem(spec((s) => (stage(s, 'split')['with'] = { testSize: 2 })), {
      code: 'PW_SPEC_PARAMS_INVALID',
      path: 'stages[1].with.testSize',
      message: /Too big/,
    });
    expectProblem(spec((s) => (stage(s, 'split')['with'] = { tesSize: 0.2 })), {
      code: 'PW_SPEC_PARAMS_INVALID',
      path: 'stages[1].with.tesSize',
      message: /unknown key "tesSize"/,
    });
    expectProblem(spec((s) => (stage(s, 'ingest')['with'] = {})), {
      code: 'PW_SPEC_PARAMS_INVALID',
      path: 'stages[0].with.path',
      message: /expected string, received undefined/,
    });
    expectProblem(spec((s) => (stage(s, 'scale')['with'] = { columns: ['a', 3] })), {
      code: 'PW_SPEC_PARAMS_INVALID',
      path: 'stages[2].with.columns[1]',
    });
  });

  it('PW_SPEC_PARAMS_INVALID after interpolating a run param', () => {
    expectProblem(baseSpec(), { code: 'PW_SPEC_PARAMS_INVALID', path: 'stages[1].with.testSize', message: /Too big/ }, {
      params: { testSize: 1.5 },
    });
  });

  it('PW_SPEC_PARAMS_INVALID naming the matrix combination that fails', () => {
    const problems = expectProblem(
      spec((s) => Object.assign(stage(s, 'train'), { matrix: { lr: [0.1, -1] }, with: { lr: '${{ matrix.lr }}' } })),
      { code: 'PW_SPEC_PARAMS_INVALID', path: 'stages[3].with.lr', message: /\(matrix \{"lr":-1\}\)/ },
    );
    expect(problems.filter((p) => p.code === 'PW_SPEC_PARAMS_INVALID')).toHaveLength(1);
  });

  it('PW_SPEC_PARAMS_INVALID when a stage type schema throws, instead of crashing', () => {
    const throwing = fakeStageCatalog([
      ...FAKE_DESCRIPTORS.filter((d) => d.type !== 'util.noop@1'),
      {
        type: 'util.noop@1',
        family: 'util',
        description: 'throws',
        inputs: {},
        outputs: {},
        params: z.object({}).transform(() => {
          throw new Error('boom');
        }),
      },
    ]);
    const problems = problemsOf(
      planPipeline({ apiVersion: 'pipewright/v1', name: 'p', stages: [{ id: 'a', uses: 'util.noop@1' }] }, throwing),
    );
    expect(problems).toEqual([
      { path: 'stages[0].with', code: 'PW_SPEC_PARAMS_INVALID', message: 'the params schema of util.noop@1 failed: boom' },
    ]);
  });

  it('PW_SPEC_EXPRESSION_SYNTAX in with and in when', () => {
    expectProblem(spec((s) => (stage(s, 'split')['with'] = { testSize: '${{ params.testSize + }}' })), {
      code: 'PW_SPEC_EXPRESSION_SYNTAX',
      path: 'stages[1].with.testSize',
      message: /unexpected end of expression \(at position 22\)/,
    });
    expectProblem(spec((s) => (stage(s, 'split')['with'] = { testSize: '${{ params.testSize' })), {
      code: 'PW_SPEC_EXPRESSION_SYNTAX',
      path: 'stages[1].with.testSize',
      message: /without a matching/,
    });
    expectProblem(spec((s) => (stage(s, 'register')['when'] = '${{ stages.evaluate.metrics.f1 >= }}')), {
      code: 'PW_SPEC_EXPRESSION_SYNTAX',
      path: 'stages[5].when',
    });
    expectProblem(spec((s) => (stage(s, 'register')['when'] = '${{ stages.evaluate.metrics.f1.toFixed(2) }}')), {
      code: 'PW_SPEC_EXPRESSION_SYNTAX',
      path: 'stages[5].when',
      message: /function calls are not allowed/,
    });
    expectProblem(spec((s) => (stage(s, 'register')['when'] = '${{ stages.evaluate.constructor }}')), {
      code: 'PW_SPEC_EXPRESSION_SYNTAX',
      path: 'stages[5].when',
      message: /'constructor' may not be accessed/,
    });
    expectProblem(spec((s) => (stage(s, 'register')['when'] = 'f1 is ${{ true }}')), {
      code: 'PW_SPEC_EXPRESSION_SYNTAX',
      path: 'stages[5].when',
      message: /single/,
    });
  });

  it('PW_SPEC_EXPRESSION_REFERENCE for what with may not read', () => {
    expectProblem(spec((s) => (stage(s, 'train')['with'] = { epochs: '${{ stages.scale.outputs.train }}' })), {
      code: 'PW_SPEC_EXPRESSION_REFERENCE',
      path: 'stages[3].with.epochs',
      message: /cannot read stages\.\*/,
    });
    expectProblem(spec((s) => (stage(s, 'train')['with'] = { lr: '${{ matrix.lr }}' })), {
      code: 'PW_SPEC_EXPRESSION_REFERENCE',
      path: 'stages[3].with.lr',
      message: /only defined in a stage that has a matrix/,
    });
    expectProblem(
      spec((s) => Object.assign(stage(s, 'train'), { matrix: { lr: [0.1] }, with: { lr: '${{ matrix.rate }}' } })),
      { code: 'PW_SPEC_EXPRESSION_REFERENCE', path: 'stages[3].with.lr', message: /matrix has no axis rate; axes: lr/ },
    );
    expectProblem(spec((s) => (stage(s, 'ingest')['with'] = { path: '${{ env.HOME }}/x.csv' })), {
      code: 'PW_SPEC_EXPRESSION_REFERENCE',
      path: 'stages[0].with.path',
      message: /unknown name env/,
    });
  });

  it('PW_SPEC_EXPRESSION_REFERENCE for what when may not read', () => {
    const when = (text: string): Json => spec((s) => (stage(s, 'register')['when'] = text));
    expectProblem(when('${{ stages.split.metrics.rows > 0 }}'), {
      code: 'PW_SPEC_EXPRESSION_REFERENCE',
      path: 'stages[5].when',
      message: /stage split is not in needs of register; when may only read stages it needs/,
    });
    expectProblem(when("${{ stages.evaluate.status == 'SUCCEEDED' }}"), {
      code: 'PW_SPEC_EXPRESSION_REFERENCE',
      path: 'stages[5].when',
      message: /stages\.evaluate\.metrics\.\* or stages\.evaluate\.outputs\.\*/,
    });
    expectProblem(when('${{ stages.evaluate }}'), { code: 'PW_SPEC_EXPRESSION_REFERENCE', path: 'stages[5].when' });
    expectProblem(when('${{ stages[0] }}'), { code: 'PW_SPEC_EXPRESSION_REFERENCE', path: 'stages[5].when', message: /followed by a stage id/ });
    expectProblem(when('${{ stages.evaluate.outputs.nope != null }}'), {
      code: 'PW_SPEC_EXPRESSION_REFERENCE',
      path: 'stages[5].when',
      message: /has no output nope; outputs: report/,
    });
    expectProblem(when('${{ matrix.lr > 0 }}'), { code: 'PW_SPEC_EXPRESSION_REFERENCE', path: 'stages[5].when', message: /unknown name matrix/ });
    expectProblem(
      spec((s) => {
        stage(s, 'train')['matrix'] = { lr: [0.1, 0.2] };
        stage(s, 'evaluate')['inputs'] = { model: 'train-0.model' };
        stage(s, 'register')['inputs'] = { model: 'train-0.model' };
        stage(s, 'register')['when'] = '${{ stages.train.metrics.loss < 1 }}';
      }),
      { code: 'PW_SPEC_EXPRESSION_REFERENCE', path: 'stages[5].when', message: /train is a matrix stage; refer to one of its expansions/ },
    );
  });

  it('accepts when reading params, needed metrics and outputs', () => {
    const ok = spec((s) => {
      s.params['minF1'] = { type: 'number', default: 0.9 };
      stage(s, 'register')['when'] = 'stages.evaluate.metrics.f1 >= params.minF1 && stages.evaluate.outputs.report != null';
    });
    expect(planPipeline(ok, catalog).ok).toBe(true);
  });

  it('PW_SPEC_EXPRESSION_EVAL for a with expression that fails at submit time', () => {
    expectProblem(spec((s) => (stage(s, 'split')['with'] = { testSize: '${{ params.testSize / 0 }}' })), {
      code: 'PW_SPEC_EXPRESSION_EVAL',
      path: 'stages[1].with.testSize',
      message: /division by zero/,
    });
    expectProblem(spec((s) => (stage(s, 'scale')['with'] = { columns: ['a', '${{ params.testSize < "x" }}'] })), {
      code: 'PW_SPEC_EXPRESSION_EVAL',
      path: 'stages[2].with.columns[1]',
      message: /cannot compare number with string/,
    });
  });

  it('PW_SPEC_MATRIX_TOO_LARGE', () => {
    const range = Array.from({ length: 20 }, (_, i) => i + 1);
    expectProblem(
      spec((s) => Object.assign(stage(s, 'train'), { matrix: { a: range, epochs: range }, with: { epochs: '${{ matrix.epochs }}' } })),
      { code: 'PW_SPEC_MATRIX_TOO_LARGE', path: 'stages[3].matrix', message: /400 combinations; at most 256/ },
    );
  });

  it('PW_SPEC_TOO_LARGE after matrix expansion', () => {
    const values = Array.from({ length: 250 }, (_, i) => i);
    const stages = Array.from({ length: 41 }, (_, i) => ({ id: `s${i}`, uses: 'util.noop@1', matrix: { n: values } }));
    const problems = expectProblem(
      { apiVersion: 'pipewright/v1', name: 'big', stages },
      { code: 'PW_SPEC_TOO_LARGE', path: 'stages', message: new RegExp(`10250 stages .* at most ${MAX_PLANNED_STAGES}`) },
    );
    expect(problems).toHaveLength(1);
  });

  it('collects every problem of a spec with many, in one answer', () => {
    const problems = problemsOf(
      planPipeline(
        spec((s) => {
          stage(s, 'ingest')['with'] = {};
          stage(s, 'scale')['needs'] = ['split', 'nope'];
          stage(s, 'train').uses = 'train.logistic@9';
          stage(s, 'evaluate')['inputs'] = { test: 'train.model' };
          stage(s, 'register')['when'] = '${{ stages.ingest.metrics.rows > 0 }}';
          s.stages.push({ id: 'split', uses: 'util.noop@1' });
        }),
        catalog,
        { params: { extra: true } },
      ),
    );
    expect(problems.map((p) => `${p.code} ${p.path}`).sort()).toEqual(
      [
        'PW_SPEC_PARAM_UNKNOWN params.extra',
        'PW_SPEC_DUPLICATE_STAGE_ID stages[6].id',
        'PW_SPEC_UNKNOWN_STAGE_TYPE stages[3].uses',
        'PW_SPEC_UNKNOWN_NEED stages[2].needs[1]',
        'PW_SPEC_PARAMS_INVALID stages[0].with.path',
        'PW_SPEC_EXPRESSION_REFERENCE stages[5].when',
        // train's type is unknown, so the binding to train.model cannot be checked further.
      ].sort(),
    );
  });
});

/** `n` util.noop stages, each needing up to 3 random earlier ones (a seeded LCG, so reproducible). */
function randomDagSpec(n: number, seed = 1): Json {
  let state = seed;
  const random = (): number => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
  const stages = Array.from({ length: n }, (_, i) => {
    const needs = new Set<string>();
    const count = i === 0 ? 0 : Math.floor(random() * 4);
    for (let k = 0; k < count; k++) needs.add(`s${Math.floor(random() * i)}`);
    return {
      id: `s${i}`,
      uses: 'util.noop@1',
      ...(needs.size > 0 ? { needs: [...needs] } : {}),
      ...(i % 10 === 0 ? { with: { n: '${{ params.n }}' } } : {}),
    };
  });
  return { apiVersion: 'pipewright/v1', name: 'random', params: { n: { type: 'integer', default: 7 } }, stages };
}

describe('planPipeline: scale and properties', () => {
  it('plans a 10,000-stage random DAG', () => {
    const stages = planOf(planPipeline(randomDagSpec(10_000), catalog));
    expect(stages).toHaveLength(10_000);
    expect(byId(stages, 's10').params).toEqual({ n: 7 });
    const position = new Map(stages.map((s, i) => [s.id, i]));
    for (const s of stages) for (const need of s.needs) expect(position.get(need) as number).toBeLessThan(position.get(s.id) as number);
  });

  it('reports a cycle closed in a 10,000-stage random DAG', () => {
    const input = randomDagSpec(10_000) as { stages: { id: string; needs?: string[] }[] };
    (input.stages[0] as { needs?: string[] }).needs = ['s9999'];
    const problems = problemsOf(planPipeline(input, catalog));
    expect(problems.map((p) => p.code)).toEqual(['PW_SPEC_CYCLE']);
    expect(problems[0]?.message).toMatch(/^needs form a cycle: s0 -> .* -> s9999 -> s0$/);
  });

  it('plans random DAGs in topological order, whatever the spec order (property)', () => {
    const arbitrary = fc.integer({ min: 1, max: 25 }).chain((n) =>
      fc.tuple(
        fc.tuple(...Array.from({ length: n }, (_, k) => fc.subarray(Array.from({ length: k }, (_, j) => `s${j}`)))),
        fc.shuffledSubarray(Array.from({ length: n }, (_, k) => k), { minLength: n, maxLength: n }),
      ),
    );
    fc.assert(
      fc.property(arbitrary, ([needsByCreation, order]) => {
        const stages = order.map((k) => ({ id: `s${k}`, uses: 'util.noop@1', needs: needsByCreation[k] as string[] }));
        const planned = planOf(planPipeline({ apiVersion: 'pipewright/v1', name: 'p', stages }, catalog));
        expect(planned.map((s) => s.id).sort()).toEqual(stages.map((s) => s.id).sort());
        const position = new Map(planned.map((s, i) => [s.id, i]));
        for (const s of planned) {
          expect(s.needs).toEqual(needsByCreation[Number(s.id.slice(1))]);
          for (const need of s.needs) expect(position.get(need) as number).toBeLessThan(position.get(s.id) as number);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('never throws, whatever the input (property)', () => {
    const value = fc.jsonValue({ maxDepth: 4 });
    const stageLike = fc.record(
      {
        id: fc.constantFrom('a', 'b', 'c', 'a-0', '1bad'),
        uses: fc.constantFrom(...FAKE_DESCRIPTORS.map((d) => d.type), 'nope.x@1', 'bad'),
        needs: fc.array(fc.constantFrom('a', 'b', 'c', 'zz'), { maxLength: 3 }),
        with: fc.dictionary(fc.constantFrom('path', 'testSize', 'lr', 'n', 'x'), fc.oneof(value, fc.constantFrom('${{ params.p }}', '${{ matrix.m }}', '${{ 1/0 }}', '${{'))),
        inputs: fc.dictionary(fc.constantFrom('data', 'train', 'model', 'test'), fc.constantFrom('a.data', 'b.model', 'c.test', 'a-0.x')),
        when: fc.constantFrom('${{ stages.a.metrics.f1 > 0 }}', 'params.p', '${{', 'x(1)'),
        matrix: fc.dictionary(fc.constantFrom('m', 'k'), fc.array(value, { minLength: 1, maxLength: 3 })),
        extra: value,
      },
      { requiredKeys: ['id', 'uses'] },
    );
    const specLike = fc.record(
      {
        apiVersion: fc.constantFrom('pipewright/v1', 'v0'),
        name: fc.constantFrom('p', 'Bad Name'),
        params: fc.dictionary(fc.constantFrom('p', 'q'), fc.record({ type: fc.constantFrom('number', 'string', 'array'), default: value }, { requiredKeys: ['type'] })),
        stages: fc.array(stageLike, { maxLength: 6 }),
      },
      { requiredKeys: ['apiVersion', 'name', 'stages'] },
    );
    fc.assert(
      fc.property(fc.oneof(specLike, value), fc.dictionary(fc.constantFrom('p', 'q', 'r'), value), (input, params) => {
        const result = planPipeline(input, catalog, { params });
        if (!result.ok) {
          expect(result.problems.length).toBeGreaterThan(0);
          for (const problem of result.problems) expect(SPEC_PROBLEM_CODE_LIST).toContain(problem.code);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('planPipeline: coverage of problem codes', () => {
  // Runs last in this file (tests run in order): every code a spec can produce was produced by
  // some test above. PW_SPEC_PARSE_ERROR comes from parseSpecText and is tested there;
  // PW_SPEC_FOREACH_INVALID in plan-foreach.test.ts, whose catalog has list-producing stages.
  it('has produced every PW_SPEC_* code', () => {
    const expected = SPEC_PROBLEM_CODE_LIST.filter((code) => code !== 'PW_SPEC_PARSE_ERROR' && code !== 'PW_SPEC_FOREACH_INVALID');
    expect(expected.filter((code) => !codesSeen.has(code))).toEqual([]);
  });
});
