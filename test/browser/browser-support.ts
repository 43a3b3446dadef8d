/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT } from '../support/service-process.ts';

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it). CHROMIUM_PATH overrides. */
export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** Screenshots of each page land here (gitignored). */
export const SCREENSHOTS = resolve(REPO_ROOT, 'test-output/screenshots');

export const DASHBOARD_DIST = resolve(REPO_ROOT, 'services/dashboard/dist');

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Fails with what to do when a prerequisite is missing, instead of a timeout later. */
export function assertPrerequisites(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install it (apt-get install -y chromium; .ci/run does) or set CHROMIUM_PATH`);
  }
  if (!existsSync(join(DASHBOARD_DIST, 'index.html'))) {
    throw new Error('the dashboard is not built: run `npm run build -w services/dashboard` (npm run test:browser does it first)');
  }
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Browser console errors and failed page requests, for assertions and failure messages. */
  problems: string[];
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Chromium with a fresh profile directory, one page at 1280x800. */
export async function launchBrowser(): Promise<Browser> {
  assertPrerequisites();
  await mkdir(SCREENSHOTS, { recursive: true });
  const profile = await mkdtemp(join(tmpdir(), 'pw-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 800 },
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  const watch = (p: Page) => {
    p.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    p.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  };
  watch(page);
  context.on('page', watch);
  return {
    context,
    page,
    problems,
    async screenshot(name) {
      const path = join(SCREENSHOTS, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Every interactive control on the page that has no accessible name: buttons, links, inputs,
 * selects, text areas (a label, aria-label, aria-labelledby, or text content for buttons and
 * links). An empty list means every control is labelled.
 */
export async function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const controls = document.querySelectorAll<HTMLElement>('button, a[href], input:not([type=hidden]), select, textarea');
    for (const el of controls) {
      if (el.closest('[aria-hidden="true"]')) continue;
      const labelledBy = el.getAttribute('aria-labelledby');
      const byIds = labelledBy ? labelledBy.split(/\s+/).map((id: string) => document.getElementById(id)?.textContent ?? '').join(' ') : '';
      const labels = 'labels' in el ? [...((el as HTMLInputElement).labels ?? [])].map((l) => l.textContent ?? '').join(' ') : '';
      const text = el.tagName === 'BUTTON' || el.tagName === 'A' ? (el.textContent ?? '') : '';
      const name = [el.getAttribute('aria-label') ?? '', byIds, labels, text, el.getAttribute('title') ?? ''].join(' ').trim();
      if (!name) out.push(el.outerHTML.slice(0, 160));
    }
    return out;
  });
}
