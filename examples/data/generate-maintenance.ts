/**
 * Writes examples/data/maintenance_train.csv (machines M01-M60) and maintenance_test.csv
 * (M61-M80): hourly sensor readings of machines run until they fail.
 *
 *   npx tsx examples/data/generate-maintenance.ts
 *
 * Seeded, so the same bytes every time; the degradation model is documented in
 * examples/data/README.md (keep the two in step). Machines, not rows, are split between the two
 * files: windows of one machine overlap, and sharing a machine between train and test would leak.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '@pipewright/stages';

const MACHINES = 80;
const TRAIN_MACHINES = 60;
const SEED = 20_240_615;


const random = mulberry32(SEED);
const uniform = (lo: number, hi: number) => lo + (hi - lo) * random();
const normal = (mean: number, sd: number) => mean + sd * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

const header = 'machine,cycle,temperature,vibration,pressure,rpm,failure';
const train = [header];
const test = [header];
let failures = 0;
for (let m = 1; m <= MACHINES; m++) {
  const id = `M${String(m).padStart(2, '0')}`;
  const lifetime = Math.round(uniform(150, 450));
  const shape = uniform(2, 4);
  const tempBase = normal(70, 3);
  const vibBase = normal(0.8, 0.15);
  const pressureBase = normal(30, 1.5);
  let load = uniform(0.6, 0.9);
  const out = m <= TRAIN_MACHINES ? train : test;
  for (let cycle = 1; cycle <= lifetime; cycle++) {
    // Operating load: a bounded random walk that moves temperature, vibration and rpm without
    // saying anything about wear, so the model must tell the two apart.
    load = Math.min(1, Math.max(0.5, load + normal(0, 0.03)));
    const wear = (cycle / lifetime) ** shape;
    const temperature = tempBase + 6 * load + 12 * wear + normal(0, 1.2);
    const vibration = vibBase * (1 + 0.5 * load) + 1.5 * wear * wear + normal(0, 0.12);
    const pressure = pressureBase - 4 * wear + normal(0, 0.8);
    const rpm = 1500 + 100 * load + normal(0, 15);
    const failed = cycle === lifetime ? 1 : 0;
    failures += failed;
    out.push([id, cycle, temperature.toFixed(2), vibration.toFixed(3), pressure.toFixed(2), rpm.toFixed(0), failed].join(','));
  }
}

for (const [name, lines] of [
  ['maintenance_train.csv', train],
  ['maintenance_test.csv', test],
] as const) {
  const path = fileURLToPath(new URL(`./${name}`, import.meta.url));
  writeFileSync(path, `${lines.join('\n')}\n`);
  console.info(`wrote ${lines.length - 1} readings to ${path}`);
}
console.info(`${MACHINES} machines, ${failures} failures`);
