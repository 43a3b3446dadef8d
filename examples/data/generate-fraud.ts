/**
 * Writes examples/data/fraud_transactions.csv: synthetic card transactions, 1.5 % fraud.
 *
 *   npx tsx examples/data/generate-fraud.ts
 *
 * No real fraud data can be had offline (and real card data would not be publishable), so the
 * data is drawn from a documented model with a fixed seed; the same seed always writes the same
 * bytes. The model is in examples/data/README.md; keep the two in step.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '@pipewright/stages';

const ROWS = 20_000;
const FRAUD_RATE = 0.015;
const SEED = 20_240_601;


const random = mulberry32(SEED);
const uniform = (lo: number, hi: number) => lo + (hi - lo) * random();
const bernoulli = (p: number) => (random() < p ? 1 : 0);
/** Box–Muller. */
const normal = (mean: number, sd: number) => mean + sd * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
const logNormal = (mu: number, sigma: number) => Math.exp(normal(mu, sigma));
/** Knuth's method; fine for the small means used here. */
function poisson(lambda: number): number {
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = random();
  while (p > limit) {
    k++;
    p *= random();
  }
  return k;
}
/** Hour of day: legitimate spending follows waking hours, fraud is spread round the clock with a night bump. */
function hour(fraud: boolean): number {
  if (fraud && random() < 0.45) return Math.floor(uniform(0, 6));
  const h = normal(fraud ? 14 : 14.5, fraud ? 6 : 3.8);
  return ((Math.round(h) % 24) + 24) % 24;
}

const header = [
  'amount',
  'customer_avg_amount',
  'amount_ratio',
  'hour',
  'merchant_risk',
  'distance_km',
  'txn_last_24h',
  'card_present',
  'foreign',
  'account_age_days',
  'is_fraud',
];
const lines = [header.join(',')];
let frauds = 0;
for (let i = 0; i < ROWS; i++) {
  const fraud = random() < FRAUD_RATE;
  if (fraud) frauds++;
  const customerAvg = logNormal(3.6, 0.6);
  // Fraudsters test a card with small amounts, then spend big: a mixture for fraud.
  const amount = fraud
    ? random() < 0.25
      ? uniform(0.5, 5)
      : customerAvg * logNormal(0.9, 0.8)
    : customerAvg * logNormal(0, 0.55);
  const merchantRisk = fraud ? Math.min(1, Math.max(0, normal(0.55, 0.2))) : Math.min(1, Math.max(0, normal(0.3, 0.17)));
  const distance = fraud ? logNormal(3.4, 1.4) : logNormal(2.0, 1.1);
  const txn24h = poisson(fraud ? 4.5 : 2.2);
  const cardPresent = bernoulli(fraud ? 0.3 : 0.75);
  const foreign = bernoulli(fraud ? 0.3 : 0.04);
  const accountAge = Math.round(fraud ? logNormal(5.0, 1.2) : logNormal(6.3, 0.9));
  lines.push(
    [
      amount.toFixed(2),
      customerAvg.toFixed(2),
      (amount / customerAvg).toFixed(4),
      hour(fraud),
      merchantRisk.toFixed(3),
      distance.toFixed(1),
      txn24h,
      cardPresent,
      foreign,
      accountAge,
      fraud ? 1 : 0,
    ].join(','),
  );
}

const out = fileURLToPath(new URL('./fraud_transactions.csv', import.meta.url));
writeFileSync(out, `${lines.join('\n')}\n`);
console.info(`wrote ${ROWS} rows (${frauds} fraud, ${((100 * frauds) / ROWS).toFixed(2)} %) to ${out}`);
