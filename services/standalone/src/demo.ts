import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pino } from 'pino';
import { ConfigError } from '@pipewright/core';
import { loadStandaloneEnv } from './env.ts';
import { startStandalone } from './start-standalone.ts';
import { watchRun } from './watch-run.ts';

/**
 * `npm run demo`: starts the whole system in this process, submits the breast-cancer example
 * through the REST API, shows each stage as it runs, prints the final state and the evaluation
 * metrics, and exits 0 only when the run SUCCEEDED.
 */
async function main(): Promise<number> {
  // The demo must not fight a `npm start` already on port 3000: it takes a free port.
  const env = loadStandaloneEnv({ PORT: '0', LOG_LEVEL: 'warn', ...process.env });
  const specPath = resolve(process.argv[2] ?? 'examples/breast-cancer-diagnosis.yaml');
  const started = performance.now();
  const system = await startStandalone(env, pino({ level: env.LOG_LEVEL }));
  try {
    process.stdout.write(`pipewright is up at ${system.url} (database: ${system.databaseKind})\n`);
    const yaml = await readFile(specPath, 'utf8');
    const response = await fetch(`${system.url}/v1/runs`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: yaml });
    const body = (await response.json()) as { id?: string; message?: string; details?: unknown };
    if (response.status !== 201 || !body.id) {
      process.stderr.write(`submit failed (${response.status}): ${JSON.stringify(body, null, 2)}\n`);
      return 1;
    }
    process.stdout.write(`submitted ${specPath} as run ${body.id}\n`);
    const run = await watchRun(system.url, body.id, (line) => process.stdout.write(`${line}\n`));
    process.stdout.write(`\nrun ${run.id}: ${run.status} in ${((performance.now() - started) / 1000).toFixed(1)} s (including startup)\n`);
    for (const stage of run.stages) {
      if (stage.metrics && Object.keys(stage.metrics).length) {
        const shown = Object.entries(stage.metrics)
          .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(4)}`)
          .join('  ');
        process.stdout.write(`  ${stage.stage.padEnd(10)} ${shown}\n`);
      }
    }
    process.stdout.write(`details: ${system.url}/v1/runs/${run.id} (lineage, metrics: /lineage, /metrics)\n`);
    return run.status === 'SUCCEEDED' ? 0 : 1;
  } finally {
    await system.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof ConfigError ? error.message : String((error as Error)?.stack ?? error)}\n`);
    process.exit(error instanceof ConfigError ? 78 : 1);
  },
);
