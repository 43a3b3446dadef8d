/**
 * Order statistics as numpy computes them, over the present (non-NaN) values of a column.
 */

/** The non-NaN values, in order (the array itself when none is missing). */
export function presentValues(values: Float64Array): Float64Array {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === values[i]) n++;
  if (n === values.length) return values;
  const out = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === values[i]) out[k++] = values[i]!;
  return out;
}

/** The non-NaN values, sorted ascending (a new array). */
export function sortedPresent(values: Float64Array): Float64Array {
  const present = presentValues(values);
  return (present === values ? present.slice() : present).sort();
}

/**
 * The `p`-th percentile (0-100) of sorted values with numpy's default `linear` method, including
 * its two-sided interpolation (`_lerp`), so results agree with np.nanpercentile to the last bit.
 */
export function percentileOfSorted(sorted: Float64Array, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const virtual = (p / 100) * (n - 1);
  const below = Math.min(Math.max(Math.floor(virtual), 0), n - 1);
  const above = Math.min(below + 1, n - 1);
  const t = virtual - below;
  const a = sorted[below]!;
  const b = sorted[above]!;
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** The median of sorted values: the middle one, or the mean of the two middle ones (np.median). */
export function medianOfSorted(sorted: Float64Array): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Mean of the non-NaN values, summed pairwise as numpy does (and so as accurate). */
export function meanPresent(values: Float64Array): { mean: number; count: number } {
  const present = presentValues(values);
  return { mean: present.length === 0 ? Number.NaN : pairwiseSum(present, 0, present.length) / present.length, count: present.length };
}

/**
 * numpy's pairwise summation (blocks of 128 summed with 8 accumulators, halves recursively):
 * error grows with log n, not n, and matches what numpy does along a contiguous axis.
 */
export function pairwiseSum(values: Float64Array, start: number, end: number): number {
  const n = end - start;
  if (n < 8) {
    let s = 0;
    for (let i = start; i < end; i++) s += values[i]!;
    return s;
  }
  if (n <= 128) {
    let r0 = values[start]!, r1 = values[start + 1]!, r2 = values[start + 2]!, r3 = values[start + 3]!;
    let r4 = values[start + 4]!, r5 = values[start + 5]!, r6 = values[start + 6]!, r7 = values[start + 7]!;
    let i = start + 8;
    for (; i < end - (n % 8); i += 8) {
      r0 += values[i]!;
      r1 += values[i + 1]!;
      r2 += values[i + 2]!;
      r3 += values[i + 3]!;
      r4 += values[i + 4]!;
      r5 += values[i + 5]!;
      r6 += values[i + 6]!;
      r7 += values[i + 7]!;
    }
    let s = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < end; i++) s += values[i]!;
    return s;
  }
  let half = n >> 1;
  half -= half % 8;
  return pairwiseSum(values, start, start + half) + pairwiseSum(values, start + half, end);
}
