import { describe, expect, it } from 'vitest';
import { cacheKeyOf, canonicalJson, changedCacheComponents, type CacheComponents } from './cache-key.ts';

const base: CacheComponents = { type: 'train.logistic@1', params: { epochs: 50, lr: 0.05 }, inputs: { train: 'sha256:aa' } };

describe('cache key', () => {
  it('does not depend on key order', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe('{"a":{"c":3,"d":2},"b":1}');
    expect(cacheKeyOf({ ...base, params: { lr: 0.05, epochs: 50 } })).toBe(cacheKeyOf(base));
  });

  it('changes with the type, any param and any input digest', () => {
    const key = cacheKeyOf(base);
    expect(cacheKeyOf({ ...base, type: 'train.logistic@2' })).not.toBe(key);
    expect(cacheKeyOf({ ...base, params: { ...base.params, epochs: 51 } })).not.toBe(key);
    expect(cacheKeyOf({ ...base, inputs: { train: 'sha256:ab' } })).not.toBe(key);
  });

  it('names exactly the components that changed', () => {
    expect(changedCacheComponents(base, base)).toEqual([]);
    expect(changedCacheComponents({ ...base, params: { epochs: 10, lr: 0.05 } }, base)).toEqual(['params.epochs']);
    expect(changedCacheComponents({ ...base, type: 'train.logistic@2', inputs: { train: 'sha256:bb', weights: 'sha256:cc' } }, base)).toEqual([
      'type',
      'inputs.train',
      'inputs.weights',
    ]);
    expect(changedCacheComponents({ ...base, params: { epochs: 50 } }, base)).toEqual(['params.lr']);
  });
});
