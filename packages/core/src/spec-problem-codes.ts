/**
 * Every code a SpecProblem can carry, with what it means. A submitted spec is answered with
 * `PW_ERR_SPEC_INVALID` and the list of its problems; each problem names one of these.
 */
export const SPEC_PROBLEM_CODES = {
  PW_SPEC_PARSE_ERROR: { description: 'The text is not valid YAML or JSON; the problem carries the line and column.' },
  PW_SPEC_SCHEMA: {
    description: 'The document does not match the spec schema: a missing or unknown key, a wrong type, a malformed id, name or stage type.',
  },
  PW_SPEC_TOO_LARGE: { description: 'The pipeline has more stages, after matrix expansion, than one run may hold.' },
  PW_SPEC_DUPLICATE_STAGE_ID: {
    description: 'Two stages share an id, or a matrix expansion id (`<id>-<index>`) equals another stage id.',
  },
  PW_SPEC_UNKNOWN_STAGE_TYPE: { description: '`uses` names a stage type that is not registered.' },
  PW_SPEC_UNKNOWN_NEED: { description: 'An entry of `needs` names a stage that does not exist.' },
  PW_SPEC_CYCLE: { description: 'The `needs` of some stages form a cycle; the message lists the stages in order.' },
  PW_SPEC_INPUT_UNBOUND: { description: 'A declared input of the stage type matches no output of the stages it needs.' },
  PW_SPEC_INPUT_AMBIGUOUS: {
    description: 'More than one needed stage has an output named like the input; bind it explicitly with `inputs:`.',
  },
  PW_SPEC_INPUT_TYPE_MISMATCH: { description: 'An input is bound to an output whose artifact type differs from the input type.' },
  PW_SPEC_INPUT_NOT_IN_NEEDS: { description: 'An explicit binding in `inputs:` names a stage that is not in `needs`.' },
  PW_SPEC_INPUT_UNKNOWN_OUTPUT: { description: 'An explicit binding in `inputs:` names an output the source stage type does not have.' },
  PW_SPEC_INPUT_UNKNOWN: { description: '`inputs:` binds a name that the stage type does not declare as an input.' },
  PW_SPEC_PARAM_UNKNOWN: {
    description: 'A run param override or a `${{ params.x }}` expression names a param the spec does not declare.',
  },
  PW_SPEC_PARAM_TYPE: { description: "A run param's default or override does not have the declared type." },
  PW_SPEC_PARAM_MISSING: { description: 'A run param has no default and no value was given for the run.' },
  PW_SPEC_PARAMS_INVALID: { description: "A stage's `with:` (after expressions are resolved) fails the stage type's params schema." },
  PW_SPEC_EXPRESSION_SYNTAX: { description: 'A `${{ … }}` expression or a `when` condition does not parse.' },
  PW_SPEC_EXPRESSION_REFERENCE: {
    description:
      'An expression reads something it may not: `with` may read `params.*` and `matrix.*`; `when` may read `params.*` and `stages.<needed stage>.metrics.*` or `.outputs.*`.',
  },
  PW_SPEC_EXPRESSION_EVAL: { description: 'An expression in `with` fails when evaluated at submit time (type error, division by zero).' },
  PW_SPEC_MATRIX_TOO_LARGE: { description: 'A stage matrix expands into more combinations than allowed.' },
  PW_SPEC_FOREACH_INVALID: {
    description: 'A `foreach` does not name a json output of a stage in `needs`, or is combined with `matrix`.',
  },
} as const satisfies Record<string, { description: string }>;

export type SpecProblemCode = keyof typeof SPEC_PROBLEM_CODES;

export const SPEC_PROBLEM_CODE_LIST = Object.keys(SPEC_PROBLEM_CODES) as SpecProblemCode[];
