/**
 * Orders strings by Unicode code point, as Python (and so numpy and scikit-learn) compares them.
 * JS `<` compares UTF-16 code units, which puts U+FF01 after U+1F600; sorted categories and
 * vocabularies must come out in scikit-learn's order.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Only surrogates (0xD800-0xDFFF) sort differently by code unit than by code point.
    if (x >= 0xd800 && y >= 0xd800) return a.codePointAt(i)! - b.codePointAt(i)!;
    return x - y;
  }
  return a.length - b.length;
}
