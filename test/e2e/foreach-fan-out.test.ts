import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/start-test-stack.ts';

/** Run-time fan-out: a stage maps over a list an upstream stage produced, then a stage gathers. */
describe('foreach: run-time fan-out and fan-in', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ workers: 2 });
  });
  afterAll(() => stack.stop());

  const spec = (count: number, failIndex = -1) => ({
    apiVersion: 'pipewright/v1',
    name: `fan-out-${count}`,
    cache: false,
    stages: [
      { id: 'list', uses: 'util.fanout@1', with: { count, failIndex } },
      {
        id: 'each',
        uses: 'util.noop@1',
        needs: ['list'],
        foreach: 'list.items',
        with: { label: 'item-${{ index }}', failUntilAttempt: '${{ item.failUntilAttempt }}', failRetryable: false },
      },
      { id: 'gather', uses: 'util.gather@1', needs: ['each'], inputs: { parts: 'each.out' } },
    ],
  });

  type Detail = Awaited<ReturnType<TestStack['runToEnd']>>;
  const byKey = (run: Detail) => Object.fromEntries(run.stages.map((s) => [s.stage, s]));

  it('fans out into one instance per item, and the gather stage receives every output in order', async () => {
    const run = await stack.runToEnd(spec(5));
    expect(run.status).toBe('SUCCEEDED');
    const stages = byKey(run);
    expect(Object.keys(stages).sort()).toEqual(['each', 'each[0]', 'each[1]', 'each[2]', 'each[3]', 'each[4]', 'gather', 'list']);
    expect(stages['each']?.status).toBe('SUCCEEDED');
    expect(stages['gather']?.metrics).toMatchObject({ parts: 5 });
    const lineage = (await (await fetch(`${stack.url}/v1/runs/${run.id}/lineage`)).json()) as {
      artifacts: { producedBy: { stage: string }; consumedBy: { stage: string; inputName: string }[] }[];
    };
    const gathered = lineage.artifacts.flatMap((a) => a.consumedBy.filter((c) => c.stage === 'gather').map((c) => [c.inputName, a.producedBy.stage]));
    expect(gathered.sort()).toEqual([0, 1, 2, 3, 4].map((i) => [`parts[${i}]`, `each[${i}]`]));
  });

  it('an empty list fans out into nothing and the run goes on', async () => {
    const run = await stack.runToEnd(spec(0));
    expect(run.status).toBe('SUCCEEDED');
    expect(byKey(run)['gather']?.metrics).toMatchObject({ parts: 0 });
  });

  it('a failed instance fails the group; a retry re-runs only the failed instances', async () => {
    const failing = spec(3, 2);
    const run = await stack.runToEnd(failing);
    expect(run.status).toBe('FAILED');
    expect(byKey(run)['each']?.status).toBe('FAILED');
    expect(byKey(run)['gather']?.status).toBe('SKIPPED');
    const retry = await fetch(`${stack.url}/v1/runs/${run.id}/retry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(retry.status).toBe(200);
    const deadline = Date.now() + 60_000;
    let again: Detail;
    do {
      await new Promise((r) => setTimeout(r, 200));
      again = (await (await fetch(`${stack.url}/v1/runs/${run.id}`)).json()) as Detail;
    } while (!['SUCCEEDED', 'FAILED'].includes(again.status) && Date.now() < deadline);
    expect(again.status).toBe('SUCCEEDED');
    const stages = byKey(again);
    // Only item 2 failed (on attempt 1); only it ran again. The list and the other instances kept their outputs.
    expect(stages['list']?.attempts).toHaveLength(1);
    expect(stages['each[0]']?.attempts.map((a) => a.status)).toEqual(['SUCCEEDED']);
    expect(stages['each[1]']?.attempts.map((a) => a.status)).toEqual(['SUCCEEDED']);
    expect(stages['each[2]']?.attempts.map((a) => a.status)).toEqual(['FAILED', 'SUCCEEDED']);
    expect(stages['gather']?.metrics).toMatchObject({ parts: 3 });
  });
});
