import { describe, expect, it } from 'vitest';
import { mulberry32, shuffleInPlace } from './seeded-random.ts';

describe('mulberry32', () => {
  it('yields the reference sequence for a seed', () => {
    // Reference values of the canonical mulberry32 (Tommy Ettinger's constants) for seed 42.
    const random = mulberry32(42);
    const first = [random(), random(), random()].map((v) => Math.round(v * 4294967296));
    expect(first).toEqual([2581720956, 1925393290, 3661312704]);
  });

  it('stays in [0, 1) and differs by seed', () => {
    const a = mulberry32(1);
    const b = mulberry32(2);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(b()).not.toBe(mulberry32(1)());
  });
});

describe('shuffleInPlace', () => {
  it('is a deterministic permutation', () => {
    const one = shuffleInPlace(Array.from({ length: 50 }, (_, i) => i), mulberry32(7));
    const two = shuffleInPlace(Array.from({ length: 50 }, (_, i) => i), mulberry32(7));
    expect(one).toEqual(two);
    expect([...one].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(one).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
