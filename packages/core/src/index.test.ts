import { describe, expect, it } from 'vitest';
import * as core from './index.ts';

describe('public surface', () => {
  it('exports the main entry points', () => {
    for (const name of [
      'pipelineSpecSchema',
      'parseSpecText',
      'planPipeline',
      'parseExpression',
      'evaluateExpression',
      'interpolate',
      'referencedPaths',
      'evaluateCondition',
      'findCycle',
      'topologicalOrder',
      'readyStages',
      'descendants',
      'ERRORS',
      'PipewrightError',
      'SPEC_PROBLEM_CODES',
      'StageError',
      'toStageFailure',
      'isSatisfiedStageStatus',
      'ARTIFACT_TYPES',
    ]) {
      expect(core, name).toHaveProperty(name);
    }
  });
});
