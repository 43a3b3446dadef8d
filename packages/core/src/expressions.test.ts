import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ExpressionError,
  MAX_EXPRESSION_DEPTH,
  MAX_EXPRESSION_LENGTH,
  evaluateCondition,
  evaluateExpression,
  interpolate,
  parseCondition,
  parseExpression,
  parseTemplate,
  referencedPaths,
} from './expressions.ts';

const scope = {
  params: { testSize: 0.3, name: 'iris', n: 3, flag: true, off: false, list: [10, 20, 30], nested: { a: { b: 'deep' } }, zero: 0, empty: '' },
  matrix: { lr: 0.01 },
  stages: { evaluate: { metrics: { f1: 0.93, auc: 0.8 }, outputs: { report: { digest: 'sha256:ab' } } }, 'eval-test': { metrics: { f1: 0.5 } } },
};

function run(src: string): unknown {
  return evaluateExpression(parseExpression(src), scope);
}

function errorOf(fn: () => unknown): ExpressionError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ExpressionError) return error;
    throw error;
  }
  throw new Error('expected an ExpressionError');
}

describe('parseExpression / evaluateExpression', () => {
  it('evaluates literals', () => {
    expect(run('42')).toBe(42);
    expect(run('0.25')).toBe(0.25);
    expect(run('1e3')).toBe(1000);
    expect(run('2.5E-1')).toBe(0.25);
    expect(run("'it'")).toBe('it');
    expect(run("'a\\'b'")).toBe("a'b");
    expect(run('"x\\"y\\n"')).toBe('x"y\n');
    expect(run('true')).toBe(true);
    expect(run('false')).toBe(false);
    expect(run('null')).toBe(null);
  });

  it('reads dotted and indexed paths', () => {
    expect(run('params.testSize')).toBe(0.3);
    expect(run('stages.evaluate.metrics.f1')).toBe(0.93);
    expect(run('matrix.lr')).toBe(0.01);
    expect(run('params.list[1]')).toBe(20);
    expect(run("params['nested'].a['b']")).toBe('deep');
    expect(run("stages['eval-test'].metrics.f1")).toBe(0.5);
    expect(run('params.nested')).toEqual({ a: { b: 'deep' } });
    expect(run('stages.evaluate.outputs.report.digest')).toBe('sha256:ab');
  });

  it('yields null for missing paths and never reads inherited members', () => {
    expect(run('params.missing')).toBe(null);
    expect(run('nothing.at.all')).toBe(null);
    expect(run('params.list[7]')).toBe(null);
    expect(run('params.name.length')).toBe(null);
    expect(run('params.toString')).toBe(null);
    expect(run('params.hasOwnProperty')).toBe(null);
    expect(run('params.list.map')).toBe(null);
    expect(run("params.list['0']")).toBe(null);
  });

  it('applies operators with the usual precedence', () => {
    expect(run('1 + 2 * 3')).toBe(7);
    expect(run('(1 + 2) * 3')).toBe(9);
    expect(run('10 - 4 - 3')).toBe(3);
    expect(run('12 / 4 / 3')).toBe(1);
    expect(run('-params.n + 1')).toBe(-2);
    expect(run('--2')).toBe(2);
    expect(run('1 < 2 == 2 < 3')).toBe(true);
    expect(run('params.n >= 3 && params.n <= 3')).toBe(true);
    expect(run('params.n > 3 || params.n < 3')).toBe(false);
    expect(run('!params.flag')).toBe(false);
    expect(run('!!params.name')).toBe(true);
    expect(run("'a' < 'b'")).toBe(true);
    expect(run("'v' + params.n")).toBe('v3');
    expect(run("params.name + '-' + params.flag")).toBe('iris-true');
    expect(run('stages.evaluate.metrics.f1 >= 0.9')).toBe(true);
    expect(run('true || false && false')).toBe(true);
  });

  it('short-circuits && and || like JavaScript', () => {
    expect(run("params.empty || 'default'")).toBe('default');
    expect(run("params.name || 'default'")).toBe('iris');
    expect(run('params.zero && 1 / 0')).toBe(0);
    expect(run('params.flag || 1 / 0')).toBe(true);
    expect(run('params.flag && params.n')).toBe(3);
  });

  it('compares values structurally with == and !=', () => {
    expect(run('params.n == 3')).toBe(true);
    expect(run("params.n == '3'")).toBe(false);
    expect(run('params.missing == null')).toBe(true);
    expect(run('params.list == params.list')).toBe(true);
    expect(run('params.nested != null')).toBe(true);
    expect(run('0 == false')).toBe(false);
  });

  it('throws typed errors instead of coercing', () => {
    expect(errorOf(() => run("params.n < 'x'")).reason).toMatch(/cannot compare number with string/);
    expect(errorOf(() => run('params.missing >= 0.9')).reason).toMatch(/cannot compare null with number/);
    expect(errorOf(() => run("'a' - 1")).reason).toMatch(/needs two numbers/);
    expect(errorOf(() => run('1 / 0')).reason).toBe('division by zero');
    expect(errorOf(() => run('-params.name')).reason).toMatch(/cannot negate string/);
    expect(errorOf(() => run('params.list + 1')).reason).toMatch(/cannot add array and number/);
    expect(errorOf(() => run("'a' + null")).reason).toMatch(/cannot add string and null/);
    expect(errorOf(() => run('1e308 * 10')).reason).toMatch(/finite/);
  });

  it('reports syntax errors with the position', () => {
    const cases: [string, number, RegExp][] = [
      ['1 +', 3, /unexpected end/],
      ['(1 + 2', 6, /expected '\)'/],
      ['params.', 7, /expected a name after '\.'/],
      ['a = 1', 2, /use '=='/],
      ['a & b', 2, /use '&&'/],
      ["'abc", 0, /unterminated string/],
      ['1 2', 2, /unexpected number 2/],
      ['a[b]', 2, /index must be a number or string literal/],
      ['a[1.5]', 2, /non-negative integer/],
      ['a[0', 3, /expected '\]'/],
      ['@', 0, /unexpected character '@'/],
      ['', 0, /empty expression/],
      ['   ', 0, /empty expression/],
      ["'\\x'", 1, /unknown escape/],
      ['1e', 0, /exponent/],
      ['12abc', 2, /after number/],
      ['1e999', 0, /out of range/],
      ['a ? b : c', 2, /unexpected character '\?'/],
    ];
    for (const [src, position, reason] of cases) {
      const error = errorOf(() => parseExpression(src));
      expect(error.reason, src).toMatch(reason);
      expect(error.position, src).toBe(position);
      expect(error.message, src).toContain(`at position ${position}`);
    }
  });

  it('refuses __proto__, constructor, prototype and function calls', () => {
    for (const src of [
      '__proto__',
      'params.__proto__',
      'params.constructor',
      'params.constructor.constructor',
      "params['constructor']",
      "params['__proto__'].x",
      'constructor',
      'params.prototype',
      "stages['prototype']",
    ]) {
      expect(errorOf(() => parseExpression(src)).reason, src).toMatch(/may not be accessed/);
    }
    for (const src of ['f()', 'params.x()', 'params.list.map(x)', "params['a']()", 'a(1, 2)']) {
      expect(errorOf(() => parseExpression(src)).reason, src).toMatch(/function calls are not allowed/);
    }
    expect(errorOf(() => parseExpression('(1)(2)')).reason).toMatch(/function calls are not allowed/);
    expect(errorOf(() => parseExpression('a, b')).reason).toMatch(/','/);
  });

  it('does not read prototype members even when they are in scope objects', () => {
    class WithMethods {
      own = 1;
      method(): string {
        return 'called';
      }
    }
    const tricky = { obj: new WithMethods(), fn: () => 'called', arr: [1] };
    expect(evaluateExpression(parseExpression('obj.method'), tricky)).toBe(null);
    expect(evaluateExpression(parseExpression('obj.own'), tricky)).toBe(1);
    expect(evaluateExpression(parseExpression('fn'), tricky)).toBe(null);
    expect(evaluateExpression(parseExpression('arr.length'), tricky)).toBe(null);
  });

  it('bounds length and depth', () => {
    expect(() => parseExpression('a'.repeat(MAX_EXPRESSION_LENGTH))).not.toThrow();
    expect(errorOf(() => parseExpression('a'.repeat(MAX_EXPRESSION_LENGTH + 1))).reason).toMatch(/longer than/);
    const nested = (n: number): string => `${'('.repeat(n)}1${')'.repeat(n)}`;
    expect(run(nested(MAX_EXPRESSION_DEPTH - 1))).toBe(1);
    expect(errorOf(() => parseExpression(nested(400))).reason).toMatch(/nested deeper/);
    expect(errorOf(() => parseExpression('!'.repeat(500) + 'a')).reason).toMatch(/nested deeper/);
    expect(errorOf(() => parseExpression('-'.repeat(500) + '1')).reason).toMatch(/nested deeper/);
    expect(errorOf(() => parseExpression(Array(300).fill('1').join('+'))).reason).toMatch(/nested deeper/);
    expect(run(Array(MAX_EXPRESSION_DEPTH).fill('1').join('+'))).toBe(MAX_EXPRESSION_DEPTH);
  });

  it('never throws anything but ExpressionError on arbitrary input (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (src) => {
        try {
          evaluateExpression(parseExpression(src), scope);
        } catch (error) {
          expect(error).toBeInstanceOf(ExpressionError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws anything but ExpressionError on token soup (property)', () => {
    const token = fc.constantFrom('params', '.', 'n', '[', ']', '(', ')', '0', "'x'", '+', '-', '*', '/', '!', '&&', '||', '==', '<', '>=', 'null', 'true', ' ');
    fc.assert(
      fc.property(fc.array(token, { maxLength: 40 }), (tokens) => {
        try {
          const value = evaluateExpression(parseExpression(tokens.join('')), scope);
          expect(typeof value === 'function').toBe(false);
        } catch (error) {
          expect(error).toBeInstanceOf(ExpressionError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('computes integer arithmetic like JavaScript (property)', () => {
    const small = fc.integer({ min: -1000, max: 1000 });
    fc.assert(
      fc.property(small, small, small, (a, b, c) => {
        expect(run(`${a} - ${b} * ${c}`.replaceAll('- -', '- - ').replaceAll('* -', '* - '))).toBe(a - b * c);
        expect(run(`(${a}) + (${b}) > (${c})`)).toBe(a + b > c);
      }),
    );
  });
});

describe('referencedPaths', () => {
  it('lists every path read, in source order', () => {
    const ast = parseExpression("stages.evaluate.metrics.f1 >= params.min && !(matrix.lr == 1) || stages['eval-test'].outputs[0]");
    expect(referencedPaths(ast)).toEqual([
      ['stages', 'evaluate', 'metrics', 'f1'],
      ['params', 'min'],
      ['matrix', 'lr'],
      ['stages', 'eval-test', 'outputs', 0],
    ]);
    expect(referencedPaths(parseExpression('1 + 2'))).toEqual([]);
  });
});

describe('parseTemplate', () => {
  it('splits text and expressions', () => {
    const parts = parseTemplate('a ${{ params.n }} b ${{ 1 }}');
    expect(parts.map((part) => (part.kind === 'text' ? part.value : part.source))).toEqual(['a ', ' params.n ', ' b ', ' 1 ']);
    expect(parts[1]).toMatchObject({ kind: 'expression', pos: 2 });
    expect(parseTemplate('plain')).toEqual([{ kind: 'text', value: 'plain' }]);
    expect(parseTemplate('')).toEqual([]);
  });

  it('finds the closing braces outside string literals', () => {
    const parts = parseTemplate("${{ '}}' + 'x' }}!");
    expect(parts).toHaveLength(2);
    expect(parts[0]?.kind === 'expression' && evaluateExpression(parts[0].ast, {})).toBe('}}x');
  });

  it('locates errors in the whole string', () => {
    const unterminated = errorOf(() => parseTemplate('ab ${{ params.n'));
    expect(unterminated.position).toBe(3);
    const bad = errorOf(() => parseTemplate('ab ${{ 1 + }}'));
    expect(bad.reason).toMatch(/unexpected end/);
    expect(bad.position).toBe(11);
  });
});

describe('interpolate', () => {
  it('keeps the type of a string that is exactly one expression', () => {
    expect(interpolate('${{ params.testSize }}', scope)).toBe(0.3);
    expect(interpolate('${{params.list}}', scope)).toEqual([10, 20, 30]);
    expect(interpolate('${{ params.flag }}', scope)).toBe(true);
    expect(interpolate('${{ params.missing }}', scope)).toBe(null);
    expect(interpolate('${{ matrix.lr * 10 }}', scope)).toBeCloseTo(0.1);
  });

  it('concatenates embedded expressions into a string', () => {
    expect(interpolate('data/${{ params.name }}.csv', scope)).toBe('data/iris.csv');
    expect(interpolate('n=${{ params.n }}, flag=${{ params.flag }}', scope)).toBe('n=3, flag=true');
    expect(interpolate(' ${{ params.n }}', scope)).toBe(' 3');
    expect(interpolate('${{ params.n }}${{ params.n }}', scope)).toBe('33');
    expect(interpolate('${{ params.nested }}!', scope)).toBe('{"a":{"b":"deep"}}!');
    expect(interpolate('v=${{ params.missing }}', scope)).toBe('v=null');
  });

  it('recurses through arrays and objects and leaves other values alone', () => {
    const input = {
      testSize: '${{ params.testSize }}',
      hidden: ['${{ params.n }}', 16],
      deep: { path: 'x/${{ params.name }}', keep: null, on: true },
      plain: 'no expressions',
    };
    expect(interpolate(input, scope)).toEqual({
      testSize: 0.3,
      hidden: [3, 16],
      deep: { path: 'x/iris', keep: null, on: true },
      plain: 'no expressions',
    });
    expect(input.testSize).toBe('${{ params.testSize }}');
    expect(interpolate(5, scope)).toBe(5);
    expect(interpolate(null, scope)).toBe(null);
  });

  it('copies a __proto__ key as data, never as a prototype', () => {
    const input = JSON.parse('{"__proto__": {"polluted": "${{ params.name }}"}}') as Record<string, unknown>;
    const out = interpolate(input, scope) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect((out as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('reports the failing string by path', () => {
    const error = errorOf(() => interpolate({ a: [1, { b: 'x ${{ 1 / 0 }}' }] }, scope));
    expect(error.path).toEqual(['a', 1, 'b']);
    expect(error.reason).toBe('division by zero');
    expect(error.position).toBe(8);
    expect(errorOf(() => interpolate({ c: '${{ ( }}' }, scope)).path).toEqual(['c']);
  });

  it('refuses a cyclic value instead of hanging', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(errorOf(() => interpolate(cyclic, scope)).reason).toMatch(/nested deeper/);
  });
});

describe('conditions', () => {
  it('accepts ${{ }} with surrounding whitespace, or a bare expression', () => {
    expect(evaluateCondition('${{ stages.evaluate.metrics.f1 >= 0.9 }}', scope)).toBe(true);
    expect(evaluateCondition('  ${{ stages.evaluate.metrics.f1 >= 0.95 }}\n', scope)).toBe(false);
    expect(evaluateCondition('params.flag && params.n == 3', scope)).toBe(true);
    expect(evaluateCondition('${{ params.name }}', scope)).toBe(true);
    expect(evaluateCondition('${{ params.empty }}', scope)).toBe(false);
  });

  it('refuses text around the expression, or two expressions', () => {
    expect(errorOf(() => parseCondition('x ${{ true }}')).reason).toMatch(/single/);
    expect(errorOf(() => parseCondition('${{ true }}${{ false }}')).reason).toMatch(/single/);
  });
});
