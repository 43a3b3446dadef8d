/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/service-process.ts';
import { startTestStack, type TestStack } from '../support/start-test-stack.ts';
import { launchBrowser, unlabelledControls, type Browser } from './browser-support.ts';

/**
 * The dashboard in Debian's Chromium against the whole system (API serving the built dashboard
 * at /ui, orchestrator, two workers, real Postgres and Redis). Each test leaves screenshots in
 * test-output/screenshots/.
 */

const STAGES = ['ingest', 'split', 'scale', 'train', 'evaluate'];

/** A run that fails on purpose: `flaky` fails non-retryably on attempt 1 and succeeds on later attempts. */
const FLAKY_YAML = `apiVersion: pipewright/v1
name: flaky-demo
stages:
  - { id: prepare, uses: util.noop@1 }
  - { id: flaky, uses: util.noop@1, needs: [prepare], with: { failUntilAttempt: 1, failRetryable: false } }
  - { id: report, uses: util.transform@1, needs: [flaky], inputs: { in: flaky.out } }
`;

let stack: TestStack;
let browser: Browser;
let page: Page;
let exampleYaml = '';
/** The run submitted from the editor, for the later tests. */
let runId = '';

const ui = (path = '') => `${stack.url}/ui${path}`;
const node = (stage: string) => page.locator(`[data-testid="dag-node-${stage}"]`);

async function statusesOf(stages: string[]): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  for (const s of stages) out[s] = await node(s).getAttribute('data-status');
  return out;
}

/** Waits until every listed DAG node shows `status`; the message lists what they show. */
async function waitForNodes(stages: string[], status: string | Record<string, string>, timeout = 120_000): Promise<void> {
  const wanted = typeof status === 'string' ? Object.fromEntries(stages.map((s) => [s, status])) : status;
  try {
    await page.waitForFunction(
      (w) => Object.entries(w).every(([s, st]) => document.querySelector(`[data-testid="dag-node-${s}"]`)?.getAttribute('data-status') === st),
      wanted,
      { timeout, polling: 100 },
    );
  } catch (error) {
    throw new Error(`DAG nodes did not reach ${JSON.stringify(wanted)}: they show ${JSON.stringify(await statusesOf(stages))}; browser: ${browser.problems.join(' | ')}`, { cause: error });
  }
}

/** Records every change of a DAG node's data-status from now on (in the page, by a MutationObserver). */
async function recordTransitions(): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __transitions: string[] };
    w.__transitions = [];
    new MutationObserver((records) => {
      for (const r of records) {
        const el = r.target as HTMLElement;
        if (r.attributeName === 'data-status' && el.dataset['testid']?.startsWith('dag-node-')) w.__transitions.push(`${el.dataset['testid'].slice(9)}:${el.dataset['status']}`);
      }
    }).observe(document.body, { attributes: true, attributeFilter: ['data-status'], subtree: true });
  });
}

const transitions = (): Promise<string[]> => page.evaluate(() => (window as unknown as { __transitions?: string[] }).__transitions ?? []);

async function expectLabelled(what: string): Promise<void> {
  expect(await unlabelledControls(page), `controls without a label on ${what}`).toEqual([]);
}

async function narrowScreenshot(name: string): Promise<void> {
  await page.setViewportSize({ width: 420, height: 800 });
  await page.waitForTimeout(300);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, `${name}: the page is wider than a 420 px window`).toBeLessThanOrEqual(1);
  await browser.screenshot(name);
  await page.setViewportSize({ width: 1280, height: 800 });
}

beforeAll(async () => {
  exampleYaml = await readFile(resolve(REPO_ROOT, 'examples/breast-cancer-diagnosis.yaml'), 'utf8');
  browser = await launchBrowser();
  page = browser.page;
  stack = await startTestStack({ workers: 2 });
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('the dashboard in Chromium', () => {
  it('opens the overview: queues, workers, runs of the last 24 hours, recent failures', async () => {
    await page.goto(ui('/'));
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await page.getByRole('heading', { name: 'Queues' }).waitFor();
    await page.locator('[data-testid="worker-stack-worker-1"]').waitFor();
    await page.locator('[data-testid="worker-stack-worker-2"]').waitFor();
    await page.getByText('No failures in the last hour.').waitFor();
    await page.getByRole('img', { name: /Runs created per hour/ }).waitFor();
    await expectLabelled('the overview');
    await browser.screenshot('01-overview-empty-system');
    await narrowScreenshot('01-overview-narrow-420px');
  });

  it('submits a run from YAML, with problems shown at their lines, and watches its DAG turn green live', async () => {
    await page.goto(ui('/pipelines/new'));
    const editor = page.getByLabel('Pipeline spec (YAML or JSON)');
    await editor.waitFor();

    // An unknown stage type and a missing need: both problems appear, each at its line.
    const broken = exampleYaml.replace('uses: train.logistic@1', 'uses: train.nope@1').replace('needs: [train, scale]', 'needs: [train, missing]');
    await editor.fill(broken);
    const problems = page.locator('[data-testid="spec-problems"]');
    await problems.getByText('train.nope@1').first().waitFor();
    const brokenLines = broken.split('\n');
    const trainLine = brokenLines.findIndex((l) => l.includes('train.nope@1')) + 1;
    await problems.getByRole('button', { name: `Go to line ${trainLine}` }).first().waitFor();
    expect(await page.getByRole('button', { name: 'Submit run' }).isDisabled()).toBe(true);
    await expectLabelled('the submit page');
    await browser.screenshot('02-submit-yaml-with-inline-problems');

    await editor.fill(exampleYaml);
    await page.locator('[data-testid="validation-state"][data-state="ok"]').waitFor();
    await browser.screenshot('03-submit-yaml-valid');

    // From here on, count the requests for the run itself: the page must not poll it.
    const requests: string[] = [];
    page.on('request', (r) => requests.push(new URL(r.url()).pathname));
    await page.getByRole('button', { name: 'Submit run' }).click();
    await page.waitForURL(/\/ui\/runs\/[0-9a-f-]{36}$/);
    runId = /\/ui\/runs\/([0-9a-f-]{36})$/.exec(page.url())?.[1] ?? '';
    expect(runId).not.toBe('');
    await node('train').waitFor();
    await recordTransitions();
    const before = await statusesOf(STAGES);

    await page
      .locator('[data-testid^="dag-node-"][data-status="RUNNING"]')
      .first()
      .waitFor({ timeout: 10_000 })
      .then(() => browser.screenshot('04-run-dag-live-while-running'))
      .catch(() => {});
    await waitForNodes(STAGES, 'SUCCEEDED');
    await page.locator('[data-testid="run-status"] [data-status="SUCCEEDED"]').waitFor();
    await browser.screenshot('05-run-dag-all-succeeded');

    // Live: the nodes changed in place (no reload), driven by the event stream, without polling.
    const seen = await transitions();
    expect(seen.length, `statuses at load: ${JSON.stringify(before)}`).toBeGreaterThan(0);
    expect(seen).toContain('evaluate:SUCCEEDED');
    expect(before['evaluate']).not.toBe('SUCCEEDED');
    expect(requests.filter((p) => p === `/v1/runs/${runId}/events`).length).toBeGreaterThanOrEqual(1);
    expect(requests.filter((p) => p === `/v1/runs/${runId}`), 'GET of the run (polling)').toEqual([]);
    expect(await page.locator('[data-testid="stream-state"]').getAttribute('data-state')).toBe('live');
    await expectLabelled('the run page');
    await narrowScreenshot('05-run-dag-narrow-420px');
  });

  it('opens the train stage by keyboard and shows its per-epoch metric chart, outputs and cache explanation', async () => {
    expect(runId).not.toBe('');
    await page.goto(ui(`/runs/${runId}`));
    await waitForNodes(STAGES, 'SUCCEEDED', 20_000);
    await node('train').focus();
    await page.keyboard.press('Enter');
    const drawer = page.locator('[data-testid="stage-drawer"]');
    await drawer.getByRole('heading', { name: 'Stage train' }).waitFor();
    expect(page.url()).toContain('stage=train');

    const chart = drawer.locator('figure[data-testid^="metric-chart-"]').first();
    await chart.waitFor();
    expect(Number(await chart.getAttribute('data-points'))).toBeGreaterThan(0);
    const canvas = chart.locator('canvas');
    await canvas.waitFor();
    // The canvas has a size and chart.js drew on it.
    await page.waitForFunction(
      (el) => {
        const c = el as HTMLCanvasElement;
        const ctx = c.getContext('2d');
        if (!ctx || c.width === 0 || c.height === 0) return false;
        const pixels = ctx.getImageData(0, 0, c.width, c.height).data;
        let painted = 0;
        for (let i = 3; i < pixels.length; i += 4) if ((pixels[i] ?? 0) > 0) painted += 1;
        return painted > 200;
      },
      await canvas.elementHandle(),
      { timeout: 10_000 },
    );
    await drawer.getByRole('list', { name: 'Outputs of train' }).getByRole('link', { name: /^Download/ }).first().waitFor();
    await drawer.locator('[data-testid="cache-explanation"], .not-available').first().waitFor();
    await expectLabelled('the stage drawer');
    await browser.screenshot('06-stage-drawer-train-metric-chart');

    // Escape closes the drawer and gives the focus back to the node.
    await page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'detached' });
    await page.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'dag-node-train');
  });

  it('shows the lineage of the trained model', async () => {
    await page.goto(ui(`/runs/${runId}?stage=train`));
    const drawer = page.locator('[data-testid="stage-drawer"]');
    await drawer.getByRole('list', { name: 'Outputs of train' }).getByRole('link', { name: /^Lineage of/ }).first().click();
    await page.waitForURL(/\/ui\/lineage\/[0-9a-f-]{36}$/);
    await page.locator('.lineage-node.artifact.root').waitFor();
    // Upstream (ingest … train) and downstream (evaluate) stages are in the graph.
    for (const stage of ['ingest', 'train', 'evaluate']) await page.locator('.lineage-node.stage', { hasText: stage }).first().waitFor();
    await expectLabelled('the lineage page');
    await browser.screenshot('07-lineage-of-trained-model');
  });

  it('makes a run fail, retries it from the UI and watches it succeed', async () => {
    const response = await fetch(`${stack.url}/v1/runs`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: FLAKY_YAML });
    expect(response.status, await response.clone().text()).toBe(201);
    const { id } = (await response.json()) as { id: string };
    await page.goto(ui(`/runs/${id}`));
    await waitForNodes(['prepare', 'flaky'], { prepare: 'SUCCEEDED', flaky: 'FAILED' });
    await page.locator('[data-testid="run-status"] [data-status="FAILED"]').waitFor({ timeout: 30_000 });
    expect(await node('report').getAttribute('data-status')).toMatch(/SKIPPED|PENDING|CANCELED/);
    await browser.screenshot('08-run-failed');

    await node('flaky').click();
    const drawer = page.locator('[data-testid="stage-drawer"]');
    await drawer.locator('[data-testid="stage-error"]').getByText('PW_ERR_TEST_FAILURE').waitFor();
    await browser.screenshot('09-stage-drawer-failure-error-code');

    await recordTransitions();
    await page.getByRole('button', { name: 'Retry run' }).click();
    await waitForNodes(['prepare', 'flaky', 'report'], 'SUCCEEDED', 60_000);
    await page.locator('[data-testid="run-status"] [data-status="SUCCEEDED"]').waitFor({ timeout: 30_000 });
    expect(await transitions()).toContain('flaky:SUCCEEDED');
    // flaky ran a second attempt; prepare, which had succeeded, kept its result and did not run again.
    expect(await drawer.getByRole('table', { name: 'Attempts of flaky' }).locator('tbody tr').count()).toBe(2);
    const run = (await (await fetch(`${stack.url}/v1/runs/${id}`)).json()) as { stages: { stage: string; attemptCount: number }[] };
    expect(run.stages.find((s) => s.stage === 'prepare')?.attemptCount).toBe(1);
    await browser.screenshot('10-run-retried-from-ui-succeeded');
  });

  it('draws a run-time fan-out (foreach) as one group node that counts its instances', async () => {
    const spec = {
      apiVersion: 'pipewright/v1',
      name: 'fan-out-demo',
      stages: [
        { id: 'list', uses: 'util.fanout@1', with: { count: 6 } },
        { id: 'each', uses: 'util.noop@1', needs: ['list'], foreach: 'list.items', with: { label: 'item-${{ index }}' } },
        { id: 'gather', uses: 'util.gather@1', needs: ['each'], inputs: { parts: 'each.out' } },
      ],
    };
    const response = await fetch(`${stack.url}/v1/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(spec) });
    expect(response.status, await response.clone().text()).toBe(201);
    const { id } = (await response.json()) as { id: string };
    await page.goto(ui(`/runs/${id}`));
    await waitForNodes(['list', 'each', 'gather'], 'SUCCEEDED', 60_000);
    // The instances are not nodes of their own: the group's node counts them.
    expect(await page.locator('[data-testid^="dag-node-each["]').count()).toBe(0);
    await node('each').getByText('6/6 done').waitFor();
    await node('each').click();
    const instances = page.getByRole('list', { name: 'Instances of each' });
    await instances.waitFor();
    expect(await instances.locator('li').count()).toBe(6);
    await browser.screenshot('15-run-foreach-group-with-instances');
  });

  it('lists runs with filters, and finds a run by id', async () => {
    await page.goto(ui('/runs'));
    await page.locator(`[data-testid="run-row-${runId}"]`).waitFor();
    expect(await page.locator('[data-testid^="run-row-"]').count()).toBeGreaterThanOrEqual(2);
    await page.getByLabel('State').selectOption('SUCCEEDED');
    await page.getByLabel('Pipeline').fill('flaky-demo');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/status=SUCCEEDED/);
    await page.locator('[data-testid^="run-row-"]').first().waitFor();
    expect(await page.locator(`[data-testid="run-row-${runId}"]`).count()).toBe(0);
    await page.getByRole('checkbox', { name: /^Select run / }).first().check();
    await page.getByText('1 selected').waitFor();
    await expectLabelled('the runs page');
    await browser.screenshot('11-runs-filtered-one-selected');

    await page.getByLabel('Run id').fill(runId);
    await page.getByRole('button', { name: 'Open' }).click();
    await page.waitForURL(new RegExp(`/ui/runs/${runId}$`));
    await page.goto(ui('/runs'));
    await page.locator(`[data-testid="run-row-${runId}"]`).waitFor();
    await narrowScreenshot('11-runs-narrow-420px');
  });

  it('lists pipelines and their versions', async () => {
    await page.goto(ui('/pipelines'));
    await page.getByRole('link', { name: 'breast-cancer-diagnosis', exact: true }).click();
    await page.getByRole('heading', { name: 'breast-cancer-diagnosis', level: 1 }).waitFor();
    await page.getByRole('heading', { name: /^Version 1/ }).waitFor();
    await page.goto(ui('/pipelines'));
    await page.getByRole('link', { name: 'flaky-demo', exact: true }).waitFor();
    await expectLabelled('the pipelines page');
    await browser.screenshot('12-pipelines');
  });

  it('pauses and resumes a queue on the workers and queues page', async () => {
    await page.goto(ui('/queues'));
    await page.locator('[data-testid="worker-stack-worker-1"]').waitFor();
    const row = page.locator('[data-testid="queue-stage-train-gpu"]');
    await page.getByRole('button', { name: 'Pause queue stage-train-gpu' }).click();
    await row.locator('[data-status="PAUSED"]').waitFor();
    await expectLabelled('the workers and queues page');
    await browser.screenshot('13-workers-and-queues-one-paused');
    await page.getByRole('button', { name: 'Resume queue stage-train-gpu' }).click();
    await row.getByText('running').waitFor();
    await narrowScreenshot('13-workers-and-queues-narrow-420px');
  });

  it('shows the runs and failures of the system on the overview', async () => {
    await page.goto(ui('/'));
    await page.getByRole('table', { name: 'Failed attempts in the last hour' }).getByText('PW_ERR_TEST_FAILURE').waitFor();
    await browser.screenshot('14-overview-after-runs');
    expect(browser.problems.filter((p) => !p.includes('EventSource')), 'browser console errors').toEqual([]);
  });
});
