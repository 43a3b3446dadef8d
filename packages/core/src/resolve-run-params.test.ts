import { describe, expect, it } from 'vitest';
import { matchesParamType, resolveRunParams } from './resolve-run-params.ts';

describe('matchesParamType', () => {
  it('checks each param type', () => {
    expect(matchesParamType('number', 0.3)).toBe(true);
    expect(matchesParamType('number', Number.NaN)).toBe(false);
    expect(matchesParamType('number', Number.POSITIVE_INFINITY)).toBe(false);
    expect(matchesParamType('number', '1')).toBe(false);
    expect(matchesParamType('integer', 3)).toBe(true);
    expect(matchesParamType('integer', 3.5)).toBe(false);
    expect(matchesParamType('integer', 2 ** 60)).toBe(false);
    expect(matchesParamType('string', '')).toBe(true);
    expect(matchesParamType('string', 1)).toBe(false);
    expect(matchesParamType('boolean', false)).toBe(true);
    expect(matchesParamType('boolean', 'false')).toBe(false);
    expect(matchesParamType('array', [])).toBe(true);
    expect(matchesParamType('array', {})).toBe(false);
    expect(matchesParamType('object', {})).toBe(true);
    expect(matchesParamType('object', [])).toBe(false);
    expect(matchesParamType('object', null)).toBe(false);
  });
});

describe('resolveRunParams', () => {
  it('takes overrides over defaults', () => {
    const result = resolveRunParams(
      { a: { type: 'number', default: 1 }, b: { type: 'string', default: 'x' }, c: { type: 'boolean' } },
      { a: 2, c: true },
    );
    expect(result).toEqual({ params: { a: 2, b: 'x', c: true }, problems: [], invalid: new Set() });
  });

  it('reports unknown, mistyped and missing params', () => {
    const result = resolveRunParams(
      { a: { type: 'integer', default: 1.5 }, b: { type: 'string' }, c: { type: 'array', default: [] } },
      { c: 'no', z: 1, skipped: undefined },
    );
    expect(result.problems).toEqual([
      { path: 'params.a.default', code: 'PW_SPEC_PARAM_TYPE', message: 'default of param a must be integer, got number 1.5' },
      { path: 'params.b', code: 'PW_SPEC_PARAM_MISSING', message: 'param b has no default and no value was given for the run' },
      { path: 'params.c', code: 'PW_SPEC_PARAM_TYPE', message: 'param c must be array, got string' },
      { path: 'params.z', code: 'PW_SPEC_PARAM_UNKNOWN', message: "param z is not declared in the spec's params" },
    ]);
    expect([...result.invalid].sort()).toEqual(['a', 'b', 'c']);
  });

  it('keeps a param named __proto__ as data', () => {
    const declarations = JSON.parse('{"__proto__": {"type": "number", "default": 1}}');
    const result = resolveRunParams(declarations);
    expect(Object.hasOwn(result.params, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(result.params)).toBe(Object.prototype);
  });
});
