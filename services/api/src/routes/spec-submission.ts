import { isMap, LineCounter, parseDocument, type Node } from 'yaml';
import { parseSpecText, type SpecProblem } from '@pipewright/core';

/** A submission read from a request body: the spec value, its param overrides, and its text. */
export type SpecSubmission =
  | { ok: true; spec: unknown; params?: Record<string, unknown>; text?: string }
  | { ok: false; problems: SpecProblem[]; text?: string };

/**
 * Reads the body of POST /v1/runs or /v1/pipelines/validate: a spec object, YAML or JSON text,
 * or `{ spec, params }` whose spec is either. (The same rules as the submit route's.)
 */
export function readSpecSubmission(body: unknown): SpecSubmission {
  let value = body;
  let text: string | undefined;
  if (typeof value === 'string') {
    text = value;
    const parsed = parseSpecText(value);
    if (!parsed.ok) return { ok: false, problems: parsed.problems, text };
    value = parsed.value;
  }
  if (value === null || value === undefined || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, problems: [{ path: '', code: 'PW_SPEC_SCHEMA', message: 'the body must be a pipeline spec object (JSON or YAML)' }], ...(text === undefined ? {} : { text }) };
  }
  const record = value as Record<string, unknown>;
  if ('spec' in record && !('apiVersion' in record)) {
    const params = record.params;
    if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) {
      return { ok: false, problems: [{ path: 'params', code: 'PW_SPEC_SCHEMA', message: 'params must be an object of run param overrides' }] };
    }
    const inner = readSpecSubmission(record.spec);
    if (!inner.ok) return inner;
    return { ...inner, ...(params ? { params: params as Record<string, unknown> } : {}) };
  }
  return { ok: true, spec: value, ...(text === undefined ? {} : { text }) };
}

/** The segments of a problem path as `formatSpecPath` writes it: `stages[2].with["a.b"]`. */
export function parseSpecPath(path: string): (string | number)[] {
  const segments: (string | number)[] = [];
  let rest = path;
  while (rest.length > 0) {
    if (rest.startsWith('.')) rest = rest.slice(1);
    const quoted = /^\[("(?:[^"\\]|\\.)*")\]/.exec(rest);
    const index = /^\[(\d+)\]/.exec(rest);
    const plain = /^[^.[]+/.exec(rest);
    if (quoted?.[1]) {
      segments.push(JSON.parse(quoted[1]) as string);
      rest = rest.slice(quoted[0].length);
    } else if (index?.[1]) {
      segments.push(Number(index[1]));
      rest = rest.slice(index[0].length);
    } else if (plain) {
      segments.push(plain[0]);
      rest = rest.slice(plain[0].length);
    } else {
      break;
    }
  }
  return segments;
}

/**
 * Adds the 1-based line and column of each problem's path in the spec text (the deepest part of
 * the path that exists in it), so an editor can show the problem next to its line. Problems
 * that already have a position, or whose path is empty, are returned as they are.
 */
export function locateProblems(text: string, problems: SpecProblem[]): SpecProblem[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) return problems;
  return problems.map((problem) => {
    if (problem.line !== undefined || problem.path === '') return problem;
    let segments = parseSpecPath(problem.path);
    // The spec may be wrapped as { spec: …, params }: paths are relative to the spec.
    const root = isMap(doc.contents) && doc.has('spec') && !doc.has('apiVersion') ? ['spec'] : [];
    while (segments.length > 0) {
      const node = doc.getIn([...root, ...segments], true) as Node | undefined;
      const start = node && typeof node === 'object' && 'range' in node ? node.range?.[0] : undefined;
      if (start !== undefined) {
        const { line, col } = lineCounter.linePos(start);
        return { ...problem, line, column: col };
      }
      segments = segments.slice(0, -1);
    }
    return problem;
  });
}
