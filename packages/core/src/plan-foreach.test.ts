import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { planPipeline } from './plan-pipeline.ts';
import type { StageCatalog, StageDescriptor } from './stage-descriptor.ts';

const d = (type: string, inputs: StageDescriptor['inputs'], outputs: StageDescriptor['outputs'], params = z.object({}).strict()): StageDescriptor => ({
  type,
  family: type.split('.')[0] ?? '',
  description: type,
  inputs,
  outputs,
  params,
});
const types = [
  d('data.load@1', {}, { data: 'table' }),
  d('select.grid@1', {}, { trials: 'json' }, z.object({ space: z.record(z.string(), z.array(z.number())) }).strict()),
  d('select.trial@1', { data: 'table' }, { result: 'json' }, z.object({ lr: z.number() }).strict()),
  d('select.best@1', { result: 'json[]' }, { best: 'json' }),
  d('report.one@1', { result: 'json' }, { out: 'json' }),
];
const catalog: StageCatalog = { get: (t) => types.find((x) => x.type === t), list: () => types };

const spec = (trial: Record<string, unknown> = {}, best: Record<string, unknown> = {}) => ({
  apiVersion: 'pipewright/v1',
  name: 'search',
  params: { scale: { type: 'number', default: 1 } },
  stages: [
    { id: 'load', uses: 'data.load@1' },
    { id: 'grid', uses: 'select.grid@1', with: { space: { lr: [0.1, 0.01] } } },
    { id: 'trial', uses: 'select.trial@1', needs: ['load', 'grid'], foreach: 'grid.trials', with: { lr: '${{ item.lr * params.scale }}' }, ...trial },
    { id: 'best', uses: 'select.best@1', needs: ['trial'], ...best },
  ],
});

describe('planPipeline: run-time fan-out (foreach)', () => {
  it('plans the foreach stage with its raw with, and binds a list input to its outputs', () => {
    const result = planPipeline(spec(), catalog);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const trial = result.plan.stages.find((s) => s.id === 'trial');
    expect(trial?.foreach).toEqual({ stage: 'grid', output: 'trials' });
    expect(trial?.params).toEqual({ lr: '${{ item.lr * params.scale }}' });
    expect(result.plan.stages.find((s) => s.id === 'best')?.inputs).toEqual({ result: { stage: 'trial', output: 'result', type: 'json', list: true } });
  });

  it('refuses a foreach that is not in needs, not json, or next to a matrix', () => {
    const problems = (s: unknown) => {
      const r = planPipeline(s, catalog);
      return r.ok ? [] : r.problems.map((p) => `${p.path} ${p.code}`);
    };
    expect(problems(spec({ needs: ['load'] }))).toContain('stages[2].foreach PW_SPEC_FOREACH_INVALID');
    expect(problems(spec({ foreach: 'load.data' }))).toContain('stages[2].foreach PW_SPEC_FOREACH_INVALID');
    expect(problems(spec({ matrix: { k: [1, 2] } }))).toContain('stages[2].foreach PW_SPEC_FOREACH_INVALID');
  });

  it('refuses item outside a foreach stage, and plain inputs bound to a fan-out', () => {
    const r1 = planPipeline(spec({ foreach: undefined }), catalog);
    expect(r1.ok ? [] : r1.problems.map((p) => p.code)).toContain('PW_SPEC_EXPRESSION_REFERENCE');
    const wrong = spec({}, { uses: 'report.one@1' });
    const r2 = planPipeline(wrong, catalog);
    expect(r2.ok).toBe(false);
    if (!r2.ok) expect(r2.problems[0]).toMatchObject({ path: 'stages[3].inputs.result', code: 'PW_SPEC_INPUT_TYPE_MISMATCH' });
    if (!r2.ok) expect(r2.problems[0]?.message).toMatch(/foreach stage/);
  });
});
