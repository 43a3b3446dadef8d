export { ARTIFACT_TYPES } from './artifact-ref.ts';
export type { ArtifactRef, ArtifactType } from './artifact-ref.ts';

export type { InputType, StageCatalog, StageDescriptor } from './stage-descriptor.ts';

export {
  ATTEMPT_STATUSES,
  RUN_STATUSES,
  STAGE_STATUSES,
  assertNever,
  isSatisfiedStageStatus,
  isTerminalAttemptStatus,
  isTerminalRunStatus,
  isTerminalStageStatus,
} from './statuses.ts';
export type { AttemptStatus, RunStatus, StageStatus } from './statuses.ts';

export { StageError, toStageFailure } from './stage-failure.ts';
export type { StageFailure } from './stage-failure.ts';

export type {
  InputBinding,
  PipelinePlan,
  PlannedStage,
  PlanResult,
  ResourceClass,
  RetryPolicy,
  SpecProblem,
} from './pipeline-plan.ts';

export {
  IDENTIFIER_PATTERN,
  INPUT_BINDING_PATTERN,
  MAX_GPUS,
  MAX_MATRIX_VALUES,
  MAX_RETRY_DELAY_MS,
  MAX_SPEC_STAGES,
  MAX_TIMEOUT_MS,
  PARAM_TYPES,
  PIPELINE_NAME_PATTERN,
  STAGE_ID_PATTERN,
  STAGE_TYPE_PATTERN,
  paramDeclarationSchema,
  parseSpecText,
  pipelineSpecSchema,
  resourcesSpecSchema,
  retrySpecSchema,
  stageSpecSchema,
} from './pipeline-spec.ts';
export type { ParamDeclaration, ParamType, ParseSpecTextResult, PipelineSpec, StageSpec } from './pipeline-spec.ts';

export {
  ExpressionError,
  MAX_EXPRESSION_DEPTH,
  MAX_EXPRESSION_LENGTH,
  evaluateCondition,
  evaluateExpression,
  hasExpression,
  interpolate,
  isTruthy,
  parseCondition,
  parseExpression,
  parseTemplate,
  referencedPaths,
} from './expressions.ts';
export type {
  BinaryOperator,
  ExpressionNode,
  ExpressionScope,
  PathSegment,
  TemplatePart,
  UnaryOperator,
} from './expressions.ts';

export {
  descendants,
  edgesFromNeeds,
  findCycle,
  findCycles,
  formatCycle,
  readyStages,
  topologicalOrder,
} from './dag.ts';
export type { DagEdge, DagNode } from './dag.ts';

export { MAX_MATRIX_COMBINATIONS, matrixCombinationCount, matrixCombinations } from './matrix-combinations.ts';
export { matchesParamType, resolveRunParams } from './resolve-run-params.ts';
export type { ResolvedRunParams } from './resolve-run-params.ts';
export { formatSpecPath } from './format-spec-path.ts';

export { DEFAULT_RETRY_POLICY, DEFAULT_STAGE_TIMEOUT_MS, MAX_PLANNED_STAGES, planPipeline } from './plan-pipeline.ts';
export type { PlanPipelineOptions } from './plan-pipeline.ts';

export { ERRORS, ERROR_CODES, PipewrightError, isErrorCode, isPipewrightError } from './errors.ts';
export type { ErrorCode, ErrorDefinition } from './errors.ts';

export { SPEC_PROBLEM_CODES, SPEC_PROBLEM_CODE_LIST } from './spec-problem-codes.ts';
export type { SpecProblemCode } from './spec-problem-codes.ts';

export { ConfigError, parseConfig } from './parse-config.ts';
export type { ResourceUse } from './resource-use.ts';
export { cacheKeyOf, canonicalJson, changedCacheComponents } from './cache-key.ts';
export type { CacheComponents, CacheExplanation } from './cache-key.ts';
