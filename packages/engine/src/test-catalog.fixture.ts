/**
 * Small stage catalogs for the engine's tests: descriptors named `family.name@1`, whose params
 * default to `{ n: 1 }` unless the test gives its own schema.
 */
import { z } from 'zod';
import type { ArtifactType, StageCatalog, StageDescriptor } from '@pipewright/core';

export function testDescriptor(
  type: string,
  inputs: Record<string, ArtifactType>,
  outputs: Record<string, ArtifactType>,
  extra: Partial<Pick<StageDescriptor, 'params' | 'volatile'>> = {},
): StageDescriptor {
  return { type, family: type.split('.')[0] ?? '', description: type, inputs, outputs, params: z.object({ n: z.number().default(1) }).strict(), ...extra };
}

export function testCatalog(types: readonly StageDescriptor[]): StageCatalog {
  return { get: (t) => types.find((d) => d.type === t), list: () => [...types] };
}
