import type { SpecProblem } from './pipeline-plan.ts';
import type { ParamDeclaration, ParamType } from './pipeline-spec.ts';
import { isPlainObject } from './is-plain-object.ts';
import { formatSpecPath } from './format-spec-path.ts';
import { assertNever } from './statuses.ts';

/** Whether `value` is of a spec param type. Numbers must be finite: they are stored as JSON. */
export function matchesParamType(type: ParamType, value: unknown): boolean {
  switch (type) {
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value);
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isPlainObject(value);
    default:
      return assertNever(type);
  }
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && !Number.isInteger(value)) return `number ${value}`;
  if (typeof value === 'number') return Number.isFinite(value) ? `integer ${value}` : String(value);
  return typeof value;
}

export interface ResolvedRunParams {
  /** Param name -> value: the override if given, else the default. */
  params: Record<string, unknown>;
  problems: SpecProblem[];
  /** Params that have a problem; expressions reading them are not evaluated. */
  invalid: Set<string>;
}

/**
 * The run's params: each declared param takes the run's override, else its default. An
 * override of an undeclared param, a value of the wrong type, or a param left without any
 * value is a problem. Problems about overrides point at `params.<name>`, since the override
 * is part of the same submission.
 */
export function resolveRunParams(
  declarations: Readonly<Record<string, ParamDeclaration>>,
  overrides: Readonly<Record<string, unknown>> = {},
): ResolvedRunParams {
  const params: Record<string, unknown> = {};
  const problems: SpecProblem[] = [];
  const invalid = new Set<string>();
  for (const [name, declaration] of Object.entries(declarations)) {
    if (declaration.default !== undefined && !matchesParamType(declaration.type, declaration.default)) {
      problems.push({
        path: formatSpecPath(['params', name, 'default']),
        code: 'PW_SPEC_PARAM_TYPE',
        message: `default of param ${name} must be ${declaration.type}, got ${describeValue(declaration.default)}`,
      });
      invalid.add(name);
    }
    const override = Object.hasOwn(overrides, name) ? overrides[name] : undefined;
    if (override !== undefined) {
      if (!matchesParamType(declaration.type, override)) {
        problems.push({
          path: formatSpecPath(['params', name]),
          code: 'PW_SPEC_PARAM_TYPE',
          message: `param ${name} must be ${declaration.type}, got ${describeValue(override)}`,
        });
        invalid.add(name);
      }
      Object.defineProperty(params, name, { value: override, enumerable: true, writable: true, configurable: true });
    } else if (declaration.default !== undefined) {
      Object.defineProperty(params, name, { value: declaration.default, enumerable: true, writable: true, configurable: true });
    } else {
      problems.push({
        path: formatSpecPath(['params', name]),
        code: 'PW_SPEC_PARAM_MISSING',
        message: `param ${name} has no default and no value was given for the run`,
      });
      invalid.add(name);
    }
  }
  for (const name of Object.keys(overrides)) {
    if (overrides[name] !== undefined && !Object.hasOwn(declarations, name)) {
      problems.push({
        path: formatSpecPath(['params', name]),
        code: 'PW_SPEC_PARAM_UNKNOWN',
        message: `param ${name} is not declared in the spec's params`,
      });
    }
  }
  return { params, problems, invalid };
}
