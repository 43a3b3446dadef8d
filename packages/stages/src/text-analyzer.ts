import { COMBINING_MARKS } from './combining-marks.ts';

/** How documents become terms; every default is scikit-learn's (CountVectorizer/TfidfVectorizer). */
export interface AnalyzerOptions {
  /** Lowercase first (str.lower). @defaultValue true */
  lowercase?: boolean;
  /**
   * After lowercasing: `unicode` decomposes (NFKD) and drops combining marks (strip_accents_unicode);
   * `ascii` decomposes and drops everything outside ASCII; `none` keeps the text.
   * @defaultValue `none`
   */
  stripAccents?: 'unicode' | 'ascii' | 'none';
  /**
   * Replace punctuation and symbols with spaces before tokenizing. Not in scikit-learn: its
   * token pattern already splits on them, except `_`, which it counts as a word character.
   * @defaultValue false
   */
  stripPunctuation?: boolean;
  /** Tokens dropped before n-grams are formed. @defaultValue none */
  stopWords?: ReadonlySet<string>;
  /** Smallest and largest n of the word n-grams. @defaultValue [1, 1] */
  ngramRange?: readonly [number, number];
}

/**
 * scikit-learn's default token_pattern `(?u)\b\w\w+\b`: runs of two or more word characters,
 * where (as in Python's `re`) a word character is a letter, a number or `_` — JavaScript's `\w`
 * is ASCII-only, so the classes are spelled out. Maximal runs match exactly what the \b-anchored
 * pattern finds.
 */
const TOKEN = /[\p{L}\p{N}_]{2,}/gu;
const NON_ASCII = /[^\x00-\x7f]/;
const NOT_ASCII_GLOBAL = /[^\x00-\x7f]/g;
const PUNCTUATION = /[\p{P}\p{S}]/gu;

/** Text before tokenizing: lowercase, then accents, then (optionally) punctuation. */
export function preprocessText(doc: string, options: AnalyzerOptions = {}): string {
  let text = options.lowercase === false ? doc : doc.toLowerCase();
  if (options.stripAccents === 'unicode' && NON_ASCII.test(text)) text = text.normalize('NFKD').replace(COMBINING_MARKS, '');
  else if (options.stripAccents === 'ascii' && NON_ASCII.test(text)) text = text.normalize('NFKD').replace(NOT_ASCII_GLOBAL, '');
  if (options.stripPunctuation) text = text.replace(PUNCTUATION, ' ');
  return text;
}

/** The terms of one document, in scikit-learn's order (unigrams, then bigrams, …), repeats kept. */
export function analyze(doc: string, options: AnalyzerOptions = {}): string[] {
  const text = preprocessText(doc, options);
  let tokens: string[] = text.match(TOKEN) ?? [];
  const stop = options.stopWords;
  if (stop !== undefined && stop.size > 0) tokens = tokens.filter((t) => !stop.has(t));
  const [minN, maxN] = options.ngramRange ?? [1, 1];
  if (maxN === 1) return minN === 1 ? tokens : [];
  const out: string[] = minN === 1 ? [...tokens] : [];
  for (let n = Math.max(minN, 2); n <= Math.min(maxN, tokens.length); n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      let gram = tokens[i]!;
      for (let j = 1; j < n; j++) gram += ` ${tokens[i + j]!}`;
      out.push(gram);
    }
  }
  return out;
}
