/**
 * Training throughput of the TensorFlow.js stages against scikit-learn on the same machine and
 * data: logistic regression and an MLP (one hidden layer of 64 ReLU units), Adam, mini-batches of
 * 200 (scikit-learn's MLP default), on 100,000 x 50 seeded synthetic rows, a few epochs each, with
 * every TensorFlow.js backend this machine can load (each in its own process: the tfjs engine
 * picks one backend per process). Prints rows per second per epoch and the ratio to
 * scikit-learn's (`bench/ml/sklearn_baseline.py`, run in the same invocation).
 *
 *   npx tsx bench/ml/train-throughput.ts                       # wasm and cpu, 3 epochs
 *   npx tsx bench/ml/train-throughput.ts --epochs 2 --backends wasm --rows 20000
 *
 * The training loop is the stages' own (trainDenseNetwork: seeded shuffle, per-batch gather,
 * Adam), so the figures are what train.logistic@1 and train.mlp@1 do, minus reading the table.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { trainDenseNetwork } from '../../packages/stages/src/builtin/dense-network.ts';
import type { DenseNetworkOptions, SupervisedData } from '../../packages/stages/src/builtin/dense-network.ts';
import { loadTensorflow } from '../../packages/stages/src/tf-backend.ts';
import type { TensorflowBackendName } from '../../packages/stages/src/tf-backend.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PYTHON = '/usr/bin/python3';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    cols: { type: 'string', default: '50' },
    epochs: { type: 'string', default: '3' },
    backends: { type: 'string', default: 'wasm,cpu' },
    /** Internal: run one backend and print its result. */
    child: { type: 'string' },
    data: { type: 'string' },
    /** Per process, so a slow backend cannot hold the run. */
    'timeout-ms': { type: 'string', default: '600000' },
  },
});
const ROWS = Number(args.rows);
const COLS = Number(args.cols);
const EPOCHS = Number(args.epochs);

/** The models, as both sides train them. */
const MODELS = [
  { name: 'logistic', hidden: [] as number[], learningRate: 0.01 },
  { name: 'mlp', hidden: [64], learningRate: 0.001 },
] as const;
const BATCH = 200;

interface ModelResult {
  model: string;
  backend: string;
  /** Rows per second of each epoch. */
  rowsPerSecond: number[];
  finalLoss: number;
}

/** mulberry32 + Box–Muller: 50 standard-normal features, a linear-plus-interaction boundary. */
function makeData(rows: number, cols: number): { x: Float32Array; y: Uint8Array } {
  let state = 12345;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const w = Float64Array.from({ length: cols }, () => normal() / Math.sqrt(cols));
  const x = new Float32Array(rows * cols);
  const y = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    let z = 0;
    for (let j = 0; j < cols; j++) {
      const v = normal();
      x[i * cols + j] = v;
      z += w[j]! * v;
    }
    z += 0.5 * x[i * cols]! * x[i * cols + 1]! + 0.3 * normal();
    y[i] = z > 0 ? 1 : 0;
  }
  return { x, y };
}

async function runChild(backend: TensorflowBackendName, dataDir: string): Promise<void> {
  const loaded = await loadTensorflow({ prefer: backend, strict: true });
  const x = new Float32Array((await readFile(join(dataDir, 'x.f32'))).buffer.slice(0));
  const y = new Uint8Array(await readFile(join(dataDir, 'y.u8')));
  const rows = y.length;
  const data: SupervisedData = {
    task: 'binary',
    features: Array.from({ length: x.length / rows }, (_, j) => `x${j}`),
    target: 'y',
    classes: [0, 1],
    labels: Array.from(y),
    classIndex: Int32Array.from(y),
    values: new Float64Array(0),
    x,
    rows,
  };
  for (const model of MODELS) {
    const options: DenseNetworkOptions = {
      hidden: model.hidden,
      epochs: EPOCHS,
      learningRate: model.learningRate,
      batchSize: BATCH,
      seed: 1,
      l2: 0,
      outputInitializer: model.hidden.length === 0 ? 'zeros' : 'glorotUniform',
    };
    const ends: number[] = [];
    let finalLoss = Number.NaN;
    const started = performance.now();
    const trained = await trainDenseNetwork(loaded, data, undefined, options, {
      signal: new AbortController().signal,
      onEpoch: (_epoch, metrics) => {
        ends.push(performance.now());
        finalLoss = metrics.loss!;
      },
    });
    trained.model.dispose();
    const starts = [started, ...ends.slice(0, -1)];
    const result: ModelResult = {
      model: model.name,
      backend: loaded.backend,
      rowsPerSecond: ends.map((end, i) => rows / ((end - starts[i]!) / 1000)),
      finalLoss,
    };
    console.log(`RESULT ${JSON.stringify(result)}`);
  }
}

function run(command: string, argv: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, argv, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise(out);
      else reject(new Error(`${command} ${argv.join(' ')} ended with ${code ?? signal}: ${err.slice(-2000)}`));
    });
  });
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  if (args.child) {
    await runChild(args.child as TensorflowBackendName, args.data!);
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'pw-bench-ml-'));
  try {
    const { x, y } = makeData(ROWS, COLS);
    await writeFile(join(dir, 'x.f32'), new Uint8Array(x.buffer));
    await writeFile(join(dir, 'y.u8'), y);
    console.info(`data: ${ROWS} x ${COLS}, ${y.reduce((a, b) => a + b, 0)} positives; ${EPOCHS} epochs, batch ${BATCH}`);
    const timeoutMs = Number(args['timeout-ms']);

    const results: ModelResult[] = [];
    for (const backend of args.backends!.split(',').map((b) => b.trim()).filter(Boolean)) {
      try {
        const out = await run(process.execPath, ['--import', 'tsx', resolve(REPO_ROOT, 'bench/ml/train-throughput.ts'), '--child', backend, '--data', dir, '--epochs', String(EPOCHS)], timeoutMs);
        for (const line of out.split('\n')) if (line.startsWith('RESULT ')) results.push(JSON.parse(line.slice(7)) as ModelResult);
      } catch (error) {
        console.warn(`backend ${backend} skipped: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
      }
    }

    let sklearn: Record<string, { rowsPerSecond: number; label: string }> = {};
    try {
      const out = await run(PYTHON, [resolve(REPO_ROOT, 'bench/ml/sklearn_baseline.py'), '--data', dir, '--epochs', String(EPOCHS), '--batch', String(BATCH)], timeoutMs);
      sklearn = JSON.parse(out.trim().split('\n').at(-1)!) as typeof sklearn;
    } catch (error) {
      console.warn(`scikit-learn baseline skipped: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }

    console.info('');
    console.info('model     backend   rows/s per epoch                      median rows/s   scikit-learn rows/s            ratio');
    for (const r of results) {
      const base = sklearn[r.model];
      const m = median(r.rowsPerSecond);
      console.info(
        [
          r.model.padEnd(9),
          r.backend.padEnd(9),
          r.rowsPerSecond.map(fmt).join(' / ').padEnd(37),
          fmt(m).padStart(13),
          base ? `${fmt(base.rowsPerSecond)} (${base.label})`.padStart(30) : '-'.padStart(30),
          base ? `${(m / base.rowsPerSecond).toFixed(2)}x`.padStart(8) : '-'.padStart(8),
        ].join(' '),
      );
    }
    for (const [model, base] of Object.entries(sklearn)) {
      if (!MODELS.some((m) => m.name === model)) console.info(`reference: ${base.label}: ${fmt(base.rowsPerSecond)} rows/s`);
    }
    console.info('ratio = TensorFlow.js median rows/s / scikit-learn rows/s on the same data (above 1: faster)');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
