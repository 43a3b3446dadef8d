/**
 * The pipeline spec as users write it (YAML or JSON), and its schema. Every object is strict:
 * a misspelt key (`need:` for `needs:`) is an error rather than a silently ignored setting.
 * This schema checks shape only; cross-references (needs, inputs, stage types, params,
 * expressions) are checked by `planPipeline`, which reports every problem at once.
 */
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import type { SpecProblem } from './pipeline-plan.ts';

/** `breast-cancer-diagnosis` */
export const PIPELINE_NAME_PATTERN = /^[a-z0-9][a-z0-9-_.]*$/;
/** `ingest`, `train_2`, `eval-test` (hyphens allowed; read them in expressions as `stages['eval-test']`). */
export const STAGE_ID_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_-]*$/;
/** `family.name@version`, the same rule `defineStage` applies. */
export const STAGE_TYPE_PATTERN = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*@\d+$/;
/** Param, matrix and input names: identifiers, so `${{ params.testSize }}` can read them. */
export const IDENTIFIER_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** `<stage>.<output>`; stage ids contain no dot, so the last dot splits it. */
export const INPUT_BINDING_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_-]*\.[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Most stages one spec may list (before matrix expansion). @defaultValue 10000 */
export const MAX_SPEC_STAGES = 10_000;
/** Most values one matrix axis may list. */
export const MAX_MATRIX_VALUES = 256;
/** Longest accepted stage timeout: one week. */
export const MAX_TIMEOUT_MS = 7 * 24 * 3_600_000;
/** Longest accepted retry delay: one day. */
export const MAX_RETRY_DELAY_MS = 24 * 3_600_000;
/** Most GPUs a stage may ask for. */
export const MAX_GPUS = 8;

export const PARAM_TYPES = ['number', 'integer', 'string', 'boolean', 'array', 'object'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

/** Keys that would reach `Object.prototype` once copied into a plain object. */
const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * A record that refuses a `__proto__` key. zod's record skips that key silently, and
 * JSON.parse makes it an ordinary own key, so without this it would vanish without a word.
 */
function safeRecord<K extends z.ZodType<string>, V extends z.ZodType>(key: K, value: V) {
  return z
    .unknown()
    .superRefine((input, ctx) => {
      if (typeof input === 'object' && input !== null && Object.hasOwn(input, '__proto__')) {
        ctx.addIssue({ code: 'custom', path: ['__proto__'], message: 'reserved key' });
      }
    })
    .pipe(z.record(key, value));
}

const identifierKey = z
  .string()
  .regex(IDENTIFIER_PATTERN, { error: 'must be an identifier: a letter or _ followed by letters, digits or _' })
  .max(100);

/** `with:` keys are the stage type's business, but none may be a prototype key. */
const withKey = z
  .string()
  .max(200)
  .refine((key) => !RESERVED_KEYS.has(key), { error: 'reserved key' });

const stageId = z
  .string()
  .max(100)
  .regex(STAGE_ID_PATTERN, { error: 'must start with a letter or _ and contain only letters, digits, _ and -' });

export const paramDeclarationSchema = z.strictObject({
  type: z.enum(PARAM_TYPES),
  default: z.unknown().optional(),
  description: z.string().max(2_000).optional(),
});
export type ParamDeclaration = z.output<typeof paramDeclarationSchema>;

export const retrySpecSchema = z
  .strictObject({
    /** Total attempts including the first. */
    attempts: z.int().min(1).max(100).optional(),
    backoff: z.enum(['fixed', 'exponential']).optional(),
    delayMs: z.int().min(0).max(MAX_RETRY_DELAY_MS).optional(),
    maxDelayMs: z.int().min(0).max(MAX_RETRY_DELAY_MS).optional(),
    jitter: z.boolean().optional(),
  })
  .superRefine((retry, ctx) => {
    if (retry.delayMs !== undefined && retry.maxDelayMs !== undefined && retry.maxDelayMs < retry.delayMs) {
      ctx.addIssue({ code: 'custom', path: ['maxDelayMs'], message: `must be at least delayMs (${retry.delayMs})` });
    }
  });

export const resourcesSpecSchema = z.strictObject({
  gpu: z.int().min(0).max(MAX_GPUS).optional(),
});

export const stageSpecSchema = z.strictObject({
  id: stageId,
  uses: z.string().max(200).regex(STAGE_TYPE_PATTERN, { error: 'must look like family.name@version, e.g. train.logistic@1' }),
  needs: z.array(stageId).max(MAX_SPEC_STAGES).optional(),
  with: safeRecord(withKey, z.unknown()).optional(),
  inputs: safeRecord(
    identifierKey,
    z.string().max(200).regex(INPUT_BINDING_PATTERN, { error: 'must look like <stage>.<output>' }),
  ).optional(),
  when: z.string().min(1).max(2_000).optional(),
  resources: resourcesSpecSchema.optional(),
  retry: retrySpecSchema.optional(),
  timeoutMs: z.int().min(1).max(MAX_TIMEOUT_MS).optional(),
  cache: z.boolean().optional(),
  matrix: safeRecord(identifierKey, z.array(z.unknown()).min(1).max(MAX_MATRIX_VALUES))
    .refine((matrix) => Object.keys(matrix).length > 0, { error: 'must have at least one axis' })
    .optional(),
  /**
   * Run-time fan-out: one instance of the stage per item of the list that `<stage>.<output>`
   * (a json output of a stage in needs) carries in its metadata `items`. `with` may read
   * `${{ item… }}` and `${{ index }}`.
   */
  foreach: z.string().max(200).regex(INPUT_BINDING_PATTERN, { error: 'must look like <stage>.<output>' }).optional(),
});
export type StageSpec = z.output<typeof stageSpecSchema>;

export const pipelineSpecSchema = z.strictObject({
  apiVersion: z.literal('pipewright/v1'),
  name: z
    .string()
    .max(100)
    .regex(PIPELINE_NAME_PATTERN, { error: 'must start with a lowercase letter or digit and contain only a-z, 0-9, -, _ and .' }),
  description: z.string().max(10_000).optional(),
  params: safeRecord(identifierKey, paramDeclarationSchema).optional(),
  /** Run-level default for `stages[].cache`. */
  cache: z.boolean().optional(),
  stages: z.array(stageSpecSchema).min(1).max(MAX_SPEC_STAGES),
});
export type PipelineSpec = z.output<typeof pipelineSpecSchema>;

export type ParseSpecTextResult = { ok: true; value: unknown } | { ok: false; problems: SpecProblem[] };

/** Aliases expand into copies; bounding them stops a "billion laughs" document. */
const MAX_YAML_ALIASES = 100;

function isJsonContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && /(^|[/+])json\b/i.test(contentType.split(';')[0]?.trim() ?? '');
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function jsonProblem(text: string, error: unknown): SpecProblem {
  const message = error instanceof Error ? error.message : String(error);
  // V8 reports either "… at position N" or "… (line L column C)", depending on the version.
  const lineCol = /line (\d+) column (\d+)/.exec(message);
  const position = /position (\d+)/.exec(message);
  const where = lineCol
    ? { line: Number(lineCol[1]), column: Number(lineCol[2]) }
    : position
      ? lineAndColumn(text, Number(position[1]))
      : undefined;
  return {
    path: '',
    code: 'PW_SPEC_PARSE_ERROR',
    message: where ? `line ${where.line}, column ${where.column}: invalid JSON: ${message}` : `invalid JSON: ${message}`,
    ...where,
  };
}

/**
 * Parses spec text. A JSON content type (`application/json`, `…+json`) parses strictly as
 * JSON; anything else parses as YAML, which accepts JSON too. Errors come back as
 * `PW_SPEC_PARSE_ERROR` problems with the line and column. Duplicate keys are errors.
 * The value is not validated: pass it to `planPipeline`.
 */
export function parseSpecText(text: string, contentType?: string): ParseSpecTextResult {
  if (isJsonContentType(contentType)) {
    try {
      return { ok: true, value: JSON.parse(text) as unknown };
    } catch (error) {
      return { ok: false, problems: [jsonProblem(text, error)] };
    }
  }
  // Fast path: most machine-written specs are JSON, which JSON.parse reads far faster.
  if (text.trimStart().startsWith('{')) {
    try {
      return { ok: true, value: JSON.parse(text) as unknown };
    } catch {
      // Not strict JSON; maybe a YAML flow mapping. Fall through for YAML's diagnostics.
    }
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        return {
          path: '',
          code: 'PW_SPEC_PARSE_ERROR',
          message: `line ${line}, column ${col}: ${error.message.split('\n')[0] ?? error.message}`,
          line,
          column: col,
        };
      }),
    };
  }
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) as unknown };
  } catch (error) {
    return {
      ok: false,
      problems: [{ path: '', code: 'PW_SPEC_PARSE_ERROR', message: error instanceof Error ? error.message : String(error) }],
    };
  }
}
