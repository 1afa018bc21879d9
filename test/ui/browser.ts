/**
 * A real browser for the web UI tests: Debian's chromium driven by playwright-core (the
 * browsers `npx playwright install` downloads are not reachable here), and screenshots of what
 * the tests saw, written as PNGs to one folder per run.
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.GANTRY_CHROMIUM ?? '/usr/bin/chromium';

/**
 * The flags chromium needs in a container without a GPU, a sandbox or a network to phone home
 * to. Playwright adds `--user-data-dir` itself: a fresh, empty profile in a temp dir per launch,
 * removed on close (passing our own is refused by launch(); launchPersistentContext takes one).
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Why the browser tests cannot run here, or undefined when they can. */
export function browserUnavailableReason(): string | undefined {
  if (!existsSync(CHROMIUM))
    return `${CHROMIUM} is missing (apt-get install chromium, or scripts/install-deps.sh as root)`;
  return undefined;
}

/** Headless chromium; every `browser.newContext()` is a fresh session (no cookies, no storage). */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
  });
}

let folder: string | undefined;

/**
 * Where screenshots go: `GANTRY_SCREENSHOTS` (relative to the working directory), else
 * `<tmpdir>/gantry-screenshots-<run>`. Created on first use; the path is printed once.
 */
export async function screenshotDir(): Promise<string> {
  if (folder) return folder;
  const run = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}-${process.pid}`;
  const dir = resolve(process.env.GANTRY_SCREENSHOTS || join(tmpdir(), `gantry-screenshots-${run}`));
  await mkdir(dir, { recursive: true });
  folder = dir;
  process.stderr.write(`# screenshots: ${dir}\n`);
  return dir;
}

/**
 * Saves what `page` shows (the viewport, or the whole page with `fullPage`) as `<name>.png` in
 * the screenshot folder; returns the file's path. Animations are stopped and the caret hidden,
 * so the same page gives the same picture.
 */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}) {
  const file = join(await screenshotDir(), `${name}.png`);
  await page.screenshot({
    path: file,
    fullPage: options.fullPage ?? false,
    animations: 'disabled',
    caret: 'hide',
  });
  return file;
}

/** The PNGs in the screenshot folder with their sizes (for the test's closing summary). */
export async function screenshotList(): Promise<{ file: string; bytes: number }[]> {
  if (!folder) return [];
  const names = (await readdir(folder)).filter((n) => n.endsWith('.png')).sort();
  return names.map((n) => ({
    file: join(folder as string, n),
    bytes: statSync(join(folder as string, n)).size,
  }));
}
