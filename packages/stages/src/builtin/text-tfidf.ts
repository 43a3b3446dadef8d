import type { Table } from 'apache-arrow';
import { z } from 'zod';
import { StageError } from '@pipewright/core';
import { defineStage } from '../define-stage.ts';
import { buildTable, float32Data, float64Data, keptColumn } from '../column-data.ts';
import type { NamedColumn } from '../column-data.ts';
import { readText } from '../column-values.ts';
import { compareCodePoints } from '../compare-code-points.ts';
import { ENGLISH_STOP_WORDS } from '../english-stop-words.ts';
import { readTrainTest } from '../fitted-stage-io.ts';
import { writeJson } from '../json-io.ts';
import { requireColumn, writeTable } from '../table-io.ts';
import { analyze } from '../text-analyzer.ts';
import type { AnalyzerOptions } from '../text-analyzer.ts';

const documentFrequency = z.number().positive();

const params = z
  .strictObject({
    /** The text column to vectorize. */
    column: z.string().min(1),
    lowercase: z.boolean().default(true),
    /** `unicode` (NFKD, drop combining marks), `ascii` (NFKD, drop non-ASCII) or `none`, as scikit-learn's strip_accents. */
    stripAccents: z.enum(['unicode', 'ascii', 'none']).default('none'),
    /** Replace punctuation and symbols (including `_`) with spaces before tokenizing. */
    stripPunctuation: z.boolean().default(false),
    /** `english` (scikit-learn's list), `none`, or your own list. */
    stopWords: z.union([z.enum(['english', 'none']), z.array(z.string()).max(100_000)]).default('none'),
    /** Smallest and largest n of the word n-grams. */
    ngramRange: z.tuple([z.int().min(1).max(5), z.int().min(1).max(5)]).default([1, 1]),
    /**
     * Drop terms in fewer documents: an integer >= 1 is a document count, a number in (0, 1) a
     * share of the train documents (scikit-learn's int/float min_df).
     */
    minDf: documentFrequency.default(1),
    /** Drop terms in more documents: a number in (0, 1] is a share, an integer > 1 a count. */
    maxDf: documentFrequency.default(1),
    /** Keep the terms most frequent across the train corpus; each is a dense column. */
    maxFeatures: z.int().min(1).max(50_000).default(5000),
    useIdf: z.boolean().default(true),
    /** idf = ln((1 + n) / (1 + df)) + 1, as if one more document held every term once. */
    smoothIdf: z.boolean().default(true),
    /** tf = 1 + ln(count). */
    sublinearTf: z.boolean().default(false),
    /** Row normalization. */
    norm: z.enum(['l2', 'l1', 'none']).default('l2'),
    /** Float32 (half the memory; about 7 significant digits) or Float64 (scikit-learn's dtype). */
    dtype: z.enum(['float32', 'float64']).default('float32'),
    /** Prefix of the term columns. @defaultValue `<column>__` */
    prefix: z.string().optional(),
    /** Keep the text column next to the term columns. */
    keepText: z.boolean().default(false),
  })
  .refine((p) => p.ngramRange[0] <= p.ngramRange[1], { error: 'ngramRange must be [min, max] with min <= max', path: ['ngramRange'] })
  .refine((p) => p.minDf < 1 || Number.isInteger(p.minDf), { error: 'minDf of 1 or more is a document count and must be an integer', path: ['minDf'] })
  .refine((p) => p.maxDf <= 1 || Number.isInteger(p.maxDf), { error: 'maxDf above 1 is a document count and must be an integer', path: ['maxDf'] });

type Params = z.output<typeof params>;

/** The `vocabulary` output: everything needed to vectorize new text the same way. */
export interface TfidfVocabulary {
  kind: 'tfidf_vectorizer';
  column: string;
  /** Terms in column order (sorted by code point, as scikit-learn's vocabulary_ indices). */
  terms: string[];
  outputColumns: string[];
  /** Train documents containing each term. */
  documentFrequency: number[];
  /** Inverse document frequency of each term (all 1 when useIdf is false). */
  idf: number[];
  documents: number;
  /** Terms dropped by minDf, maxDf or maxFeatures. */
  prunedTerms: number;
  analyzer: { lowercase: boolean; stripAccents: string; stripPunctuation: boolean; stopWords: string | number; ngramRange: [number, number] };
  weighting: { useIdf: boolean; smoothIdf: boolean; sublinearTf: boolean; norm: string };
}

function analyzerOptions(p: Params): AnalyzerOptions {
  const stopWords = p.stopWords === 'english' ? ENGLISH_STOP_WORDS : p.stopWords === 'none' ? undefined : new Set(p.stopWords);
  return {
    lowercase: p.lowercase,
    stripAccents: p.stripAccents,
    stripPunctuation: p.stripPunctuation,
    ...(stopWords ? { stopWords } : {}),
    ngramRange: p.ngramRange,
  };
}

/** Term counts of every document, compressed by row (CSR): ids index `terms`. */
interface Counts {
  rowStart: Int32Array;
  ids: Int32Array;
  counts: Float64Array;
}

/**
 * Counts terms per document. With `vocabulary`, unknown terms are skipped; without, every term
 * gets an id in `terms` (in first-seen order). A reused dense counter per document, not a Map.
 */
function countTerms(docs: readonly (string | null)[], options: AnalyzerOptions, vocabulary: Map<string, number>, grow: boolean, signal: AbortSignal): Counts {
  const rowStart = new Int32Array(docs.length + 1);
  let ids = new Int32Array(1024);
  let counts = new Float64Array(1024);
  let used = 0;
  let counter = new Float64Array(Math.max(vocabulary.size, 1024));
  const touched: number[] = [];
  for (let d = 0; d < docs.length; d++) {
    if (d % 1000 === 999) signal.throwIfAborted();
    for (const term of analyze(docs[d] ?? '', options)) {
      let id = vocabulary.get(term);
      if (id === undefined) {
        if (!grow) continue;
        id = vocabulary.size;
        vocabulary.set(term, id);
        if (id >= counter.length) {
          const bigger = new Float64Array(counter.length * 2);
          bigger.set(counter);
          counter = bigger;
        }
      }
      if (counter[id] === 0) touched.push(id);
      counter[id]!++;
    }
    touched.sort((a, b) => a - b);
    if (used + touched.length > ids.length) {
      const size = Math.max(ids.length * 2, used + touched.length);
      const moreIds = new Int32Array(size);
      moreIds.set(ids);
      ids = moreIds;
      const moreCounts = new Float64Array(size);
      moreCounts.set(counts);
      counts = moreCounts;
    }
    for (const id of touched) {
      ids[used] = id;
      counts[used] = counter[id]!;
      counter[id] = 0;
      used++;
    }
    touched.length = 0;
    rowStart[d + 1] = used;
  }
  return { rowStart, ids: ids.subarray(0, used), counts: counts.subarray(0, used) };
}

/** Fits the vocabulary and idf on the train documents, as TfidfVectorizer.fit does. */
export function fitTfidf(docs: readonly (string | null)[], p: Params, signal: AbortSignal = new AbortController().signal): TfidfVocabulary {
  const options = analyzerOptions(p);
  const seen = new Map<string, number>();
  const counts = countTerms(docs, options, seen, true, signal);
  const n = docs.length;
  const all = [...seen.keys()];
  const df = new Float64Array(all.length);
  const tf = new Float64Array(all.length);
  for (let k = 0; k < counts.ids.length; k++) {
    df[counts.ids[k]!]!++;
    tf[counts.ids[k]!]! += counts.counts[k]!;
  }
  const maxDocs = p.maxDf <= 1 ? p.maxDf * n : p.maxDf;
  const minDocs = p.minDf < 1 ? p.minDf * n : p.minDf;
  if (maxDocs < minDocs) {
    throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', `maxDf ${p.maxDf} allows fewer documents than minDf ${p.minDf} requires`, { maxDocs, minDocs });
  }
  // Sorted vocabulary first, so ties under maxFeatures go to the alphabetically first term.
  const sortedIds = all.map((_, id) => id).sort((a, b) => compareCodePoints(all[a]!, all[b]!));
  let kept = sortedIds.filter((id) => df[id]! <= maxDocs && df[id]! >= minDocs);
  if (kept.length > p.maxFeatures) {
    const byFrequency = [...kept].sort((a, b) => tf[b]! - tf[a]! || compareCodePoints(all[a]!, all[b]!));
    const top = new Set(byFrequency.slice(0, p.maxFeatures));
    kept = kept.filter((id) => top.has(id));
  }
  if (kept.length === 0) {
    throw StageError.nonRetryable('PW_ERR_BAD_DATA', 'no terms remain after pruning; lower minDf, raise maxDf or check the text column', {
      documents: n,
      terms: all.length,
    });
  }
  const terms = kept.map((id) => all[id]!);
  const documentFrequency = kept.map((id) => df[id]!);
  const idf = documentFrequency.map((d) => {
    if (!p.useIdf) return 1;
    return p.smoothIdf ? Math.log((n + 1) / (d + 1)) + 1 : Math.log(n / d) + 1;
  });
  const prefix = p.prefix ?? `${p.column}__`;
  return {
    kind: 'tfidf_vectorizer',
    column: p.column,
    terms,
    outputColumns: terms.map((t) => `${prefix}${t}`),
    documentFrequency,
    idf,
    documents: n,
    prunedTerms: all.length - terms.length,
    analyzer: {
      lowercase: p.lowercase,
      stripAccents: p.stripAccents,
      stripPunctuation: p.stripPunctuation,
      stopWords: Array.isArray(p.stopWords) ? p.stopWords.length : p.stopWords,
      ngramRange: [p.ngramRange[0], p.ngramRange[1]],
    },
    weighting: { useIdf: p.useIdf, smoothIdf: p.smoothIdf, sublinearTf: p.sublinearTf, norm: p.norm },
  };
}

/**
 * The TF-IDF matrix of `docs` under a fitted vocabulary, one dense column per term, computed
 * in float64 as scikit-learn does (tf, times idf, row-normalized), then stored as `dtype`.
 */
export function transformTfidf(
  docs: readonly (string | null)[],
  vocabulary: TfidfVocabulary,
  p: Params,
  signal: AbortSignal = new AbortController().signal,
): Float64Array[] | Float32Array[] {
  const index = new Map(vocabulary.terms.map((t, j) => [t, j]));
  const { rowStart, ids, counts } = countTerms(docs, analyzerOptions(p), index, false, signal);
  const rows = docs.length;
  const columns = vocabulary.terms.map(() => (p.dtype === 'float64' ? new Float64Array(rows) : new Float32Array(rows)));
  const { idf } = vocabulary;
  for (let d = 0; d < rows; d++) {
    const start = rowStart[d]!;
    const end = rowStart[d + 1]!;
    let norm = 0;
    for (let k = start; k < end; k++) {
      const tf = p.sublinearTf ? Math.log(counts[k]!) + 1 : counts[k]!;
      const w = tf * idf[ids[k]!]!;
      counts[k] = w;
      if (p.norm === 'l2') norm += w * w;
      else if (p.norm === 'l1') norm += Math.abs(w);
    }
    if (p.norm === 'l2') norm = Math.sqrt(norm);
    for (let k = start; k < end; k++) {
      columns[ids[k]!]![d] = p.norm === 'none' || norm === 0 ? counts[k]! : counts[k]! / norm;
    }
  }
  return columns as Float64Array[] | Float32Array[];
}

function vectorize(table: Table, vocabulary: TfidfVocabulary, p: Params, signal: AbortSignal): Table {
  const docs = readText(table, p.column);
  const values = transformTfidf(docs, vocabulary, p, signal);
  const termColumns: NamedColumn[] = vocabulary.outputColumns.map((name, j) => ({
    name,
    data: p.dtype === 'float64' ? float64Data(values[j] as Float64Array) : float32Data(values[j] as Float32Array),
  }));
  const out: NamedColumn[] = [];
  for (const field of table.schema.fields) {
    if (field.name !== p.column || p.keepText) out.push(keptColumn(table, field.name));
    if (field.name === p.column) out.push(...termColumns);
  }
  const seen = new Set<string>();
  for (const column of out) {
    if (seen.has(column.name)) {
      throw StageError.nonRetryable('PW_ERR_BAD_DATA', `term column ${column.name} clashes with an existing column; set prefix`, { column: column.name });
    }
    seen.add(column.name);
  }
  return buildTable(out, table.schema.metadata, table.numRows);
}

export const textTfidfStage = defineStage({
  type: 'text.tfidf@1',
  description:
    'Turns a text column into TF-IDF columns, as scikit-learn\'s TfidfVectorizer: lowercasing, optional accent ' +
    'and punctuation stripping, the default token pattern, stop words, word n-grams, min/max document ' +
    'frequency, maxFeatures, smoothed idf, sublinear tf and l2 rows. The vocabulary and idf are fitted on the ' +
    'train table only; each term is a dense column.',
  inputs: { train: 'table', test: 'table' },
  outputs: { train: 'table', test: 'table', vocabulary: 'json' },
  params,
  defaultTimeoutMs: 30 * 60_000,
  async run(ctx) {
    const { train, test, trainRef, target } = await readTrainTest(ctx);
    const p = ctx.params;
    if (p.column === target) throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', `refusing to vectorize the target column ${target}`);
    requireColumn(test, p.column);
    const vocabulary = fitTfidf(readText(train, p.column), p, ctx.signal);
    const outTrain = vectorize(train, vocabulary, p, ctx.signal);
    const outTest = vectorize(test, vocabulary, p, ctx.signal);
    const metadata = { tfidf: { column: p.column, terms: vocabulary.terms.length } };
    return {
      outputs: {
        train: await writeTable(ctx.store, outTrain, { target, metadata }),
        test: await writeTable(ctx.store, outTest, { target, metadata }),
        vocabulary: await writeJson(ctx.store, { ...vocabulary, fittedOn: trainRef.digest }, { kind: vocabulary.kind, terms: vocabulary.terms.length }),
      },
      metrics: { terms: vocabulary.terms.length, pruned_terms: vocabulary.prunedTerms },
    };
  },
});
