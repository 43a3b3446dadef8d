/**
 * How a stage `matrix` fans out. Combinations come in a fixed order, the first axis outermost
 * and the last varying fastest (like nested loops in key order), so expansion `<id>-<k>` names
 * the same combination every time the same spec is planned.
 */

/** Most combinations one stage matrix may expand into. @defaultValue 256 */
export const MAX_MATRIX_COMBINATIONS = 256;

/** The number of combinations, without building them (so an oversized matrix costs nothing). */
export function matrixCombinationCount(matrix: Readonly<Record<string, readonly unknown[]>>): number {
  let count = 1;
  for (const values of Object.values(matrix)) count *= values.length;
  return count;
}

/** Every combination: `{ lr: [0.1, 0.01], depth: [2, 3] }` -> `[{lr:0.1,depth:2}, {lr:0.1,depth:3}, …]`. */
export function matrixCombinations(matrix: Readonly<Record<string, readonly unknown[]>>): Record<string, unknown>[] {
  let combinations: Record<string, unknown>[] = [{}];
  for (const [axis, values] of Object.entries(matrix)) {
    const next: Record<string, unknown>[] = [];
    for (const combination of combinations) {
      for (const value of values) next.push({ ...combination, [axis]: value });
    }
    combinations = next;
  }
  return combinations;
}
