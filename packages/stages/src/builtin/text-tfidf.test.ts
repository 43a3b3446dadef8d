import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJson } from '../json-io.ts';
import { analyze } from '../text-analyzer.ts';
import { ENGLISH_STOP_WORDS } from '../english-stop-words.ts';
import { StageTestEnvironment } from '../testing/stage-test-environment.ts';
import { numericColumn, readTable, tableFromColumns, tableTarget, writeTable } from '../table-io.ts';
import { expectClose, loadSklearnFixture } from './fixtures/sklearn-fixture.ts';
import { textTfidfStage } from './text-tfidf.ts';
import type { TfidfVocabulary } from './text-tfidf.ts';

interface Fixture {
  sklearn: string;
  train: string[];
  test: string[];
  cases: {
    label: string;
    params: Record<string, unknown>;
    terms: string[];
    idf: number[] | null;
    /** Per row, [column, value] of the non-zero entries. */
    train: [number, number][][];
    test: [number, number][][];
  }[];
}
const fx = loadSklearnFixture<Fixture>('sklearn-tfidf');

let env: StageTestEnvironment;
beforeAll(async () => {
  env = await StageTestEnvironment.create();
});
afterAll(async () => {
  await env.dispose();
});

function table(docs: (string | null)[]) {
  return tableFromColumns(
    [
      { name: 'id', kind: 'float64', values: docs.map((_, i) => i) },
      { name: 'text', kind: 'utf8', values: docs },
      { name: 'label', kind: 'utf8', values: docs.map((_, i) => (i % 3 === 0 ? 'pos' : 'neg')) },
    ],
    'label',
  );
}

function dense(rows: [number, number][][], terms: number): number[][] {
  return rows.map((row) => {
    const out = new Array<number>(terms).fill(0);
    for (const [j, v] of row) out[j] = v;
    return out;
  });
}

describe(`text.tfidf@1 against scikit-learn ${fx.sklearn} TfidfVectorizer (fortunes corpus)`, () => {
  for (const c of fx.cases) {
    it(`${c.label}: vocabulary, idf and every value agree to 1e-9 (float64), vocabulary from train only`, async () => {
      const train = await writeTable(env.store, table(fx.train));
      const test = await writeTable(env.store, table(fx.test));
      const run = await env.run(textTfidfStage, { params: { column: 'text', dtype: 'float64', ...c.params }, inputs: { train, test } });
      const vocabulary = await readJson<TfidfVocabulary & { fittedOn: string }>(env.store, run.outputs.vocabulary!);
      expect(vocabulary.terms).toEqual(c.terms);
      expect(vocabulary.fittedOn).toBe(train.digest);
      if (c.idf) vocabulary.idf.forEach((v, j) => expectClose(v, c.idf![j]!, 1e-12, `idf ${c.terms[j]}`));
      for (const [part, ref] of [
        ['train', run.outputs.train!],
        ['test', run.outputs.test!],
      ] as const) {
        const out = await readTable(env.store, ref);
        expect(out.schema.names).toEqual(['id', ...c.terms.map((t) => `text__${t}`), 'label']);
        expect(tableTarget(out)).toBe('label');
        const expected = dense(c[part], c.terms.length);
        c.terms.forEach((term, j) => {
          const values = numericColumn(out, `text__${term}`);
          expected.forEach((row, i) => expectClose(values[i]!, row[j]!, 1e-9, `${part}[${i}] ${term}`));
        });
      }
    });
  }

  it('stores Float32 by default: scikit-learn values rounded to float32', async () => {
    const c = fx.cases[0]!;
    const train = await writeTable(env.store, table(fx.train));
    const run = await env.run(textTfidfStage, { params: { column: 'text' }, inputs: { train, test: train } });
    const out = await readTable(env.store, run.outputs.train!);
    const expected = dense(c.train, c.terms.length);
    expect(String(out.getChild(`text__${c.terms[0]!}`)!.type)).toBe('Float32');
    c.terms.forEach((term, j) => {
      const values = numericColumn(out, `text__${term}`);
      expected.forEach((row, i) => {
        if (values[i] !== Math.fround(row[j]!)) expect.fail(`${term}[${i}]: ${values[i]} is not float32(${row[j]})`);
      });
    });
    expect(run.metrics).toMatchObject({ terms: c.terms.length, pruned_terms: 0 });
  });

  it('analyzes as scikit-learn: lowercase, Unicode word characters, two or more, stop words before n-grams', () => {
    expect(analyze("Don't stop; it's 2024 — naïve Ünïcödé x snake_case")).toEqual(['don', 'stop', 'it', '2024', 'naïve', 'ünïcödé', 'snake_case']);
    expect(analyze('Café crème', { stripAccents: 'unicode' })).toEqual(['cafe', 'creme']);
    expect(analyze('ﬁne ２', { stripAccents: 'ascii' })).toEqual(['fine']);
    expect(analyze('snake_case', { stripPunctuation: true })).toEqual(['snake', 'case']);
    expect(analyze('the cat and the hat', { stopWords: ENGLISH_STOP_WORDS, ngramRange: [1, 2] })).toEqual(['cat', 'hat', 'cat hat']);
    expect(analyze('a b c d', { ngramRange: [2, 3] })).toEqual([]);
    expect(analyze('aa bb cc', { ngramRange: [2, 3] })).toEqual(['aa bb', 'bb cc', 'aa bb cc']);
    expect(ENGLISH_STOP_WORDS.size).toBe(318);
  });

  it('treats missing text as empty, and refuses pruning everything and the target column', async () => {
    const train = await writeTable(env.store, table(['good movie', null, 'bad movie', 'good plot']));
    const run = await env.run(textTfidfStage, { params: { column: 'text', dtype: 'float64' }, inputs: { train, test: train } });
    const out = await readTable(env.store, run.outputs.train!);
    expect(numericColumn(out, 'text__movie')[1]).toBe(0);
    await expect(env.run(textTfidfStage, { params: { column: 'text', minDf: 4 }, inputs: { train, test: train } })).rejects.toMatchObject({
      code: 'PW_ERR_BAD_DATA',
    });
    await expect(env.run(textTfidfStage, { params: { column: 'label' }, inputs: { train, test: train } })).rejects.toMatchObject({
      code: 'PW_ERR_BAD_PARAMS',
    });
    expect(textTfidfStage.params.safeParse({ column: 'text', minDf: 2.5 }).success).toBe(false);
    expect(textTfidfStage.params.safeParse({ column: 'text', ngramRange: [2, 1] }).success).toBe(false);
  });

  it('keeps the text column when asked and honours the prefix and maxFeatures', async () => {
    const train = await writeTable(env.store, table(['aa bb bb cc', 'bb cc dd', 'cc dd ee']));
    const run = await env.run(textTfidfStage, { params: { column: 'text', keepText: true, prefix: 'w_', maxFeatures: 2 }, inputs: { train, test: train } });
    const out = await readTable(env.store, run.outputs.test!);
    // bb and cc occur three times each; ties go to the alphabetically first.
    expect(out.schema.names).toEqual(['id', 'text', 'w_bb', 'w_cc', 'label']);
  });
});
