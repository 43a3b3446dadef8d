import { describe, expect, it } from 'vitest';
import { parseSpecText, pipelineSpecSchema, stageSpecSchema } from './pipeline-spec.ts';

const minimal = { apiVersion: 'pipewright/v1', name: 'p', stages: [{ id: 'ingest', uses: 'ingest.csv@1' }] };

function issuesOf(input: unknown): { path: string; message: string }[] {
  const result = pipelineSpecSchema.safeParse(input);
  if (result.success) return [];
  return result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
}

function withStage(stage: Record<string, unknown>): unknown {
  return { ...minimal, stages: [{ id: 'ingest', uses: 'ingest.csv@1', ...stage }] };
}

describe('pipelineSpecSchema', () => {
  it('accepts a minimal spec and a full one', () => {
    expect(pipelineSpecSchema.safeParse(minimal).success).toBe(true);
    const full = {
      apiVersion: 'pipewright/v1',
      name: 'breast-cancer-diagnosis',
      description: 'diagnosis',
      params: {
        testSize: { type: 'number', default: 0.3, description: 'fraction held out' },
        seeds: { type: 'array' },
        cfg: { type: 'object', default: {} },
        n: { type: 'integer', default: 3 },
        label: { type: 'string' },
        flag: { type: 'boolean', default: true },
      },
      cache: false,
      stages: [
        { id: 'ingest', uses: 'ingest.csv@1', with: { path: 'x.csv' } },
        {
          id: 'train_2',
          uses: 'train.logistic@1',
          needs: ['ingest'],
          with: { lr: '${{ matrix.lr }}' },
          inputs: { train: 'ingest.data' },
          when: '${{ params.flag }}',
          resources: { gpu: 8 },
          retry: { attempts: 3, backoff: 'fixed', delayMs: 0, maxDelayMs: 10, jitter: false },
          timeoutMs: 600000,
          cache: true,
          matrix: { lr: [0.1, 0.01] },
        },
      ],
    };
    const result = pipelineSpecSchema.safeParse(full);
    expect(result.error?.issues).toBeUndefined();
  });

  it('rejects unknown keys at every level', () => {
    expect(issuesOf({ ...minimal, extra: 1 })).toEqual([{ path: '', message: 'Unrecognized key: "extra"' }]);
    expect(issuesOf(withStage({ need: ['x'] }))[0]?.path).toBe('stages.0');
    expect(issuesOf(withStage({ retry: { attempt: 2 } }))[0]?.path).toBe('stages.0.retry');
    expect(issuesOf(withStage({ resources: { cpu: 2 } }))[0]?.path).toBe('stages.0.resources');
    expect(issuesOf({ ...minimal, params: { a: { type: 'number', defualt: 1 } } })[0]?.path).toBe('params.a');
  });

  it('requires apiVersion pipewright/v1, a name and at least one stage', () => {
    expect(issuesOf({ ...minimal, apiVersion: 'pipewright/v2' }).map((i) => i.path)).toEqual(['apiVersion']);
    expect(issuesOf({ apiVersion: 'pipewright/v1', stages: minimal.stages }).map((i) => i.path)).toEqual(['name']);
    expect(issuesOf({ ...minimal, stages: [] }).map((i) => i.path)).toEqual(['stages']);
    expect(issuesOf(null).length).toBe(1);
    expect(issuesOf([]).length).toBe(1);
  });

  it('checks the pipeline name', () => {
    for (const name of ['a', 'breast-cancer-diagnosis', '0x', 'a.b_c-d', 'x'.repeat(100)]) {
      expect(issuesOf({ ...minimal, name }), name).toEqual([]);
    }
    for (const name of ['', 'Upper', '-lead', '_lead', 'sp ace', 'x'.repeat(101), 'a/b']) {
      expect(issuesOf({ ...minimal, name }).map((i) => i.path), name).toEqual(['name']);
    }
  });

  it('checks stage ids', () => {
    for (const id of ['a', '_a', 'A1', 'eval-test', 'x_y-z']) expect(issuesOf(withStage({ id })), id).toEqual([]);
    for (const id of ['', '1a', '-a', 'a.b', 'a b', 'a/b']) {
      expect(issuesOf(withStage({ id })).map((i) => i.path), id).toEqual(['stages.0.id']);
    }
  });

  it('checks uses is family.name@version', () => {
    for (const uses of ['ingest.csv@1', 'train.logistic_v2@12']) expect(issuesOf(withStage({ uses })), uses).toEqual([]);
    for (const uses of ['ingest.csv', 'ingest@1', 'Ingest.csv@1', 'ingest.csv@v1', 'a.b.c@1', '']) {
      expect(issuesOf(withStage({ uses })).map((i) => i.path), uses).toEqual(['stages.0.uses']);
    }
  });

  it('checks param declarations', () => {
    expect(issuesOf({ ...minimal, params: { a: { type: 'float' } } }).map((i) => i.path)).toEqual(['params.a.type']);
    expect(issuesOf({ ...minimal, params: { 'bad-name': { type: 'number' } } }).map((i) => i.path)).toEqual(['params.bad-name']);
    expect(issuesOf({ ...minimal, params: { a: {} } }).map((i) => i.path)).toEqual(['params.a.type']);
  });

  it('checks input bindings look like <stage>.<output>', () => {
    expect(issuesOf(withStage({ inputs: { train: 'split-1.train' } }))).toEqual([]);
    for (const binding of ['split', 'split.', '.train', 'a.b.c', 'a b.c']) {
      expect(issuesOf(withStage({ inputs: { train: binding } })).map((i) => i.path), binding).toEqual(['stages.0.inputs.train']);
    }
  });

  it('checks resources, retry, timeout, cache, when', () => {
    expect(issuesOf(withStage({ resources: { gpu: 0 } }))).toEqual([]);
    expect(issuesOf(withStage({ resources: { gpu: 9 } })).map((i) => i.path)).toEqual(['stages.0.resources.gpu']);
    expect(issuesOf(withStage({ resources: { gpu: 0.5 } })).map((i) => i.path)).toEqual(['stages.0.resources.gpu']);
    expect(issuesOf(withStage({ resources: { gpu: -1 } })).map((i) => i.path)).toEqual(['stages.0.resources.gpu']);
    expect(issuesOf(withStage({ retry: { attempts: 0 } })).map((i) => i.path)).toEqual(['stages.0.retry.attempts']);
    expect(issuesOf(withStage({ retry: { backoff: 'linear' } })).map((i) => i.path)).toEqual(['stages.0.retry.backoff']);
    expect(issuesOf(withStage({ retry: { delayMs: 5000, maxDelayMs: 10 } }))).toEqual([
      { path: 'stages.0.retry.maxDelayMs', message: 'must be at least delayMs (5000)' },
    ]);
    expect(issuesOf(withStage({ timeoutMs: 0 })).map((i) => i.path)).toEqual(['stages.0.timeoutMs']);
    expect(issuesOf(withStage({ timeoutMs: '10s' })).map((i) => i.path)).toEqual(['stages.0.timeoutMs']);
    expect(issuesOf(withStage({ cache: 'yes' })).map((i) => i.path)).toEqual(['stages.0.cache']);
    expect(issuesOf(withStage({ when: '' })).map((i) => i.path)).toEqual(['stages.0.when']);
    expect(issuesOf(withStage({ needs: 'ingest' })).map((i) => i.path)).toEqual(['stages.0.needs']);
  });

  it('checks matrix axes', () => {
    expect(issuesOf(withStage({ matrix: { lr: [] } })).map((i) => i.path)).toEqual(['stages.0.matrix.lr']);
    expect(issuesOf(withStage({ matrix: {} })).map((i) => i.path)).toEqual(['stages.0.matrix']);
    expect(issuesOf(withStage({ matrix: { lr: 0.1 } })).map((i) => i.path)).toEqual(['stages.0.matrix.lr']);
    expect(issuesOf(withStage({ matrix: { 'l-r': [1] } })).map((i) => i.path)).toEqual(['stages.0.matrix.l-r']);
  });

  it('refuses prototype keys in with', () => {
    const spec = JSON.parse('{"apiVersion":"pipewright/v1","name":"p","stages":[{"id":"a","uses":"ingest.csv@1","with":{"__proto__":{"x":1}}}]}');
    expect(issuesOf(spec).map((i) => i.path)).toEqual(['stages.0.with.__proto__']);
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
    const elsewhere = JSON.parse(
      '{"apiVersion":"pipewright/v1","name":"p","params":{"__proto__":{"type":"number"}},' +
        '"stages":[{"id":"a","uses":"ingest.csv@1","matrix":{"__proto__":[1]},"inputs":{"__proto__":"a.b"}}]}',
    );
    expect(issuesOf(elsewhere).map((i) => i.path)).toEqual(['params.__proto__', 'stages.0.inputs.__proto__', 'stages.0.matrix.__proto__']);
  });

  it('exposes the stage schema on its own', () => {
    expect(stageSpecSchema.safeParse({ id: 'a', uses: 'ingest.csv@1' }).success).toBe(true);
  });
});

describe('parseSpecText', () => {
  const yamlText = [
    'apiVersion: pipewright/v1',
    'name: breast-cancer-diagnosis',
    'params: { testSize: { type: number, default: 0.3 } }',
    'stages:',
    '  - { id: ingest, uses: ingest.csv@1, with: { path: data/breast_cancer.csv } }',
    '  - id: split',
    '    uses: split.train_test@1',
    '    needs: [ingest]',
    '    with: { testSize: "${{ params.testSize }}" }',
  ].join('\n');

  it('parses YAML', () => {
    const result = parseSpecText(yamlText);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(pipelineSpecSchema.parse(result.value).stages[1]?.with).toEqual({ testSize: '${{ params.testSize }}' });
  });

  it('parses JSON as JSON, with or without a content type', () => {
    const json = JSON.stringify(minimal);
    expect(parseSpecText(json, 'application/json')).toEqual({ ok: true, value: minimal });
    expect(parseSpecText(json, 'application/json; charset=utf-8')).toEqual({ ok: true, value: minimal });
    expect(parseSpecText(json, 'application/vnd.pipewright+json')).toEqual({ ok: true, value: minimal });
    expect(parseSpecText(json)).toEqual({ ok: true, value: minimal });
    expect(parseSpecText(json, 'application/yaml')).toEqual({ ok: true, value: minimal });
  });

  it('accepts a YAML flow mapping that is not strict JSON', () => {
    expect(parseSpecText('{ a: 1, b: [x, y] }')).toEqual({ ok: true, value: { a: 1, b: ['x', 'y'] } });
  });

  it('reports YAML errors with their line and column', () => {
    const result = parseSpecText('name: p\nstages:\n  - id: a\n   bad: [1, 2\n');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.length).toBeGreaterThan(0);
    for (const problem of result.problems) {
      expect(problem.code).toBe('PW_SPEC_PARSE_ERROR');
      expect(problem.path).toBe('');
      expect(problem.line).toBeGreaterThanOrEqual(3);
      expect(problem.message).toMatch(/^line \d+, column \d+: /);
    }
  });

  it('reports duplicate keys', () => {
    const result = parseSpecText('name: a\nname: b\n');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems[0]).toMatchObject({ code: 'PW_SPEC_PARSE_ERROR', line: 2 });
  });

  it('reports JSON errors with a position when the engine gives one', () => {
    const result = parseSpecText('{\n  "a": 1,\n}', 'application/json');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems[0]?.code).toBe('PW_SPEC_PARSE_ERROR');
    expect(result.problems[0]?.message).toMatch(/invalid JSON/);
    if (result.problems[0]?.line !== undefined) expect(result.problems[0].line).toBe(3);
  });

  it('refuses an alias bomb', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++) {
      const prev = String.fromCharCode(97 + i);
      const next = String.fromCharCode(98 + i);
      lines.push(`${next}: &${next} [*${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}]`);
    }
    const result = parseSpecText(lines.join('\n'));
    expect(result.ok).toBe(false);
  });

  it('parses an empty document to null (the schema then rejects it)', () => {
    expect(parseSpecText('')).toEqual({ ok: true, value: null });
  });
});
