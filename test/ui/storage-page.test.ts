// The Storage page in a real browser (Debian's chromium, playwright-core) against a running
// Gantry: usage with a quota warning, the retention form with its live dry-run preview, saving
// the rules, and the garbage-collection section on a server without GC.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { callApi } from '../api/support.ts';
import { run } from '../support/clients.ts';
import { ADMIN, basicAuth, PROJECT_ROOT, type RunningGantry, startGantry } from '../support/gantry.ts';
import { RegistryClient } from '../support/http.ts';
import { browserUnavailableReason, launchBrowser, screenshot } from './browser.ts';

const AUTH = basicAuth(ADMIN.user, ADMIN.password);
const WEB_DIST = join(PROJECT_ROOT, 'web', 'dist', 'index.html');
const DEV = 'docker-dev-local';

function newest(dir: string): number {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

describe('web UI: the Storage page', { skip: browserUnavailableReason() }, () => {
  let gantry: RunningGantry;
  let browser: Browser;
  let page: Page;

  before(async () => {
    if (!existsSync(WEB_DIST) || statSync(WEB_DIST).mtimeMs < newest(join(PROJECT_ROOT, 'web', 'src')))
      await run('npm', ['run', 'build:web', '--', '--logLevel', 'warn'], {
        timeoutMs: 180_000,
        cwd: PROJECT_ROOT,
      });
    gantry = await startGantry({ openAccess: false });
    const registry = new RegistryClient(gantry.url, { authorization: AUTH });
    for (const tag of ['old', 'new']) {
      await registry.pushImage(`${DEV}/app`, tag, { layerSizes: [4096] });
      await new Promise((done) => setTimeout(done, 5));
    }
    const res = await callApi(gantry.url, 'PATCH', `/repositories/${DEV}`, {
      auth: AUTH,
      body: { settings: { quota: { bytes: 20_000, warnAt: 0.1 } } },
    });
    assert.equal(res.status, 200, res.text);
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC' });
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
    await page.goto(`${gantry.url}/ui/sign-in`);
    await page.getByLabel('User').fill(ADMIN.user);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByTestId('user-name').waitFor();
  });
  after(async () => {
    await browser?.close();
    await gantry?.stop();
  });

  it('shows usage per repository with the quota warning, and runs a GC dry run', async () => {
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Storage', exact: true })
      .click();
    await page.getByRole('heading', { name: 'Storage', level: 1 }).waitFor();
    const row = page.getByTestId('usage').getByRole('row').filter({ hasText: DEV });
    await row.waitFor();
    assert.match((await page.getByTestId(`quota-${DEV}`).textContent()) ?? '', /over 10% of quota/);
    assert.match((await page.getByTestId('usage').textContent()) ?? '', /Total: .* unique/);
    await page.getByRole('button', { name: 'Dry run' }).click();
    await page.getByTestId('gc-runs').getByText('dry run').first().waitFor();
    await screenshot(page, 'storage-usage');
  });

  it('edits retention rules with a live dry-run preview, then saves them', async () => {
    await page.getByRole('button', { name: `Edit retention rules of ${DEV}` }).click();
    await page.getByRole('heading', { name: `Retention rules of ${DEV}` }).waitFor();
    // The default first rule keeps the last 10 tags: nothing to remove.
    await page.getByText('These rules remove nothing now.').waitFor();
    await page.getByLabel('Tags to keep (N)').fill('1');
    const removals = page.getByTestId('retention-removals');
    await removals.waitFor();
    const text = (await removals.textContent()) ?? '';
    assert.match(text, /would remove 1 items/);
    assert.match(text, /appold.*no keep rule matched/s);
    assert.doesNotMatch(text, /\bnew\b/);
    // A bad value is named by the server in the preview.
    await page.getByLabel('Tags to keep (N)').fill('-3');
    await page.getByText(/count must be a whole number/).waitFor();
    await page.getByLabel('Tags to keep (N)').fill('1');
    await removals.waitFor();
    await screenshot(page, 'storage-retention');
    await page.getByLabel(/Schedule/).fill('0 3 * * *');
    await page.getByRole('button', { name: 'Save rules' }).click();
    await page.getByText('Rules saved.').waitFor();
    const saved = await callApi(gantry.url, 'GET', `/repositories/${DEV}`, { auth: AUTH });
    assert.deepEqual(saved.body.settings.retention, {
      rules: [{ keep: 'last', count: 1, order: 'pushed' }],
      schedule: '0 3 * * *',
    });
    // The quota survives the save (the form sends the other settings back unchanged).
    assert.deepEqual(saved.body.settings.quota, { bytes: 20_000, warnAt: 0.1 });
    // Nothing was removed: the preview is a dry run.
    const registry = new RegistryClient(gantry.url, { authorization: AUTH });
    assert.equal((await registry.getManifest(`${DEV}/app`, 'old')).status, 200);
  });
});
