/**
 * mulberry32: a tiny 32-bit PRNG with a full 2^32 period. Not cryptographic; chosen because
 * splits and shuffles must be reproducible from a seed on every machine and Node version, which
 * Math.random is not.
 * @returns a function yielding floats in [0, 1)
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle of `items`, in place, driven by `random`. */
export function shuffleInPlace<T extends { length: number; [index: number]: unknown }>(items: T, random: () => number): T {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
  return items;
}
