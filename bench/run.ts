/**
 * `npm run bench` — Pipewright's benchmarks, each with its baseline in the same run, bounded in
 * time, cleaning up after itself (databases, Redis keys, processes). Prints one table and writes
 * it, with the machine it ran on, to docs/benchmarks.md.
 *
 *   npm run bench                          every benchmark, full sizes (about 10 minutes)
 *   npm run bench -- --quick               smaller sizes, a smoke test (about 3 minutes)
 *   npm run bench -- --only hop,fanout     some of them: hop, fanout, throughput, submission, bigdag, runlist, memory
 *   npm run bench -- --layout procs        hop and fan-out with each service in its own process (default: inproc)
 *   npm run bench -- --no-write            do not touch docs/benchmarks.md (--only and --quick never write it unless --write)
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bigDag } from './big-dag.ts';
import { fanOut } from './fanout.ts';
import { hopLatency } from './hop-latency.ts';
import { runList } from './run-list.ts';
import { submission } from './submission.ts';
import { throughput } from './throughput.ts';
import { workerMemory } from './worker-memory.ts';
import { BenchContext, REPO_ROOT, RUN_ID, withTimeout, type BenchOptions, type ResultRow } from './support/context.ts';
import { dropStaleBenchDatabases } from './support/databases.ts';
import { describeMachine, type Machine } from './support/machine.ts';
import { countRedisKeys } from './support/redis.ts';
import { markdownTable, textTable } from './support/table.ts';

interface Benchmark {
  name: string;
  title: string;
  /** Upper bound on the whole benchmark, setup and cleanup excluded. */
  timeoutMs: (quick: boolean) => number;
  run(ctx: BenchContext): Promise<ResultRow[]>;
}

const BENCHMARKS: Benchmark[] = [
  { name: 'hop', title: 'hop latency', timeoutMs: (q) => (q ? 120_000 : 300_000), run: hopLatency },
  { name: 'fanout', title: 'fan-out / fan-in', timeoutMs: (q) => (q ? 180_000 : 420_000), run: fanOut },
  { name: 'throughput', title: 'sustained throughput', timeoutMs: (q) => (q ? 150_000 : 300_000), run: throughput },
  { name: 'submission', title: 'submission', timeoutMs: (q) => (q ? 90_000 : 150_000), run: submission },
  { name: 'bigdag', title: 'big DAG', timeoutMs: () => 120_000, run: bigDag },
  { name: 'runlist', title: 'run list', timeoutMs: (q) => (q ? 120_000 : 480_000), run: runList },
  { name: 'memory', title: 'worker memory', timeoutMs: () => 240_000, run: workerMemory },
];

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    layout: { type: 'string', default: 'inproc' },
    write: { type: 'boolean' },
    'no-write': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(`usage: npm run bench -- [--quick] [--only ${BENCHMARKS.map((b) => b.name).join(',')}] [--layout inproc|procs] [--write|--no-write]\n`);
  process.exit(0);
}
const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean);
const unknown = only?.filter((n) => !BENCHMARKS.some((b) => b.name === n)) ?? [];
if (unknown.length) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}\n`);
  process.exit(2);
}
if (values.layout !== 'inproc' && values.layout !== 'procs') {
  process.stderr.write('--layout must be inproc or procs\n');
  process.exit(2);
}
const options: BenchOptions = { quick: values.quick, layout: values.layout };
const selected = BENCHMARKS.filter((b) => !only || only.includes(b.name));
const write = values['no-write'] ? false : (values.write ?? (!only && !values.quick));

let current: BenchContext | undefined;
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write(`\n${signal}: cleaning up ${current?.name ?? ''}…\n`);
    current?.controller.abort(new Error(signal));
    void (current?.cleanup() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

const started = Date.now();
const machine = await describeMachine();
const stale = await dropStaleBenchDatabases().catch(() => []);
if (stale.length) process.stderr.write(`dropped ${stale.length} bench database(s) left by killed runs\n`);
process.stderr.write(`pipewright bench ${RUN_ID}: ${selected.map((b) => b.name).join(', ')}${options.quick ? ' (quick)' : ''}; layout for hop/fan-out: ${options.layout}\n`);
process.stderr.write(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memory}, node ${machine.node}, load ${machine.load}\n`);

const rows: ResultRow[] = [];
const failures: string[] = [];
for (const bench of selected) {
  const ctx = new BenchContext(bench.name, options);
  current = ctx;
  const t0 = Date.now();
  process.stderr.write(`\n▶ ${bench.title}\n`);
  try {
    const limit = bench.timeoutMs(options.quick);
    const timer = setTimeout(() => ctx.controller.abort(new Error(`${bench.name} exceeded ${limit / 1000} s`)), limit);
    try {
      rows.push(...(await withTimeout(bench.run(ctx), limit + 5_000, bench.name)));
    } finally {
      clearTimeout(timer);
    }
  } catch (error) {
    const message = (error as Error)?.message ?? String(error);
    failures.push(`${bench.name}: ${message}`);
    process.stderr.write(`  [${bench.name}] FAILED: ${(error as Error)?.stack ?? message}\n`);
    rows.push({ figure: bench.title, pipewright: 'error', baseline: '—', goal: '—', pass: false, notes: [`${bench.name} failed: ${message.split('\n')[0]}`] });
  } finally {
    await ctx.cleanup();
    current = undefined;
    process.stderr.write(`  [${bench.name}] done in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  }
}

// Nothing of this run may be left behind.
const leftoverKeys = await countRedisKeys(`{pwbench-${RUN_ID}-*`).catch(() => -1);
const { adminQuery } = await import('./support/databases.ts');
const leftoverDbs = (await adminQuery<{ datname: string }>(`select datname from pg_database where datname like $1`, [`pw\\_bench\\_${RUN_ID}\\_%`])).rows.map((r) => r.datname);
const cleanupNote = `cleanup: ${leftoverDbs.length === 0 ? 'no database left' : `databases LEFT: ${leftoverDbs.join(', ')}`}, ${leftoverKeys === 0 ? 'no Redis key left' : `${leftoverKeys} Redis keys LEFT`}`;

const notes = rows.flatMap((r) => r.notes ?? []);
const minutes = ((Date.now() - started) / 60_000).toFixed(1);
process.stdout.write(`\n${textTable(rows)}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n- ${cleanupNote}\n\n${machineLine(machine)}; ${minutes} min${options.quick ? ', --quick' : ''}\n`);

if (write) {
  await writeFile(join(REPO_ROOT, 'docs', 'benchmarks.md'), markdown(rows, notes, machine, minutes, cleanupNote));
  process.stderr.write('wrote docs/benchmarks.md\n');
}
process.exit(failures.length > 0 ? 1 : 0);

function machineLine(m: Machine): string {
  return `machine: ${m.cpu}, ${m.cores} cores, ${m.memory} RAM, ${m.os}, Node ${m.node}, PostgreSQL ${m.postgres}, Redis ${m.redis}, load average at start ${m.load}, ${m.date}`;
}

function markdown(table: ResultRow[], lines: string[], m: Machine, mins: string, cleanup: string): string {
  return `# Benchmarks

\`npm run bench\` (\`tsx bench/run.ts\`) runs each benchmark together with its baseline in the same
run and prints this table; the full run rewrites this file. The machine is shared and noisy: compare
the **ratio** of a row (both sides measured minutes apart on the same machine), not absolute
numbers across runs. \`--quick\` is a smoke test with smaller sizes; \`--only hop,fanout\` runs some;
\`--layout procs\` runs hop and fan-out with every service in its own process. What bounds each
figure that misses its goal, as measured, and what would move it: [performance.md](performance.md).

## Latest run

${table.length} figures, ${mins} min, ${m.date}.

${markdownTable(table)}

| machine | |
|---|---|
| CPU | ${m.cpu} |
| cores | ${m.cores} |
| memory | ${m.memory} |
| OS | ${m.os} |
| Node.js | ${m.node} |
| PostgreSQL | ${m.postgres} |
| Redis | ${m.redis} |
| load average at start | ${m.load} |

## Details of this run

${lines.map((n) => `- ${n}`).join('\n')}
- ${cleanup}

## What each figure measures

- **hop latency**: a chain of 100 \`util.noop@1\` stages (needs only, no inputs) submitted through
  \`POST /v1/runs\`, with the API, an orchestrator and 2 workers (concurrency 1) started in one
  process with the services' \`start*\` functions over a fresh database (\`--layout procs\`: each
  service as its own process, as in production). One hop = stage N's worker reported it finished
  (\`attempts.finished_at\`) -> stage N+1's worker started it (\`attempts.started_at\`): the succeeded
  event through Redis, the orchestrator's apply transaction, the outbox relay, BullMQ and the
  worker's pick-up. A warm-up chain of the same length, then three chains (one with \`--quick\`),
  alternating with the baseline. **Baseline**:
  raw BullMQ with 2 workers where each job's handler commits one Postgres \`UPDATE\`+\`INSERT\`
  transaction and then adds the next job; hop = handler N started -> handler N+1 started.
- **fan-out / fan-in**: \`root -> 1,000 no-op stages -> join\` (200 with \`--quick\`), from the
  \`POST\` to \`runs.finished_at\` (SUCCEEDED). **Baseline**: a BullMQ \`FlowProducer\` flow of one parent
  with 1,000 children, \`add\` -> parent completed, 2 workers of concurrency 1 on each queue. Each
  warms up once at the full width, then they run alternately five times (once with \`--quick\`);
  the figures are the medians.
- **sustained throughput**: no-op stages applied (rows reaching SUCCEEDED) per second over 60 s
  (20 s with \`--quick\`) after a warm-up, with the API, the orchestrator and 2 workers (concurrency 4)
  as separate processes, and 128 runs of a 10-stage pipeline (\`root -> 8 -> join\`) kept in flight
  (each driver lane submits its next run as soon as its last one ended).
  **Baseline**: \`pgbench -N\` (simple update) with 4 clients, same duration, same server.
- **submission**: \`POST /v1/runs\` of the 10-stage pipeline (JSON) from a closed-loop load
  generator in the bench process (10 keep-alive connections, like \`autocannon -c 10\`), against
  the API running as its own process; **baseline**: the same process answering \`GET /healthz\`
  under the same load.
- **big DAG**: \`planPipeline\` of a 10,000-stage spec (100 layers of 100; every later stage is
  \`util.merge@1\` binding two outputs of the layer before), from a JS object, p50 of 15 calls after
  5 warm-ups, in a child process of its own (a fresh heap: in the bench process, the garbage left by
  the other benchmarks doubles the time). The CPU time of the same calls is in the details.
- **run list**: a dedicated database migrated with \`migrateDatabase\` and filled with
  \`generate_series\`: 100,000 runs of 10 stages (1,000,000 stage rows; 80% SUCCEEDED, 10% FAILED,
  5% CANCELED, 3% RUNNING, 2% QUEUED), an attempt per started stage and an artifact per succeeded
  one. \`GET /v1/runs?status=FAILED\` (first page, every fourth request the next page by cursor) and
  \`GET /v1/runs/{id}\` of random runs over HTTP, sequentially; every statement the API ran is
  captured from drizzle's logger and re-run under \`EXPLAIN ANALYZE\`: the figure fails on a
  sequential scan of runs, stage_runs, attempts or artifacts.
- **worker memory**: \`services/worker/src/main.ts\` as its own process (\`node --import tsx\`, every
  CPU queue, default TensorFlow.js backend), RSS after start, 3 s idle and two full GCs; then
  RSS sampled every 20 ms while it trains the demo MLP (\`train.mlp@1\`, breast cancer, 50 epochs).
  The baseline is a bare \`node --import tsx\` process with one BullMQ Worker, measured the same way.

## Diagnostics

Not part of \`npm run bench\`; each prints where the time of one figure goes (\`npx tsx <file>\`):

- \`bench/diagnose/hop-trace.ts\`: timing spans on every Postgres statement (grouped into
  transactions), BullMQ add and event publish of a 100-stage chain; the critical path of a hop,
  segment by segment, and the statements of the apply transaction.
- \`bench/diagnose/fan-trace.ts --width 1000\`: the same for a fan-out run, with the run-lock wait per
  transaction and the CPU used by this process, Postgres and Redis.
- \`bench/diagnose/submit-trace.ts\`, \`bench/diagnose/submit-profile.ts\`: statements of \`POST /v1/runs\`
  under load (one pipeline name vs a new name per request), and a CPU profile of the API process.
- \`bench/diagnose/run-detail-artifacts.ts\`: \`EXPLAIN ANALYZE\` of the run detail's artifacts query as
  it is and rewritten as a \`UNION ALL\`, over the run-list data.
- \`bench/diagnose/memory-breakdown.ts\`: idle RSS of a plain Node/BullMQ process, with tsx, with the
  stage modules imported, and of the worker with each TensorFlow.js backend.
- \`bench/diagnose/ab-hop.ts --variants 'base:;x:ENV=1'\`: hop latency of code variants switched by
  environment variables, alternating chain by chain in one process (for prototypes).
- \`bench/diagnose/summarize-profile.ts <file.cpuprofile>\`: self time by package and function of a
  \`node --cpu-prof\` profile.
`;
}
