/**
 * Validates a submitted spec against the stage catalog and turns it into a plan: every
 * problem is collected (not just the first), so a user fixes a spec in one round trip.
 *
 * The checks run in passes, each tolerant of what earlier passes found wrong: a stage that
 * fails the schema still counts as existing (so stages that need it do not also report a
 * missing need), and checks that depend on something already reported as broken are
 * skipped rather than piling up consequential problems.
 */
import type { z } from 'zod';
import { edgesFromNeeds, findCycles, formatCycle, topologicalOrder, type DagEdge } from './dag.ts';
import {
  ExpressionError,
  hasExpression,
  interpolate,
  parseCondition,
  parseTemplateCached,
  referencedPaths,
  type ExpressionNode,
  type PathSegment,
  type TemplatePart,
} from './expressions.ts';
import { formatSpecPath } from './format-spec-path.ts';
import { isPlainObject } from './is-plain-object.ts';
import { MAX_MATRIX_COMBINATIONS, matrixCombinationCount, matrixCombinations } from './matrix-combinations.ts';
import type { InputBinding, PipelinePlan, PlannedStage, PlanResult, RetryPolicy, SpecProblem } from './pipeline-plan.ts';
import {
  pipelineSpecSchema,
  stageSpecSchema,
  type ParamDeclaration,
  type PipelineSpec,
  type StageSpec,
} from './pipeline-spec.ts';
import { resolveRunParams } from './resolve-run-params.ts';
import type { SpecProblemCode } from './spec-problem-codes.ts';
import type { StageCatalog, StageDescriptor } from './stage-descriptor.ts';

/**
 * Retry policy of a stage whose spec says nothing. Three attempts: a lost worker, a timeout or a
 * crash is retried twice; a non-retryable failure (bad data, bad params) never is.
 */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  attempts: 3,
  backoff: 'exponential',
  delayMs: 1_000,
  maxDelayMs: 60_000,
  jitter: true,
});

/** Timeout of a stage when neither the spec nor the stage type sets one: one hour. */
export const DEFAULT_STAGE_TIMEOUT_MS = 3_600_000;

/** Most stages one run may hold after matrix expansion. @defaultValue 10000 */
export const MAX_PLANNED_STAGES = 10_000;

export interface PlanPipelineOptions {
  /**
   * Values for the spec's declared params, overriding their defaults.
   * @defaultValue `{}`
   */
  params?: Record<string, unknown>;
}

type ZodIssue = z.ZodError['issues'][number];

/** What planning knows about one entry of `stages`. */
interface StageEntry {
  index: number;
  /** The id when it is a valid one, even if the rest of the stage failed the schema. */
  id: string | undefined;
  /** Undefined when the stage failed the schema. */
  spec: StageSpec | undefined;
  descriptor: StageDescriptor | undefined;
  /** False for a stage that failed the schema and for a second stage with a taken id. */
  inGraph: boolean;
  /** `needs` without duplicates and without names of no stage. */
  needs: string[];
  /** Matrix combinations, or `[{}]` for a plain stage; empty when the matrix is too large. */
  combinations: Record<string, unknown>[];
  /** The ids this stage plans into: `[id]`, or `<id>-<k>` per combination. */
  plannedIds: string[];
  inputs: Record<string, InputBinding>;
  /** Validated params per combination. */
  params: Record<string, unknown>[];
}

class ProblemList {
  readonly items: SpecProblem[] = [];
  private readonly seen = new Set<string>();

  add(path: readonly PropertyKey[], code: SpecProblemCode, message: string): void {
    const problem = { path: formatSpecPath(path), code, message };
    const key = `${problem.path}\u0000${code}\u0000${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.items.push(problem);
  }

  addZodIssues(issues: readonly ZodIssue[], prefix: readonly PropertyKey[], code: SpecProblemCode, suffix = ''): void {
    for (const issue of issues) {
      const path = [...prefix, ...issue.path];
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) this.add([...path, key], code, `unknown key "${key}"${suffix}`);
      } else if (issue.code === 'invalid_key') {
        const reasons = issue.issues.map((inner) => inner.message).join('; ');
        this.add(path, code, `invalid key: ${reasons}${suffix}`);
      } else {
        this.add(path, code, `${issue.message}${suffix}`);
      }
    }
  }
}

function list(items: readonly string[], max = 5): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')}, … (${items.length} in all)`;
}

/** What the spec says at the top level, read tolerantly when the whole spec fails the schema. */
interface SpecView {
  name: string;
  /** Undefined when `params` itself failed the schema: param references cannot be checked. */
  paramDeclarations: Record<string, ParamDeclaration> | undefined;
  cache: boolean | undefined;
  rawStages: { spec: StageSpec | undefined; id: string | undefined; uses: string | undefined }[];
}

function readSpec(input: unknown, problems: ProblemList): SpecView | undefined {
  const parsed = pipelineSpecSchema.safeParse(input);
  if (parsed.success) {
    const spec: PipelineSpec = parsed.data;
    return {
      name: spec.name,
      paramDeclarations: spec.params ?? {},
      cache: spec.cache,
      rawStages: spec.stages.map((stage) => ({ spec: stage, id: stage.id, uses: stage.uses })),
    };
  }
  problems.addZodIssues(parsed.error.issues, [], 'PW_SPEC_SCHEMA');
  if (!isPlainObject(input) || !Array.isArray(input['stages'])) return undefined;
  // Parse the parts on their own so the semantic checks still run on the stages that are fine.
  const params = pipelineSpecSchema.shape.params.safeParse(input['params']);
  const cache = pipelineSpecSchema.shape.cache.safeParse(input['cache']);
  return {
    name: typeof input['name'] === 'string' ? input['name'] : '',
    paramDeclarations: params.success ? (params.data ?? {}) : undefined,
    cache: cache.success ? cache.data : undefined,
    rawStages: (input['stages'] as unknown[]).map((raw) => {
      const stage = stageSpecSchema.safeParse(raw);
      if (stage.success) return { spec: stage.data, id: stage.data.id, uses: stage.data.uses };
      const id = isPlainObject(raw) ? stageSpecSchema.shape.id.safeParse(raw['id']) : undefined;
      const uses = isPlainObject(raw) ? stageSpecSchema.shape.uses.safeParse(raw['uses']) : undefined;
      return { spec: undefined, id: id?.success ? id.data : undefined, uses: uses?.success ? uses.data : undefined };
    }),
  };
}

/** Calls `visit` for every string inside a JSON-like value, with its path. */
function forEachString(value: unknown, path: PathSegment[], visit: (text: string, path: PathSegment[]) => void, depth = 0): void {
  if (typeof value === 'string') visit(value, path);
  else if (depth > 100) return;
  else if (Array.isArray(value)) value.forEach((item, i) => forEachString(item, [...path, i], visit, depth + 1));
  else if (isPlainObject(value)) {
    for (const key of Object.keys(value)) forEachString(value[key], [...path, key], visit, depth + 1);
  }
}

/**
 * Validates and plans a spec (already parsed from YAML/JSON, e.g. by `parseSpecText`).
 * Returns the plan, or every problem found, each with a path such as `stages[2].uses`
 * and a `PW_SPEC_*` code.
 */
export function planPipeline(specInput: unknown, catalog: StageCatalog, options: PlanPipelineOptions = {}): PlanResult {
  const problems = new ProblemList();
  const view = readSpec(specInput, problems);
  if (view === undefined) return { ok: false, problems: problems.items };

  // Run params: declared defaults, overridden by the submission.
  const paramsKnown = view.paramDeclarations !== undefined;
  const declarations = view.paramDeclarations ?? {};
  const runParams = resolveRunParams(declarations, options.params ?? {});
  for (const problem of runParams.problems) problems.items.push(problem);

  // Stage ids and types.
  const entries: StageEntry[] = [];
  const byId = new Map<string, StageEntry>();
  let unknownTypes: string[] | undefined;
  view.rawStages.forEach(({ spec, id, uses }, index) => {
    const entry: StageEntry = {
      index,
      id,
      spec,
      descriptor: undefined,
      inGraph: spec !== undefined,
      needs: [],
      combinations: [{}],
      plannedIds: id === undefined ? [] : [id],
      inputs: {},
      params: [],
    };
    entries.push(entry);
    if (id !== undefined) {
      const first = byId.get(id);
      if (first === undefined) byId.set(id, entry);
      else {
        problems.add(['stages', index, 'id'], 'PW_SPEC_DUPLICATE_STAGE_ID', `stage id ${id} is already used by stages[${first.index}]`);
        entry.inGraph = false;
      }
    }
    if (uses === undefined) return;
    // Looked up even for a stage that failed the schema: one more thing fixed in the same round.
    const descriptor = catalog.get(uses);
    if (spec !== undefined) entry.descriptor = descriptor;
    if (descriptor === undefined) {
      unknownTypes ??= catalog.list().map((descriptor) => descriptor.type);
      const base = uses.slice(0, uses.indexOf('@'));
      const family = uses.slice(0, uses.indexOf('.'));
      const similar = unknownTypes.filter((type) => type.startsWith(`${base}@`));
      const sameFamily = unknownTypes.filter((type) => type.startsWith(`${family}.`));
      const hint =
        similar.length > 0
          ? `; registered versions: ${list(similar)}`
          : sameFamily.length > 0
            ? `; registered ${family} types: ${list(sameFamily)}`
            : '';
      problems.add(['stages', index, 'uses'], 'PW_SPEC_UNKNOWN_STAGE_TYPE', `unknown stage type ${uses}${hint}`);
    }
  });

  // Matrix expansion: ids `<id>-<k>`, which must not collide with any other stage.
  const plannedOwner = new Map<string, StageEntry>();
  for (const entry of entries) {
    if (entry.inGraph && entry.spec?.matrix === undefined && entry.id !== undefined) plannedOwner.set(entry.id, entry);
  }
  let plannedTotal = 0;
  for (const entry of entries) {
    const { spec, id } = entry;
    if (spec?.matrix === undefined || id === undefined) {
      plannedTotal += entry.plannedIds.length;
      continue;
    }
    const count = matrixCombinationCount(spec.matrix);
    if (count > MAX_MATRIX_COMBINATIONS) {
      problems.add(
        ['stages', entry.index, 'matrix'],
        'PW_SPEC_MATRIX_TOO_LARGE',
        `matrix of ${id} expands into ${count} combinations; at most ${MAX_MATRIX_COMBINATIONS} are allowed`,
      );
      entry.combinations = [];
      entry.plannedIds = [];
      continue;
    }
    entry.combinations = matrixCombinations(spec.matrix);
    entry.plannedIds = entry.combinations.map((_, k) => `${id}-${k}`);
    plannedTotal += count;
    if (!entry.inGraph) continue;
    for (const plannedId of entry.plannedIds) {
      const other = byId.get(plannedId) ?? plannedOwner.get(plannedId);
      if (other !== undefined) {
        problems.add(
          ['stages', entry.index, 'matrix'],
          'PW_SPEC_DUPLICATE_STAGE_ID',
          `matrix expansion id ${plannedId} is already the id of stages[${other.index}]`,
        );
      } else {
        plannedOwner.set(plannedId, entry);
      }
    }
  }
  const tooLarge = plannedTotal > MAX_PLANNED_STAGES;
  if (tooLarge) {
    problems.add(
      ['stages'],
      'PW_SPEC_TOO_LARGE',
      `the pipeline plans into ${plannedTotal} stages after matrix expansion; at most ${MAX_PLANNED_STAGES} are allowed`,
    );
  }

  // Needs, and the graph they form.
  for (const entry of entries) {
    const { spec } = entry;
    if (spec === undefined) continue;
    const seen = new Set<string>();
    (spec.needs ?? []).forEach((need, j) => {
      if (!byId.has(need)) {
        problems.add(['stages', entry.index, 'needs', j], 'PW_SPEC_UNKNOWN_NEED', `stage ${need} does not exist`);
      } else if (!seen.has(need)) {
        seen.add(need);
        entry.needs.push(need);
      }
    });
  }
  const graphEntries = entries.filter((entry) => entry.inGraph);
  const graphIds = graphEntries.map((entry) => entry.id as string);
  const edges: DagEdge[] = edgesFromNeeds(graphEntries.map((entry) => ({ id: entry.id as string, needs: entry.needs })));
  // The order is needed anyway; only a graph without one is searched for its cycles.
  const order = topologicalOrder(graphIds, edges);
  for (const cycle of order === null ? findCycles(graphIds, edges) : []) {
    // Point at the need that closes the cycle: cycle[0] needs the last stage of the cycle.
    const head = byId.get(cycle[0] as string) as StageEntry;
    const closing = cycle[cycle.length - 1] as string;
    const j = head.spec?.needs?.indexOf(closing) ?? -1;
    problems.add(
      j >= 0 ? ['stages', head.index, 'needs', j] : ['stages', head.index, 'needs'],
      'PW_SPEC_CYCLE',
      `needs form a ${formatCycle(cycle)}`,
    );
  }

  // Per stage: input bindings, params, `when`.
  for (const entry of entries) {
    if (entry.spec === undefined) continue;
    bindInputs(entry, byId, plannedOwner, problems);
    checkForeach(entry, byId, problems);
    if (!tooLarge) validateParams(entry, paramsKnown, declarations, runParams, problems);
    checkWhen(entry, byId, plannedOwner, paramsKnown, declarations, problems);
  }

  if (problems.items.length > 0) return { ok: false, problems: problems.items };

  const stages: PlannedStage[] = [];
  for (const id of order ?? graphIds) stages.push(...planStage(byId.get(id) as StageEntry, byId, view.cache));
  const plan: PipelinePlan = { apiVersion: 'pipewright/v1', name: view.name, params: runParams.params, stages };
  return { ok: true, plan };
}

/** The planned ids of everything `entry` needs, in `needs` order. */
function expandedNeeds(entry: StageEntry, byId: ReadonlyMap<string, StageEntry>): string[] {
  const ids: string[] = [];
  for (const need of entry.needs) ids.push(...(byId.get(need)?.plannedIds ?? []));
  return ids;
}

function notInNeedsMessage(stage: string, entry: StageEntry, byId: ReadonlyMap<string, StageEntry>, what: string): string {
  const target = byId.get(stage);
  if (target !== undefined && entry.needs.includes(stage) && target.spec?.matrix !== undefined) {
    const ids = target.plannedIds;
    return `${stage} is a matrix stage; ${what} one of its expansions (${list(ids, 3)})`;
  }
  return `stage ${stage} is not in needs of ${entry.id ?? `stages[${entry.index}]`}`;
}

function bindInputs(
  entry: StageEntry,
  byId: ReadonlyMap<string, StageEntry>,
  plannedOwner: ReadonlyMap<string, StageEntry>,
  problems: ProblemList,
): void {
  const spec = entry.spec as StageSpec;
  const descriptor = entry.descriptor;
  const explicit = spec.inputs ?? {};
  const needed = new Set(spec.inputs === undefined ? [] : expandedNeeds(entry, byId));

  for (const [name, binding] of Object.entries(explicit)) {
    const path = ['stages', entry.index, 'inputs', name];
    if (descriptor !== undefined && !Object.hasOwn(descriptor.inputs, name)) {
      const declared = Object.keys(descriptor.inputs);
      problems.add(
        path,
        'PW_SPEC_INPUT_UNKNOWN',
        `${descriptor.type} has no input ${name}${declared.length > 0 ? ` (inputs: ${list(declared)})` : ' (it takes no inputs)'}`,
      );
      continue;
    }
    const dot = binding.lastIndexOf('.');
    const stage = binding.slice(0, dot);
    const output = binding.slice(dot + 1);
    if (!needed.has(stage)) {
      problems.add(path, 'PW_SPEC_INPUT_NOT_IN_NEEDS', notInNeedsMessage(stage, entry, byId, 'bind to'));
      continue;
    }
    const source = plannedOwner.get(stage)?.descriptor;
    if (source === undefined) continue; // its unknown type is reported on its own
    if (!Object.hasOwn(source.outputs, output)) {
      problems.add(
        path,
        'PW_SPEC_INPUT_UNKNOWN_OUTPUT',
        `stage ${stage} (${source.type}) has no output ${output}; outputs: ${list(Object.keys(source.outputs))}`,
      );
      continue;
    }
    const outputType = source.outputs[output] as InputBinding['type'];
    if (descriptor === undefined) continue;
    const bound = bindingFor(name, descriptor, { stage, output, type: outputType }, plannedOwner);
    if (typeof bound === 'string') problems.add(path, 'PW_SPEC_INPUT_TYPE_MISMATCH', bound);
    else entry.inputs[name] = bound;
  }

  if (descriptor === undefined) return;
  for (const [name, inputType] of Object.entries(descriptor.inputs)) {
    if (Object.hasOwn(explicit, name)) continue;
    const candidates: InputBinding[] = [];
    let uncertain = false; // a needed stage of unknown type might have provided it
    for (const need of entry.needs) {
      const source = byId.get(need) as StageEntry;
      if (source.descriptor === undefined) {
        uncertain = true;
        continue;
      }
      const outputType = source.descriptor.outputs[name];
      if (outputType === undefined || !Object.hasOwn(source.descriptor.outputs, name)) continue;
      for (const plannedId of source.plannedIds) candidates.push({ stage: plannedId, output: name, type: outputType });
    }
    const path = ['stages', entry.index, 'inputs', name];
    const only = candidates[0];
    if (candidates.length > 1) {
      problems.add(
        path,
        'PW_SPEC_INPUT_AMBIGUOUS',
        `input ${name} of ${descriptor.type} matches several outputs: ${list(candidates.map((c) => `${c.stage}.${c.output}`))}; ` +
          `choose one with inputs: { ${name}: <stage>.<output> }`,
      );
    } else if (only === undefined) {
      if (!uncertain) {
        const needs = entry.needs.length > 0 ? `none of its needs (${list(entry.needs)}) has` : 'it needs no stage with';
        problems.add(
          path,
          'PW_SPEC_INPUT_UNBOUND',
          `input ${name} (${inputType}) of ${descriptor.type} is not bound: ${needs} an output named ${name}; ` +
            `bind it with inputs: { ${name}: <stage>.<output> }`,
        );
      }
    } else {
      const bound = bindingFor(name, descriptor, only, plannedOwner);
      if (typeof bound === 'string') problems.add(path, 'PW_SPEC_INPUT_TYPE_MISMATCH', bound);
      else entry.inputs[name] = bound;
    }
  }
}

/**
 * The binding of input `name` to `candidate`, or why the types do not fit. A list input
 * (`json[]`) takes an output of a `foreach` stage (every instance's, in item order); a plain
 * input takes an output of a plain stage.
 */
function bindingFor(
  name: string,
  descriptor: StageDescriptor,
  candidate: InputBinding,
  plannedOwner: ReadonlyMap<string, StageEntry>,
): InputBinding | string {
  const inputType = descriptor.inputs[name] as string;
  const fanOut = plannedOwner.get(candidate.stage)?.spec?.foreach !== undefined;
  const provided = fanOut ? `${candidate.type}[]` : candidate.type;
  if (provided !== inputType) {
    const why = fanOut ? ` (${candidate.stage} is a foreach stage: its outputs form a list)` : inputType.endsWith('[]') ? ' (a list input takes an output of a foreach stage)' : '';
    return `input ${name} of ${descriptor.type} expects ${inputType}, but ${candidate.stage}.${candidate.output} is ${provided}${why}`;
  }
  return fanOut ? { stage: candidate.stage, output: candidate.output, type: candidate.type, list: true } : { stage: candidate.stage, output: candidate.output, type: candidate.type };
}

/** A `foreach` must name a json output of a plain stage this stage needs. */
function checkForeach(entry: StageEntry, byId: ReadonlyMap<string, StageEntry>, problems: ProblemList): void {
  const spec = entry.spec as StageSpec;
  if (spec.foreach === undefined) return;
  const path = ['stages', entry.index, 'foreach'];
  if (spec.matrix !== undefined) {
    problems.add(path, 'PW_SPEC_FOREACH_INVALID', 'a stage may have a matrix (static fan-out) or a foreach (run-time fan-out), not both');
    return;
  }
  const dot = spec.foreach.lastIndexOf('.');
  const stage = spec.foreach.slice(0, dot);
  const output = spec.foreach.slice(dot + 1);
  const source = byId.get(stage);
  if (!entry.needs.includes(stage) || source === undefined) {
    problems.add(path, 'PW_SPEC_FOREACH_INVALID', `foreach reads ${stage}, which is not in needs of ${entry.id ?? `stages[${entry.index}]`}`);
  } else if (source.spec?.matrix !== undefined || source.spec?.foreach !== undefined) {
    problems.add(path, 'PW_SPEC_FOREACH_INVALID', `foreach must read a plain stage; ${stage} fans out itself`);
  } else if (source.descriptor !== undefined && source.descriptor.outputs[output] !== 'json') {
    const outputs = Object.keys(source.descriptor.outputs);
    problems.add(
      path,
      'PW_SPEC_FOREACH_INVALID',
      Object.hasOwn(source.descriptor.outputs, output)
        ? `foreach needs a json output carrying the list; ${stage}.${output} is ${String(source.descriptor.outputs[output])}`
        : `stage ${stage} (${source.descriptor.type}) has no output ${output}; outputs: ${list(outputs)}`,
    );
  }
}

function validateParams(
  entry: StageEntry,
  paramsKnown: boolean,
  declarations: Readonly<Record<string, ParamDeclaration>>,
  runParams: ReturnType<typeof resolveRunParams>,
  problems: ProblemList,
): void {
  const spec = entry.spec as StageSpec;
  const withValue: Record<string, unknown> = spec.with ?? {};
  const prefix = ['stages', entry.index, 'with'];
  let hasTemplates = false;
  let evaluable = true;

  forEachString(withValue, [], (text, path) => {
    if (!hasExpression(text)) return;
    hasTemplates = true;
    let parts: readonly TemplatePart[];
    try {
      parts = parseTemplateCached(text);
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      problems.add([...prefix, ...path], 'PW_SPEC_EXPRESSION_SYNTAX', error.message);
      evaluable = false;
      return;
    }
    for (const part of parts) {
      if (part.kind !== 'expression') continue;
      for (const ref of referencedPaths(part.ast)) {
        const problem = withReferenceProblem(ref, spec, paramsKnown, declarations);
        if (problem !== undefined) problems.add([...prefix, ...path], problem.code, problem.message);
        if (problem !== undefined || (ref[0] === 'params' && readsInvalidParam(ref, paramsKnown, runParams.invalid))) {
          evaluable = false;
        }
      }
    }
  });

  const descriptor = entry.descriptor;
  if (!evaluable || descriptor === undefined) return;
  if (spec.foreach !== undefined) {
    // Resolved per instance at run time, when the items exist; the worker checks the result
    // against the params schema (a mismatch fails that instance, non-retryably).
    entry.params.push(withValue);
    return;
  }
  const multiple = entry.combinations.length > 1;
  for (const combination of entry.combinations) {
    const suffix = multiple ? ` (matrix ${JSON.stringify(combination)})` : '';
    let resolved: unknown = withValue;
    if (hasTemplates) {
      try {
        resolved = interpolate(withValue, { params: runParams.params, matrix: combination });
      } catch (error) {
        if (!(error instanceof ExpressionError)) throw error;
        problems.add([...prefix, ...error.path], 'PW_SPEC_EXPRESSION_EVAL', `${error.message}${suffix}`);
        continue;
      }
    }
    let result: ReturnType<StageDescriptor['params']['safeParse']>;
    try {
      result = descriptor.params.safeParse(resolved);
    } catch (error) {
      // An async refinement or a throwing transform in a stage type's schema: report, do not crash.
      const reason = error instanceof Error ? error.message : String(error);
      problems.add(prefix, 'PW_SPEC_PARAMS_INVALID', `the params schema of ${descriptor.type} failed: ${reason}${suffix}`);
      continue;
    }
    if (!result.success) {
      problems.addZodIssues(result.error.issues, prefix, 'PW_SPEC_PARAMS_INVALID', suffix);
    } else if (!isPlainObject(result.data)) {
      problems.add(prefix, 'PW_SPEC_PARAMS_INVALID', `the params schema of ${descriptor.type} must produce an object`);
    } else {
      entry.params.push(result.data);
    }
  }
}

/** Why a `with` expression may not read `ref`, if it may not. */
function withReferenceProblem(
  ref: readonly PathSegment[],
  spec: StageSpec,
  paramsKnown: boolean,
  declarations: Readonly<Record<string, ParamDeclaration>>,
): { code: SpecProblemCode; message: string } | undefined {
  const [root, name] = ref;
  if (root === 'params') {
    if (name !== undefined && paramsKnown && !Object.hasOwn(declarations, String(name))) {
      return { code: 'PW_SPEC_PARAM_UNKNOWN', message: `params.${String(name)} is not declared in the spec's params` };
    }
    return undefined;
  }
  if (root === 'matrix') {
    if (spec.matrix === undefined) {
      return { code: 'PW_SPEC_EXPRESSION_REFERENCE', message: 'matrix.* is only defined in a stage that has a matrix' };
    }
    if (name !== undefined && !Object.hasOwn(spec.matrix, String(name))) {
      return {
        code: 'PW_SPEC_EXPRESSION_REFERENCE',
        message: `matrix has no axis ${String(name)}; axes: ${list(Object.keys(spec.matrix))}`,
      };
    }
    return undefined;
  }
  if (root === 'item' || root === 'index') {
    if (spec.foreach === undefined) {
      return { code: 'PW_SPEC_EXPRESSION_REFERENCE', message: `${String(root)} is only defined in a stage that has a foreach` };
    }
    return undefined;
  }
  if (root === 'stages') {
    return {
      code: 'PW_SPEC_EXPRESSION_REFERENCE',
      message:
        'with is resolved when the run is submitted, before any stage runs, so it cannot read stages.*; ' +
        'pass upstream results through inputs, or gate the stage with when',
    };
  }
  return { code: 'PW_SPEC_EXPRESSION_REFERENCE', message: `unknown name ${String(root)}; with may read params.*, matrix.* and (with foreach) item and index` };
}

/**
 * Whether a `params…` reference reads a param whose value is already reported as wrong (or
 * unknowable): evaluating it would only repeat that problem in every stage.
 */
function readsInvalidParam(ref: readonly PathSegment[], paramsKnown: boolean, invalid: ReadonlySet<string>): boolean {
  if (!paramsKnown) return true;
  const name = ref[1];
  return name === undefined ? invalid.size > 0 : invalid.has(String(name));
}

const WHEN_STAGE_FIELDS: ReadonlySet<PathSegment> = new Set(['metrics', 'outputs']);

function checkWhen(
  entry: StageEntry,
  byId: ReadonlyMap<string, StageEntry>,
  plannedOwner: ReadonlyMap<string, StageEntry>,
  paramsKnown: boolean,
  declarations: Readonly<Record<string, ParamDeclaration>>,
  problems: ProblemList,
): void {
  const when = entry.spec?.when;
  if (when === undefined) return;
  const path = ['stages', entry.index, 'when'];
  let ast: ExpressionNode;
  try {
    ast = parseCondition(when);
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    problems.add(path, 'PW_SPEC_EXPRESSION_SYNTAX', error.message);
    return;
  }
  const needed = new Set(expandedNeeds(entry, byId));
  for (const ref of referencedPaths(ast)) {
    const [root, name, field, output] = ref;
    if (root === 'params') {
      if (name !== undefined && paramsKnown && !Object.hasOwn(declarations, String(name))) {
        problems.add(path, 'PW_SPEC_PARAM_UNKNOWN', `params.${String(name)} is not declared in the spec's params`);
      }
    } else if (root === 'stages') {
      if (name === undefined || typeof name !== 'string') {
        problems.add(path, 'PW_SPEC_EXPRESSION_REFERENCE', 'stages must be followed by a stage id, e.g. stages.evaluate.metrics.f1');
      } else if (!needed.has(name)) {
        problems.add(path, 'PW_SPEC_EXPRESSION_REFERENCE', `${notInNeedsMessage(name, entry, byId, 'refer to')}; when may only read stages it needs`);
      } else if (field === undefined || !WHEN_STAGE_FIELDS.has(field)) {
        problems.add(path, 'PW_SPEC_EXPRESSION_REFERENCE', `when may read stages.${name}.metrics.* or stages.${name}.outputs.*`);
      } else if (field === 'outputs' && output !== undefined) {
        const source = plannedOwner.get(name)?.descriptor;
        if (source !== undefined && !Object.hasOwn(source.outputs, String(output))) {
          problems.add(
            path,
            'PW_SPEC_EXPRESSION_REFERENCE',
            `stage ${name} (${source.type}) has no output ${String(output)}; outputs: ${list(Object.keys(source.outputs))}`,
          );
        }
      }
    } else {
      problems.add(
        path,
        'PW_SPEC_EXPRESSION_REFERENCE',
        `unknown name ${String(root)}; when may read params.* and stages.<needed stage>.metrics|outputs.*`,
      );
    }
  }
}

function planStage(entry: StageEntry, byId: ReadonlyMap<string, StageEntry>, specCache: boolean | undefined): PlannedStage[] {
  const spec = entry.spec as StageSpec;
  const descriptor = entry.descriptor as StageDescriptor;
  const gpu = spec.resources?.gpu ?? 0;
  const delayMs = spec.retry?.delayMs ?? DEFAULT_RETRY_POLICY.delayMs;
  const retry: RetryPolicy = {
    attempts: spec.retry?.attempts ?? DEFAULT_RETRY_POLICY.attempts,
    backoff: spec.retry?.backoff ?? DEFAULT_RETRY_POLICY.backoff,
    delayMs,
    // A long first delay raises the default cap rather than being silently cut to it.
    maxDelayMs: spec.retry?.maxDelayMs ?? Math.max(DEFAULT_RETRY_POLICY.maxDelayMs, delayMs),
    jitter: spec.retry?.jitter ?? DEFAULT_RETRY_POLICY.jitter,
  };
  const needs = expandedNeeds(entry, byId);
  return entry.plannedIds.map((id, k) => ({
    id,
    uses: spec.uses,
    family: descriptor.family,
    needs: [...needs],
    inputs: Object.fromEntries(Object.entries(entry.inputs).map(([name, binding]) => [name, { ...binding }])),
    outputs: { ...descriptor.outputs },
    params: entry.params[k] as Record<string, unknown>,
    ...(spec.when === undefined ? {} : { when: spec.when }),
    ...(spec.foreach === undefined
      ? {}
      : { foreach: { stage: spec.foreach.slice(0, spec.foreach.lastIndexOf('.')), output: spec.foreach.slice(spec.foreach.lastIndexOf('.') + 1) } }),
    resources: { class: gpu >= 1 ? 'gpu' : 'cpu', gpu },
    retry: { ...retry },
    timeoutMs: spec.timeoutMs ?? descriptor.defaultTimeoutMs ?? DEFAULT_STAGE_TIMEOUT_MS,
    // A volatile stage reads the outside world: equal params do not promise equal outputs.
    cache: descriptor.volatile === true ? false : (spec.cache ?? specCache ?? true),
    ...(spec.matrix === undefined
      ? {}
      : { matrix: { of: spec.id, index: k, values: entry.combinations[k] as Record<string, unknown> } }),
  }));
}
