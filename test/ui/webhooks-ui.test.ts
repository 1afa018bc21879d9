/**
 * The Webhooks page in a real browser (Debian's chromium): an administrator signs in, creates a
 * subscription, sees its deliveries after a push and replays them.
 */
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { configWith, pushSingle, registry } from '../api/promotion-support.ts';
import { WebhookReceiver } from '../events/webhook-receiver.ts';
import { run } from '../support/clients.ts';
import { ADMIN, PROJECT_ROOT, type RunningGantry, startGantry } from '../support/gantry.ts';
import { browserUnavailableReason, launchBrowser, screenshot } from './browser.ts';

const SECRET = 'a-secret-typed-in-the-browser';

async function ensureWebBuilt(): Promise<void> {
  const dist = join(PROJECT_ROOT, 'web', 'dist', 'index.html');
  const page = join(PROJECT_ROOT, 'web', 'src', 'pages', 'webhooks.tsx');
  if (existsSync(dist) && statSync(dist).mtimeMs >= statSync(page).mtimeMs) return;
  await run('npm', ['run', 'build:web', '--', '--logLevel', 'warn'], {
    timeoutMs: 180_000,
    cwd: PROJECT_ROOT,
  });
}

describe('web UI: the Webhooks page', { skip: browserUnavailableReason() }, () => {
  let gantry: RunningGantry;
  let browser: Browser;
  let receiver: WebhookReceiver;

  before(async () => {
    await ensureWebBuilt();
    receiver = await WebhookReceiver.start(SECRET);
    gantry = await startGantry({ env: { GANTRY_UPSTREAM_ALLOW: '127.0.0.0/8' } });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await gantry?.stop();
    await receiver?.close();
  });

  it('creates a webhook, lists its deliveries and replays them', { timeout: 90_000 }, async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    await page.goto(`${gantry.url}/ui/sign-in?next=/ui/webhooks`);
    await page.getByLabel('User').fill(ADMIN.user);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await page.getByLabel('URL').fill(receiver.url);
    await page.getByLabel('Secret (16+ characters)').fill(SECRET);
    await page.getByLabel(/^Event types/).fill('io.gantry.image.pushed');
    await page.getByLabel(/^Repositories/).fill('docker-dev-local');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await page.getByTestId('webhooks').getByText(receiver.url).waitFor();

    await pushSingle(registry(gantry.url), 'docker-dev-local/ui-app', 'v1', configWith());
    await receiver.until(() => receiver.accepted.length >= 1);
    assert.ok(receiver.accepted[0]?.signed);
    // Let the outcome be recorded, then open the deliveries.
    await new Promise((r) => setTimeout(r, 300));
    await page.getByRole('button', { name: `Deliveries of ${receiver.url}` }).click();
    const rows = page.getByTestId('deliveries').locator('tbody tr');
    await rows.first().waitFor();
    assert.match((await rows.first().textContent()) ?? '', /io\.gantry\.image\.pushed\s*delivered/);
    await page.getByRole('button', { name: /^Replay events/ }).click();
    await page.getByText('Queued 1 deliveries again.').waitFor();
    await receiver.until(() => receiver.accepted.length >= 2);
    assert.equal(receiver.accepted[1]?.event.id, receiver.accepted[0]?.event.id, 'the same event, again');
    await screenshot(page, 'webhooks');
    await context.close();
  });
});
