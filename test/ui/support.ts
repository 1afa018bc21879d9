/**
 * What the browser tests share: the web build they need, one browser per test file with fresh
 * sessions, steps that leave screenshots when they fail, and the accessibility check (axe-core
 * injected into the page).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { run } from '../support/clients.ts';
import { PROJECT_ROOT } from '../support/gantry.ts';
import { launchBrowser, screenshot } from './browser.ts';

const WEB_DIST = join(PROJECT_ROOT, 'web', 'dist', 'index.html');
/** How long a locator waits for the page before a step fails. */
export const WAIT_MS = 10_000;

/** The newest modification time under `dir` (recursively), 0 when it does not exist. */
function newest(dir: string): number {
  if (!existsSync(dir)) return 0;
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** web/dist as the server serves it: built (`npm run build:web`) when missing or older than web/src. */
export async function ensureWebBuilt(): Promise<void> {
  const sources = Math.max(
    newest(join(PROJECT_ROOT, 'web', 'src')),
    statSync(join(PROJECT_ROOT, 'web', 'index.html')).mtimeMs,
  );
  if (existsSync(WEB_DIST) && statSync(WEB_DIST).mtimeMs >= sources) return;
  process.stderr.write(
    `# web/dist ${existsSync(WEB_DIST) ? 'is older than web/src' : 'is missing'}: npm run build:web\n`,
  );
  try {
    await run('npm', ['run', 'build:web', '--', '--logLevel', 'warn'], {
      timeoutMs: 180_000,
      cwd: PROJECT_ROOT,
    });
  } catch (err) {
    throw new Error(
      `the web UI could not be built (npm run build:web in ${PROJECT_ROOT}); the browser tests need web/dist:\n${(err as Error).message}`,
    );
  }
  assert.ok(existsSync(WEB_DIST), `npm run build:web did not produce ${WEB_DIST}`);
}

/** Waits until `locator` is visible and returns its text, white space collapsed. */
export async function textOf(locator: Locator): Promise<string> {
  await locator.waitFor({ state: 'visible' });
  // biome-ignore lint/performance/useDomNodeTextContent: the rendered text, as a reader sees it
  return (await locator.innerText()).replace(/\s+/g, ' ').trim();
}

/** Polls `probe` until it returns true (or fails after WAIT_MS). */
export async function eventually(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits for every loading indicator on the page to go away. */
export const settled = (page: Page) =>
  eventually('the page to finish loading', async () => (await page.getByTestId('loading').count()) === 0);

const AXE_SOURCE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/**
 * The serious and critical findings of axe-core on the page as it is now, one line each
 * (`rule: target`); empty when there are none.
 */
export async function axeFindings(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.addScriptTag({ path: AXE_SOURCE });
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: AxeViolation[] }> } }).axe;
    interface AxeViolation {
      id: string;
      impact: string | null;
      nodes: { target: unknown[] }[];
    }
    const result = await axe.run();
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .flatMap((v) => v.nodes.map((n) => `${v.id}: ${JSON.stringify(n.target)}`));
  });
  return violations;
}

/** One browser for a test file; sessions (contexts) are fresh and closed with it. */
export class UiBrowser {
  private browser: Browser | undefined;
  private readonly contexts: BrowserContext[] = [];

  constructor(private readonly serverOutput: () => string) {}

  async start(): Promise<void> {
    this.browser = await launchBrowser();
  }

  /** A fresh session (no cookies) with a window of the given size (desktop by default). */
  async newPage(
    viewport = { width: 1280, height: 800 },
    options: { colorScheme?: 'light' | 'dark' } = {},
  ): Promise<Page> {
    assert.ok(this.browser, 'start() first');
    // bypassCSP: the page's script-src 'self' would refuse the injected accessibility checker.
    const context = await this.browser.newContext({
      viewport,
      locale: 'en-GB',
      timezoneId: 'UTC',
      bypassCSP: true,
      colorScheme: options.colorScheme ?? 'light',
    });
    context.setDefaultTimeout(WAIT_MS);
    this.contexts.push(context);
    return context.newPage();
  }

  /** A test body whose failure carries a screenshot of every open page and the server's last lines. */
  step(body: (t: TestContext) => Promise<void>) {
    return async (t: TestContext): Promise<void> => {
      try {
        await body(t);
      } catch (err) {
        const shots: string[] = [];
        for (const [i, context] of this.contexts.entries()) {
          for (const [j, page] of context.pages().entries()) {
            const name = `failure-${t.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 50)}-${i}-${j}`;
            shots.push(
              `${await screenshot(page, name, { fullPage: true }).catch((e) => `(${e})`)} (${page.url()})`,
            );
          }
        }
        const tail = this.serverOutput().trimEnd().split('\n').slice(-30).join('\n');
        if (err instanceof Error)
          err.message += `\n--- screenshots ---\n${shots.join('\n')}${tail ? `\n--- gantry output (last 30 lines) ---\n${tail}` : ''}`;
        throw err;
      }
    };
  }

  async close(): Promise<void> {
    for (const context of this.contexts) await context.close().catch(() => {});
    await this.browser?.close();
  }
}

/** Signs `page` in through the sign-in page and waits for the pipeline. */
export async function signIn(page: Page, base: string, user: string, password: string): Promise<void> {
  await page.goto(`${base}/ui/sign-in`);
  await page.getByLabel('User').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByTestId('user-name').waitFor();
}
