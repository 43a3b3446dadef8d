import { createHash } from 'node:crypto';

/** What a stage's cache key is made of. */
export interface CacheComponents {
  /** `family.name@version` */
  type: string;
  /** The stage's resolved params, canonical (keys sorted). */
  params: Record<string, unknown>;
  /** Input name -> digest of the artifact bound to it. */
  inputs: Record<string, string>;
}

/** Why a stage was or was not served from the cache; shown by the stage detail route. */
export type CacheExplanation =
  | { hit: true; key: string; source: { runId: string; stage: string; stageRunId: string } }
  | { hit: false; key: string | null; reason: 'disabled' }
  | { hit: false; key: string; reason: 'never-run' }
  | {
      hit: false;
      key: string;
      reason: 'changed';
      /** e.g. `type`, `params.epochs`, `inputs.train` */
      changed: string[];
      comparedWith: { runId: string; stage: string; stageRunId: string };
    };

/** JSON with object keys sorted at every level: equal values, equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** `sha256:<hex>` of the canonical components: stage type@version, params, input digests. */
export function cacheKeyOf(components: CacheComponents): string {
  return `sha256:${createHash('sha256').update(canonicalJson(components)).digest('hex')}`;
}

/**
 * Names the components that differ between this execution and an earlier one of the same
 * stage: `type`, `params.<key>` for each changed top-level param, `inputs.<name>` for each
 * input whose artifact differs (or that appeared or disappeared).
 */
export function changedCacheComponents(current: CacheComponents, previous: CacheComponents): string[] {
  const changed: string[] = [];
  if (current.type !== previous.type) changed.push('type');
  for (const key of unionKeys(current.params, previous.params)) {
    if (canonicalJson(current.params[key]) !== canonicalJson(previous.params[key])) changed.push(`params.${key}`);
  }
  for (const name of unionKeys(current.inputs, previous.inputs)) {
    if (current.inputs[name] !== previous.inputs[name]) changed.push(`inputs.${name}`);
  }
  return changed;
}

function unionKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
}
