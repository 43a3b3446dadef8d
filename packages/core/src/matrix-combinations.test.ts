import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matrixCombinationCount, matrixCombinations } from './matrix-combinations.ts';

describe('matrixCombinations', () => {
  it('varies the last axis fastest', () => {
    expect(matrixCombinations({ lr: [0.1, 0.01], depth: [2, 3] })).toEqual([
      { lr: 0.1, depth: 2 },
      { lr: 0.1, depth: 3 },
      { lr: 0.01, depth: 2 },
      { lr: 0.01, depth: 3 },
    ]);
    expect(matrixCombinations({ x: [[1], { a: 1 }] })).toEqual([{ x: [1] }, { x: { a: 1 } }]);
  });

  it('counts without building, and agrees with the built list (property)', () => {
    const matrix = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.uniqueArray(fc.integer(), { minLength: 1, maxLength: 4 }), {
      minKeys: 1,
    });
    fc.assert(
      fc.property(matrix, (m) => {
        const all = matrixCombinations(m);
        expect(all).toHaveLength(matrixCombinationCount(m));
        // Distinct axis values give distinct combinations, each with every axis in key order.
        expect(new Set(all.map((c) => JSON.stringify(c))).size).toBe(all.length);
        for (const combination of all) {
          expect(Object.keys(combination)).toEqual(Object.keys(m));
          for (const [axis, value] of Object.entries(combination)) expect(m[axis]).toContain(value);
        }
      }),
    );
  });
});
