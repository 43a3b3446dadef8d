import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { builtinStages } from './builtin-stages.ts';
import { defineStage } from './define-stage.ts';
import { createStageRegistry } from './stage-registry.ts';

describe('createStageRegistry', () => {
  const registry = createStageRegistry(builtinStages);

  it('lists the built-in stages as a StageCatalog', () => {
    const types = registry.list().map((d) => d.type);
    expect(types).toEqual([...types].sort());
    expect(types).toEqual(
      expect.arrayContaining([
        'evaluate.classification@1',
        'evaluate.regression@1',
        'features.window@1',
        'ingest.csv@1',
        'preprocess.standardize@1',
        'select.best@1',
        'select.grid@1',
        'select.random@1',
        'select.trial@1',
        'split.train_test@1',
        'train.linear@1',
        'train.logistic@1',
        'train.mlp@1',
        'train.mlp_regressor@1',
        'train.random_forest@1',
        'train.random_forest_regressor@1',
      ]),
    );
    expect(registry.get('train.mlp@1')).toMatchObject({ family: 'train', inputs: { train: 'table' }, outputs: { model: 'model' } });
    expect(registry.get('train.mlp@2')).toBeUndefined();
    expect(typeof registry.getDefinition('ingest.csv@1')?.run).toBe('function');
  });

  it('never caches a stage that reads the outside world: every ingest stage is volatile, the others are not', () => {
    for (const definition of builtinStages) expect(definition.volatile, definition.type).toBe(definition.family === 'ingest');
  });

  it('gives every built-in stage strict params', () => {
    for (const definition of builtinStages) {
      expect(definition.params.safeParse({ surely_not_a_param: 1 }).success, definition.type).toBe(false);
    }
  });

  it('refuses two definitions of one type', () => {
    const stage = defineStage({
      type: 'custom.noop@1',
      description: 'does nothing',
      inputs: {},
      outputs: {},
      params: z.strictObject({}),
      run: async () => ({ outputs: {} }),
    });
    expect(() => createStageRegistry([stage, stage])).toThrow(/defined twice/);
  });
});
