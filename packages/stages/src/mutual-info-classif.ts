/**
 * Mutual information between a continuous feature and class labels, estimated from k nearest
 * neighbours (Ross 2014, "Mutual Information between Discrete and Continuous Data Sets") as
 * scikit-learn's `mutual_info_classif` does: the feature scaled to unit variance, a 1e-10
 * jitter against ties, neighbour radii within each class, counts within those radii overall.
 * The jitter is what makes scikit-learn's result random; here it comes from a seeded generator,
 * so results are reproducible, and agree with scikit-learn's exactly when the feature has no
 * ties (the jitter then changes no neighbour relation) and approximately otherwise.
 *
 * One dimension makes it cheap: neighbours are found on sorted values, O(n log n) per feature.
 */

const EULER_GAMMA = 0.5772156649015329;

/** ψ(1..n) by the harmonic numbers: ψ(m) = -γ + Σ_{j<m} 1/j. */
function digammaTable(n: number): Float64Array {
  const psi = new Float64Array(n + 1);
  psi[0] = Number.NaN;
  if (n >= 1) psi[1] = -EULER_GAMMA;
  for (let m = 2; m <= n; m++) psi[m] = psi[m - 1]! + 1 / (m - 1);
  return psi;
}

/** Standard normal draws from a uniform generator (Box-Muller). */
function gaussian(random: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = random();
    const v = random();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

const scratch = new Float64Array(1);
/** The same 8 bytes as two 32-bit words, low word first on little-endian machines. */
const words = new Uint32Array(scratch.buffer);
const LOW = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;

/** The largest double below `x` (np.nextafter(x, 0)) for finite x > 0; 0 stays 0. */
function nextDown(x: number): number {
  if (x <= 0) return x;
  scratch[0] = x;
  // Positive doubles order like their bit patterns: one less is the next double down.
  if (words[LOW] === 0) {
    words[LOW] = 0xffffffff;
    words[1 - LOW]!--;
  } else words[LOW]!--;
  return scratch[0]!;
}

/**
 * MI (in nats, clipped at 0) of feature `x` and labels `classOf` (0..classes-1).
 * `x` must have no missing values.
 */
export function mutualInfoClassif(x: Float64Array, classOf: Int32Array, classes: number, options: { neighbors?: number; random: () => number }): number {
  const n = x.length;
  const k0 = options.neighbors ?? 3;
  // scale(X, with_mean=False): divide by the population standard deviation.
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i]!;
  mean /= n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (x[i]! - mean) ** 2;
  const std = Math.sqrt(variance / n);
  const c = new Float64Array(n);
  for (let i = 0; i < n; i++) c[i] = x[i]! / (std === 0 ? 1 : std);
  let meanAbs = 0;
  for (let i = 0; i < n; i++) meanAbs += Math.abs(c[i]!);
  meanAbs /= n;
  const jitter = 1e-10 * Math.max(1, meanAbs);
  const normal = gaussian(options.random);
  for (let i = 0; i < n; i++) c[i]! += jitter * normal();

  // Neighbour radii within each class, on the class' sorted values (a native numeric sort).
  const counts = new Int32Array(classes);
  for (let i = 0; i < n; i++) counts[classOf[i]!]!++;
  const radius = new Float64Array(n);
  const kOf = new Int32Array(n);
  for (let cls = 0; cls < classes; cls++) {
    const count = counts[cls]!;
    if (count <= 1) continue;
    const k = Math.min(k0, count - 1);
    const members = new Float64Array(count);
    let m = 0;
    for (let i = 0; i < n; i++) if (classOf[i] === cls) members[m++] = c[i]!;
    members.sort();
    const radii = new Float64Array(count);
    for (let p = 0; p < count; p++) {
      // k-th nearest other member: merge outwards from p.
      let left = p - 1;
      let right = p + 1;
      let d = 0;
      for (let step = 0; step < k; step++) {
        const dl = left >= 0 ? members[p]! - members[left]! : Infinity;
        const dr = right < count ? members[right]! - members[p]! : Infinity;
        if (dl <= dr) {
          d = dl;
          left--;
        } else {
          d = dr;
          right++;
        }
      }
      // KDTree distances are sqrt of squared differences; the radius excludes the k-th neighbour.
      radii[p] = nextDown(Math.sqrt(d * d));
    }
    // Equal values have equal neighbour distances, so any position of a row's value will do.
    for (let i = 0; i < n; i++) {
      if (classOf[i] !== cls) continue;
      radius[i] = radii[lowerBound(members, c[i]!)]!;
      kOf[i] = k;
    }
  }
  // Points of classes with a single member take no part (scikit-learn masks them out).
  const kept: number[] = [];
  for (let i = 0; i < n; i++) if (counts[classOf[i]!]! > 1) kept.push(i);
  const total = kept.length;
  if (total === 0) return 0;
  const sorted = new Float64Array(total);
  kept.forEach((row, p) => (sorted[p] = c[row]!));
  sorted.sort();
  const psi = digammaTable(total);
  let sumK = 0;
  let sumCount = 0;
  let sumM = 0;
  for (const row of kept) {
    const v = c[row]!;
    const r = radius[row]!;
    const r2 = r * r;
    // All points with (x_j - v)^2 <= r^2, as KDTree.query_radius counts them (itself included).
    // Sorted values make them one contiguous run around v.
    const at = lowerBound(sorted, v);
    const lo = firstWithin(sorted, v, r2, at);
    const hi = pastLastWithin(sorted, v, r2, at);
    const m = Math.max(hi - lo, 1);
    sumK += psi[kOf[row]!]!;
    sumCount += psi[counts[classOf[row]!]!]!;
    sumM += psi[m]!;
  }
  const mi = psi[total]! + sumK / total - sumCount / total - sumM / total;
  return Math.max(0, mi);
}

function lowerBound(sorted: Float64Array, v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The smallest j <= at with (sorted[j] - v)^2 <= r2 (sorted[at] is v itself). */
function firstWithin(sorted: Float64Array, v: number, r2: number, at: number): number {
  let lo = 0;
  let hi = at;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid]! - v) ** 2 <= r2) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** One past the largest j >= at with (sorted[j] - v)^2 <= r2. */
function pastLastWithin(sorted: Float64Array, v: number, r2: number, at: number): number {
  let lo = at;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid]! - v) ** 2 <= r2) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
