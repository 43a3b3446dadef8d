import type { StageCatalog, StageDescriptor } from '@pipewright/core';
import type { StageDefinition } from './define-stage.ts';

/** A StageCatalog (what validation and planning read) that also hands workers the handlers. */
export interface StageRegistry extends StageCatalog {
  get(type: string): StageDescriptor | undefined;
  list(): StageDescriptor[];
  /** The runnable definition of `type` (`family.name@version`). */
  getDefinition(type: string): StageDefinition | undefined;
}

/** Indexes definitions by type; two definitions of one type are a programming error. */
export function createStageRegistry(definitions: readonly StageDefinition[]): StageRegistry {
  const byType = new Map<string, StageDefinition>();
  for (const definition of definitions) {
    if (byType.has(definition.type)) throw new Error(`stage type ${definition.type} is defined twice`);
    byType.set(definition.type, definition);
  }
  return {
    get: (type) => byType.get(type),
    list: () => [...byType.values()].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0)),
    getDefinition: (type) => byType.get(type),
  };
}
