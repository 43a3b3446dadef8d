import { describe, expect, it } from 'vitest';
import { startServiceProcess } from '../support/service-process.ts';

/** A service with a bad setting stops at boot, exit code 78, naming the variable. */
describe('service configuration at boot', () => {
  for (const [service, entry, env] of [
    ['worker', 'services/worker/src/main.ts', { WORKER_CONCURRENCY: 'lots' }],
    ['orchestrator', 'services/orchestrator/src/main.ts', { DATABASE_URL: 'mysql://nope' }],
    ['api', 'services/api/src/main.ts', { DATABASE_URL: 'postgres://x@127.0.0.1:1/x', PORT: '99999' }],
  ] as const) {
    it(`${service} refuses a bad value and says which`, async () => {
      const proc = startServiceProcess(service, entry, env);
      const code = await new Promise<number | null>((resolve) => proc.child.once('exit', (c) => resolve(c)));
      expect(code).toBe(78);
      const variable = Object.keys(env).at(-1) as string;
      expect(proc.output()).toContain(`${variable}:`);
    });
  }
});
