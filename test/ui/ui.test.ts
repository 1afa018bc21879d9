// The web UI end to end in a real browser (Debian's chromium, driven by playwright-core) against
// a Gantry with access control as shipped, and images pushed by skopeo:
//   the release manager signs in through the sign-in page, finds team/app by search and through
//   Repositories, sees the staging gate fail, sets qa.status=passed on the image page and sees
//   the gate pass (pipeline and promote dialog dry run), promotes dev → staging in the Promote
//   dialog, approves and promotes to production from the pipeline, sees the promotion history,
//   and rolls latest back one step in staging; the administrator (signing in with the keyboard)
//   creates a user and a permission target and reads the audit log; an anonymous visitor of a
//   published production sees production (docker-prod and docker-prod-local) and nothing else; the pipeline fits a 390 px phone.
// Screenshots of the main pages go to GANTRY_SCREENSHOTS (or a temp folder; printed once).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { ADMIN_AUTH, api, createRoles, PASSWORD, publishProduction } from '../auth/support.ts';
import { isolatedClientEnv } from '../support/client-env.ts';
import { run, sha256Of } from '../support/clients.ts';
import { type PreparedFixtures, prepareFixtures } from '../support/fixtures.ts';
import { ADMIN, basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import { imageManifest, makeBlob, makeConfig, RegistryClient } from '../support/http.ts';
import { browserUnavailableReason, launchBrowser, screenshot, screenshotList } from './browser.ts';
import { ensureWebBuilt } from './support.ts';

const SKOPEO = '/usr/bin/skopeo';
const RM = basicAuth('rm', PASSWORD);
const BUILD_TAG = 'main-3f2a9c1-20261125100000';
const NEXT_BUILD_TAG = 'main-77be01d-20261202093000';
const DEV = 'docker-dev-local';
const STAGING = 'docker-staging-local';
const PROD = 'docker-prod-local';
/** How long a locator waits for the page before a step fails. */
const WAIT_MS = 10_000;

// biome-ignore lint/suspicious/noExplicitAny: JSON replies are checked field by field
type Json = any;

const unavailable = browserUnavailableReason() ?? (existsSync(SKOPEO) ? undefined : `${SKOPEO} is missing`);

describe('web UI in a real browser: sign-in, pipeline, promotion, rollback, administration, anonymous', {
  skip: unavailable,
}, () => {
  let gantry: RunningGantry | undefined;
  let fx: PreparedFixtures | undefined;
  let browser: Browser | undefined;
  let work = '';
  let ciToken = '';
  let digest = '';
  let nextDigest = '';
  /** The release manager's tab, the administrator's, an anonymous visitor's. */
  let rmPage: Page;
  let adminPage: Page;
  let anonPage: Page;
  const contexts: BrowserContext[] = [];
  const url = () => gantry?.url ?? '?';
  const ui = (path: string) => `${url()}/ui${path}`;
  const expect = async (
    method: string,
    path: string,
    body: unknown,
    auth: string | undefined,
    status: number,
  ) => {
    const res = (await api(url(), method, path, body, auth)) as { status: number; json: Json };
    assert.equal(res.status, status, `${method} ${path} → ${res.status} ${JSON.stringify(res.json)}`);
    return res.json;
  };
  async function digestAt(name: string, reference: string): Promise<string | undefined> {
    const res = await new RegistryClient(url(), { authorization: ADMIN_AUTH }).getManifest(name, reference);
    if (res.status === 404) return undefined;
    assert.equal(res.status, 200, `GET ${name}:${reference}: ${res.text()}`);
    return sha256Of(res.body);
  }

  /** A fresh browser session (no cookies) with a 1280×800 window. */
  async function newPage(): Promise<Page> {
    const context = await (browser as Browser).newContext({
      viewport: { width: 1280, height: 800 },
      locale: 'en-GB',
      timezoneId: 'UTC',
    });
    context.setDefaultTimeout(WAIT_MS);
    contexts.push(context);
    return context.newPage();
  }

  /**
   * A test step whose failure carries a screenshot of every open page (path in the message)
   * and the end of the server's log.
   */
  const step =
    (body: (t: TestContext) => Promise<void>) =>
    async (t: TestContext): Promise<void> => {
      try {
        await body(t);
      } catch (err) {
        const shots: string[] = [];
        for (const [i, context] of contexts.entries()) {
          for (const [j, page] of context.pages().entries()) {
            const name = `failure-${t.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 50)}-${i}-${j}`;
            shots.push(
              `${await screenshot(page, name, { fullPage: true }).catch((e) => `(${e})`)} (${page.url()})`,
            );
          }
        }
        const tail = (gantry?.output() ?? '').trimEnd().split('\n').slice(-30).join('\n');
        if (err instanceof Error)
          err.message += `\n--- screenshots ---\n${shots.join('\n')}${tail ? `\n--- gantry output (last 30 lines) ---\n${tail}` : ''}`;
        throw err;
      }
    };

  /** Waits until `locator` is visible and returns its text. */
  async function textOf(locator: Locator): Promise<string> {
    await locator.waitFor({ state: 'visible' });
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text, as a reader sees it
    return (await locator.innerText()).replace(/\s+/g, ' ').trim();
  }

  /** Polls `probe` until it returns true (or throws the last failure after WAIT_MS). */
  async function eventually(what: string, probe: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      if (await probe().catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const nav = (page: Page, name: string) =>
    page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });

  /** Waits for every loading indicator on the page to go away. */
  const settled = (page: Page) =>
    eventually('the page to finish loading', async () => (await page.getByTestId('loading').count()) === 0);

  before(
    async () => {
      await ensureWebBuilt();
      work = await mkdtemp(join(tmpdir(), 'gantry-ui-'));
      const clientEnv = await isolatedClientEnv(work, { noDefaultCredentials: true });
      fx = await prepareFixtures(['tiny']);
      gantry = await startGantry({ openAccess: false });
      ({ ciToken } = await createRoles(gantry.url));
      browser = await launchBrowser();

      // CI pushes the build through the virtual docker with skopeo (build tag and latest) and
      // publishes its build info; a second build goes in over HTTP (1.5.0 later).
      digest = fx.record('tiny').digest;
      for (const tag of [BUILD_TAG, 'latest']) {
        await run(
          SKOPEO,
          [
            'copy',
            '--dest-tls-verify=false',
            '--preserve-digests',
            '--dest-creds',
            `ci:${ciToken}`,
            fx.ociRef('tiny'),
            `docker://${gantry.host}/docker/team/app:${tag}`,
          ],
          { timeoutMs: 120_000, env: clientEnv },
        );
      }
      assert.equal(await digestAt(`${DEV}/team/app`, 'latest'), digest);
      const ci = new RegistryClient(gantry.url, { authorization: basicAuth('ci', ciToken) });
      const config = makeConfig();
      const layer = makeBlob(2048);
      for (const blob of [config, layer]) await ci.pushBlob('docker/team/app', blob);
      const manifest = imageManifest({ config, layers: [layer] });
      await ci.pushManifest('docker/team/app', NEXT_BUILD_TAG, manifest);
      nextDigest = manifest.digest;
      for (const [number, d, tag, revision] of [
        ['1042', digest, BUILD_TAG, '3f2a9c1'],
        ['1043', nextDigest, NEXT_BUILD_TAG, '77be01d'],
      ] as const) {
        await expect(
          'PUT',
          `/builds/team-app/${number}`,
          {
            startedAt: '2026-11-25T10:00:00Z',
            vcs: { url: 'https://git.example/team/app', revision, branch: 'main' },
            artifacts: [{ digest: d, name: `team/app:${tag}` }],
          },
          `Bearer ${ciToken}`,
          201,
        );
      }
    },
    { timeout: 240_000 },
  );

  after(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await gantry?.stop();
    await fx?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
    const shots = await screenshotList();
    if (shots.length > 0)
      process.stderr.write(
        `# ${shots.length} screenshots, ${Math.round(shots.reduce((s, f) => s + f.bytes, 0) / 1024)} KiB\n`,
      );
  });

  it(
    'the release manager signs in through the sign-in page and lands on the pipeline',
    { timeout: 60_000 },
    step(async () => {
      rmPage = await newPage();
      const page = rmPage;
      await page.goto(ui('/'));
      // An anonymous visitor of a closed instance is offered the sign-in.
      await page.getByTestId('session').getByRole('link', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
      assert.match(page.url(), /\/ui\/sign-in/);
      await screenshot(page, 'sign-in');
      // A wrong password is refused on the page, without the browser's own login dialog.
      await page.getByLabel('User').fill('rm');
      await page.getByLabel('Password').fill('not-the-password');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      assert.match(await textOf(page.getByTestId('error')), /password|credentials|invalid|unauthori/i);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      assert.equal(await textOf(page.getByTestId('user-name')), 'rm');
      await page.getByRole('heading', { name: 'Pipeline', level: 1 }).waitFor();
      // Back where the visitor was before signing in: the pipeline (at /ui/).
      assert.match(page.url(), /\/ui\/(pipeline)?$/);
      assert.equal(await nav(page, 'Pipeline').getAttribute('aria-current'), 'page');
    }),
  );

  it(
    'the pipeline shows team/app in development with the staging gate failing; the tag line switches builds',
    { timeout: 60_000 },
    step(async () => {
      const page = rmPage;
      const row = page.getByTestId('pipeline-row').filter({ hasText: 'team/app' });
      const devCell = row.getByRole('cell').nth(0);
      assert.match(await textOf(devCell), new RegExp(`${digest.slice(0, 19)}.*latest`));
      const gates = row.getByRole('list', { name: `Gates of ${STAGING} for team/app` });
      assert.match(
        await textOf(gates),
        /✗ failed property qa\.status = passed: property qa\.status is not set/,
      );
      assert.equal(await row.getByTestId('promote').count(), 0, 'no Promote button while a gate fails');
      assert.match(
        await textOf(row.getByTestId('waiting')),
        /Not promotable: waiting for this gate to pass: property qa\.status = passed\./,
      );
      await screenshot(page, 'pipeline-gate-failing');

      // Another tag line: the second build, by its build tag.
      const tagLine = page.getByRole('textbox', { name: 'Tag line' });
      await tagLine.fill(NEXT_BUILD_TAG);
      await page.getByRole('button', { name: 'Show' }).click();
      await page.getByRole('table', { name: new RegExp(`tag line ${NEXT_BUILD_TAG}`) }).waitFor();
      assert.match(await textOf(devCell), new RegExp(nextDigest.slice(0, 19)));
      assert.match(page.url(), new RegExp(`tag=${NEXT_BUILD_TAG}`));
      await tagLine.fill('latest');
      await page.getByRole('button', { name: 'Show' }).click();
      await page.getByRole('table', { name: /tag line latest/ }).waitFor();
      assert.match(await textOf(devCell), new RegExp(digest.slice(0, 19)));
    }),
  );

  it(
    'search by name and Repositories → docker-dev-local → team/app both reach the image page',
    { timeout: 60_000 },
    step(async () => {
      const page = rmPage;
      await nav(page, 'Search').click();
      await page.getByRole('heading', { name: 'Search', level: 1 }).waitFor();
      await page.getByLabel('Name').fill('team/app');
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      const results = page.getByTestId('search-results');
      assert.match(await textOf(results.getByRole('caption')), /^\d+ results?/);
      const hit = results.getByRole('link', { name: `${DEV}/team/app`, exact: true });
      await hit.first().waitFor();
      assert.match(page.url(), /\/ui\/search\?name=team%2Fapp/);
      await screenshot(page, 'search');

      await nav(page, 'Repositories').click();
      const table = page.getByTestId('repositories');
      await table.waitFor();
      const keys = await table.locator('tbody th[scope=row]').allInnerTexts();
      for (const key of [DEV, STAGING, PROD, 'docker', 'docker-prod'])
        assert.ok(keys.includes(key), `${key} in ${keys}`);
      // rm may promote but not manage repositories: no New/Edit controls (administrators see them).
      assert.equal(await page.getByRole('link', { name: 'New repository' }).count(), 0);
      assert.equal(await table.getByRole('link', { name: /^Edit / }).count(), 0);
      await screenshot(page, 'repositories');
      await table.getByRole('link', { name: DEV, exact: true }).click();
      await page.getByRole('heading', { name: DEV, level: 1 }).waitFor();
      await page.getByTestId('images').getByRole('link', { name: 'team/app', exact: true }).click();
      await page.getByRole('heading', { name: `${DEV}/team/app`, level: 1 }).waitFor();
      assert.match(page.url(), new RegExp(`/ui/repositories/${DEV}/images/team/app$`));
      await page.getByTestId('tag-row').first().waitFor();
      const tags = await page.getByTestId('tag-row').locator('th').allInnerTexts();
      assert.deepEqual([...tags].sort(), [BUILD_TAG, 'latest', NEXT_BUILD_TAG].sort());
      // latest is selected: its manifest, build and checklist are shown.
      assert.match(
        await textOf(page.getByTestId('manifest').getByRole('heading', { level: 2 })),
        new RegExp(digest.slice(7, 19)),
      );
      assert.match(await textOf(page.getByTestId('builds')), /Build team-app #1042 from commit 3f2a9c1/);
      await page.getByTestId('checklist').getByText('Verdict:').waitFor();
      await settled(page);
      await screenshot(page, 'image');
    }),
  );

  it(
    'a dry run in the Promote dialog shows the staging gate failing; setting qa.status=passed on the image page flips it',
    { timeout: 60_000 },
    step(async () => {
      const page = rmPage;
      await page.getByTestId('manifest').getByTestId('promote').click();
      const dialog = page.getByRole('dialog', { name: 'Promote' });
      await dialog.waitFor();
      await eventually(
        'the natural target',
        async () => (await dialog.getByLabel('Target repository').inputValue()) === STAGING,
      );
      assert.equal(await dialog.getByLabel('Tags').inputValue(), BUILD_TAG, 'floating latest is not offered');
      await dialog.getByLabel('Tags').fill('1.4.2');
      await dialog.getByRole('button', { name: 'Dry run' }).click();
      const dry = dialog.getByTestId('dry-run-result');
      assert.match(await textOf(dry.getByRole('status')), /the promotion would be refused/);
      assert.match(
        await textOf(dry.getByTestId('gate-verdicts')),
        /property qa\.status = passed ✗ failed property qa\.status is not set/,
      );
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden' });

      const props = page.getByTestId('properties');
      await props.getByRole('button', { name: 'Edit properties' }).click();
      await props.getByRole('button', { name: 'Add property' }).click();
      await props.getByLabel('Key').last().fill('qa.status');
      await props.getByLabel('Values').last().fill('passed');
      await props.getByRole('button', { name: 'Save' }).click();
      await props.getByText('Properties saved.').waitFor();
      assert.match(await textOf(props.getByRole('table')), /qa\.status passed/);
      const stored = await expect(
        'GET',
        `/repositories/${DEV}/images/team/app/manifests/${digest}/properties`,
        undefined,
        RM,
        200,
      );
      assert.deepEqual(stored.properties, { 'qa.status': ['passed'] });

      // The same dry run now passes.
      await page.getByTestId('manifest').getByTestId('promote').click();
      await dialog.getByLabel('Tags').fill('1.4.2');
      await dialog.getByRole('button', { name: 'Dry run' }).click();
      assert.match(await textOf(dry.getByRole('status')), /every gate passes; the promotion would succeed/);
      assert.match(
        await textOf(dry.getByTestId('gate-verdicts')),
        /property qa\.status = passed ✓ passed property qa\.status is "passed"/,
      );
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden' });
      // A dry run promotes nothing.
      assert.equal(await digestAt(`${STAGING}/team/app`, '1.4.2'), undefined);
    }),
  );

  it(
    'the pipeline shows the gate passing; rm promotes dev → staging as 1.4.2 through the dialog and the floating tags follow',
    { timeout: 60_000 },
    step(async () => {
      const page = rmPage;
      await nav(page, 'Pipeline').click();
      const row = page.getByTestId('pipeline-row').filter({ hasText: 'team/app' });
      const gates = row.getByRole('list', { name: `Gates of ${STAGING} for team/app` });
      assert.match(await textOf(gates), /✓ passed property qa\.status = passed/);
      await settled(page);
      await screenshot(page, 'pipeline');
      await row.getByTestId('promote').click();
      const dialog = page.getByRole('dialog', { name: 'Promote' });
      await eventually(
        `the target ${STAGING}`,
        async () => (await dialog.getByLabel('Target repository').inputValue()) === STAGING,
      );
      await dialog.getByLabel('Tags').fill('1.4.2');
      await dialog.getByRole('group', { name: 'Mode' }).getByLabel(/Copy/).check();
      await dialog.getByLabel('Comment').fill('QA green');
      await dialog.getByRole('button', { name: 'Dry run' }).click();
      const verdicts = dialog.getByTestId('dry-run-result').getByTestId('gate-verdicts');
      assert.match(await textOf(verdicts), /✓ passed/);
      await screenshot(page, 'promote-dialog');
      await dialog.getByRole('button', { name: 'Confirm promotion' }).click();
      const done = dialog.getByTestId('promotion-done');
      assert.match(
        await textOf(done.locator('p[role=status]')),
        new RegExp(`Promoted into ${STAGING} as 1\\.4\\.2 \\(floating tags moved: .*latest.*\\)`),
      );
      await done.getByRole('button', { name: 'Done' }).click();
      await dialog.waitFor({ state: 'hidden' });
      for (const tag of ['1.4.2', '1.4', '1', 'latest'])
        assert.equal(await digestAt(`${STAGING}/team/app`, tag), digest, `staging ${tag}`);
      // Copy: development keeps it.
      assert.equal(await digestAt(`${DEV}/team/app`, BUILD_TAG), digest);
      // The pipeline now shows it in staging, and waiting for production.
      const stagingCell = row.getByRole('cell').nth(1);
      assert.match(await textOf(stagingCell), /1\.4\.2/);
      const prodGates = row.getByRole('list', { name: `Gates of ${PROD} for team/app` });
      assert.match(await textOf(prodGates), /✗ failed approval/);
    }),
  );

  it(
    'rm approves the digest for production in the pipeline and promotes staging → production',
    { timeout: 60_000 },
    step(async () => {
      const page = rmPage;
      const row = page.getByTestId('pipeline-row').filter({ hasText: 'team/app' });
      const prodGates = row.getByRole('list', { name: `Gates of ${PROD} for team/app` });
      await prodGates.getByRole('button', { name: 'Approve' }).click();
      await eventually('every production gate to pass', async () => !/✗/.test(await textOf(prodGates)));
      // Second thoughts: rm withdraws her approval, the gate fails again, and she approves again.
      await prodGates.getByRole('button', { name: 'Withdraw my approval' }).click();
      await eventually('the approval gate to fail again', async () =>
        /✗ failed approval/.test(await textOf(prodGates)),
      );
      assert.equal(await row.getByTestId('promote').count(), 0, 'promotable without an approval');
      await prodGates.getByRole('button', { name: 'Approve' }).click();
      await eventually('every production gate to pass again', async () => !/✗/.test(await textOf(prodGates)));
      await row.getByTestId('promote').click();
      const dialog = page.getByRole('dialog', { name: 'Promote' });
      await eventually(
        `the target ${PROD}`,
        async () => (await dialog.getByLabel('Target repository').inputValue()) === PROD,
      );
      assert.equal(await dialog.getByLabel('Tags').inputValue(), '1.4.2');
      await dialog.getByRole('button', { name: 'Confirm promotion' }).click();
      await dialog.getByTestId('promotion-done').waitFor();
      await dialog.getByRole('button', { name: 'Done' }).click();
      assert.equal(await digestAt(`${PROD}/team/app`, '1.4.2'), digest);
    }),
  );

  it(
    'the image page shows the promotion history of the digest',
    { timeout: 60_000 },
    step(async () => {
      const page = rmPage;
      await page.goto(ui(`/repositories/${STAGING}/images/team/app`));
      const history = page.getByTestId('promotion-history');
      const rows = history.locator('tbody tr');
      await eventually('two promotions', async () => (await rows.count()) === 2);
      const texts = (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' '));
      assert.match(texts[0] ?? '', new RegExp(`${STAGING} → ${PROD} 1\\.4\\.2 rm .*promoted`));
      assert.match(texts[1] ?? '', new RegExp(`${DEV} → ${STAGING} 1\\.4\\.2 rm “QA green” .*promoted`));
    }),
  );

  it(
    'after 1.5.0 floats latest in staging, rm rolls latest back one step in its tag history',
    { timeout: 60_000 },
    step(async () => {
      await expect(
        'PATCH',
        `/repositories/${DEV}/images/team/app/manifests/${nextDigest}/properties`,
        { properties: { 'qa.status': ['passed'] } },
        RM,
        200,
      );
      await expect(
        'POST',
        '/promotions',
        { source: `${DEV}/team/app@${nextDigest}`, target: STAGING, tags: ['1.5.0'] },
        RM,
        201,
      );
      assert.equal(await digestAt(`${STAGING}/team/app`, 'latest'), nextDigest);

      const page = rmPage;
      await page.goto(ui(`/repositories/${STAGING}/images/team/app`));
      const latestRow = page
        .getByTestId('tag-row')
        .filter({ has: page.getByRole('rowheader', { name: 'latest', exact: true }) });
      assert.match(await textOf(latestRow), new RegExp(`latest floating ${nextDigest.slice(0, 19)}`));
      await page.getByRole('button', { name: 'History of latest' }).click();
      const history = page.getByTestId('tag-history');
      await history.getByRole('heading', { name: 'History of latest' }).waitFor();
      const events = history.locator('tbody tr');
      await eventually('two moves of latest', async () => (await events.count()) === 2);
      await history.getByRole('button', { name: 'Rollback latest', exact: true }).click();
      assert.match(
        await textOf(history.getByTestId('confirm-effect')),
        /^latest in .* moves from sha256:\w+ back to sha256:\w+/,
      );
      await history.getByRole('button', { name: 'Roll latest back' }).click();
      assert.match(
        await textOf(history.getByRole('status')),
        new RegExp(`latest now points at ${digest.slice(0, 19)} \\(was ${nextDigest.slice(0, 19)}\\)`),
      );
      await eventually('the rollback in the history', async () => (await events.count()) === 3);
      assert.match(await textOf(events.first()), / rollback rm/);
      assert.match(await textOf(latestRow), new RegExp(`latest floating ${digest.slice(0, 19)}`));
      // The page follows the tag: the manifest shown is where latest points now.
      await eventually('the manifest of the rolled-back latest', async () =>
        (await textOf(page.getByTestId('manifest').getByRole('heading', { level: 2 }))).includes(
          digest.slice(7, 19),
        ),
      );
      await settled(page);
      await history.getByRole('table').scrollIntoViewIfNeeded();
      await screenshot(page, 'tag-history');
      // The API agrees: latest is 1.4.2's digest again, 1.5.0 stays.
      assert.equal(
        await digestAt(`${STAGING}/team/app`, 'latest'),
        await digestAt(`${STAGING}/team/app`, '1.4.2'),
      );
      assert.equal(await digestAt(`${STAGING}/team/app`, 'latest'), digest);
      assert.equal(await digestAt(`${STAGING}/team/app`, '1.5.0'), nextDigest);
    }),
  );

  it(
    'keyboard: Tab reaches the sign-in fields and the button, Enter submits (the administrator signs in)',
    { timeout: 60_000 },
    step(async () => {
      adminPage = await newPage();
      const page = adminPage;
      await page.goto(ui('/sign-in'));
      await page.getByLabel('User').waitFor();
      const focused = () =>
        page.evaluate<string>(
          "(() => { const e = document.activeElement; return e ? e.tagName.toLowerCase() + '#' + e.id + ':' + (e.textContent ?? '').trim() : ''; })()",
        );
      // From the top of the page: skip link, brand, the four nav links, then the form.
      let presses = 0;
      while (!(await focused()).startsWith('input#sign-in-user')) {
        assert.ok(++presses <= 12, `Tab never reached the User field (at ${await focused()})`);
        await page.keyboard.press('Tab');
      }
      await page.keyboard.type(ADMIN.user);
      await page.keyboard.press('Tab');
      assert.match(await focused(), /^input#sign-in-password/);
      await page.keyboard.type(ADMIN.password);
      await page.keyboard.press('Tab');
      assert.match(await focused(), /^button#:Sign in$/);
      await page.keyboard.press('Shift+Tab');
      await page.keyboard.press('Enter');
      assert.equal(await textOf(page.getByTestId('user-name')), ADMIN.user);
      await page.getByRole('heading', { name: 'Pipeline', level: 1 }).waitFor();
      // After navigation the new page's heading has the focus.
      await eventually('focus on the heading', async () => (await focused()).startsWith('h1#page-title'));
    }),
  );

  it(
    'the administrator creates a user and a permission target in Administration and reads the audit log',
    { timeout: 60_000 },
    step(async () => {
      const page = adminPage;
      await nav(page, 'Administration').click();
      await page
        .getByRole('navigation', { name: 'Administration' })
        .getByRole('link', { name: 'Users' })
        .waitFor();
      const users = page.getByTestId('users');
      await users.waitFor();
      const form = page.getByRole('form', { name: 'New user' });
      await form.getByLabel('Name', { exact: true }).fill('qa-lead');
      await form.getByLabel('Email', { exact: true }).fill('qa-lead@example.com');
      await form.getByLabel('Password', { exact: true }).fill('qa-lead-password-1');
      await form.getByLabel('Groups', { exact: true }).fill('developers');
      await form.getByRole('button', { name: 'Create user' }).click();
      await form.getByText('User qa-lead was created.').waitFor();
      assert.match(
        await textOf(users.locator('tr', { hasText: 'qa-lead' })),
        /qa-lead qa-lead@example\.com .*developers/,
      );
      const created = await expect('GET', '/users/qa-lead', undefined, ADMIN_AUTH, 200);
      assert.deepEqual(created.groups, ['developers']);
      await page.evaluate('window.scrollTo(0, 0)');
      await screenshot(page, 'admin-users');

      await page
        .getByRole('navigation', { name: 'Administration' })
        .getByRole('link', { name: 'Permission targets' })
        .click();
      await page.getByTestId('permissions').waitFor();
      await page.getByRole('button', { name: 'New permission target' }).click();
      const editor = page.getByRole('form', { name: 'New permission target' });
      // The power users' way: the raw document (the form is tested in pages.test.ts).
      await editor.getByRole('button', { name: 'View as JSON' }).click();
      await editor.getByLabel('Permission target (JSON)').fill(
        JSON.stringify(
          {
            name: 'qa-staging',
            description: 'QA leads annotate staging',
            repositories: { include: [STAGING], exclude: [] },
            images: { include: ['**'], exclude: [] },
            users: { 'qa-lead': ['annotate'] },
            groups: {},
            anonymous: [],
          },
          null,
          2,
        ),
      );
      await editor.getByRole('button', { name: 'Save' }).click();
      await page.getByText('Permission target qa-staging was saved.').waitFor();
      assert.match(
        await textOf(page.getByTestId('permissions').locator('tr', { hasText: 'qa-staging' })),
        /qa-lead: annotate/,
      );
      const target = await expect('GET', '/permissions/qa-staging', undefined, ADMIN_AUTH, 200);
      assert.deepEqual(target.users, { 'qa-lead': ['annotate'] });

      await page
        .getByRole('navigation', { name: 'Administration' })
        .getByRole('link', { name: 'Audit log' })
        .click();
      const audit = page.getByTestId('audit');
      await audit.waitFor();
      const text = await textOf(audit);
      for (const action of ['permission.create', 'user.create', 'session.start', 'tag.rollback', 'promotion'])
        assert.ok(text.includes(action), `audit log shows ${action}`);
      await screenshot(page, 'audit-log');
    }),
  );

  it(
    'an anonymous visitor of a published production sees production and nothing else',
    { timeout: 60_000 },
    step(async () => {
      await publishProduction(url());
      anonPage = await newPage();
      const page = anonPage;
      await page.goto(ui('/repositories'));
      const table = page.getByTestId('repositories');
      await table.waitFor();
      // Reading through docker-prod needs read on its member, so production covers both.
      assert.deepEqual(await table.locator('tbody th[scope=row]').allInnerTexts(), ['docker-prod', PROD]);
      assert.equal(await page.getByRole('link', { name: 'New repository' }).count(), 0);
      assert.equal(await page.getByRole('link', { name: /^Edit / }).count(), 0);
      await table.getByRole('link', { name: 'docker-prod', exact: true }).click();
      await page.getByTestId('images').getByRole('link', { name: 'team/app', exact: true }).click();
      await page.getByRole('heading', { name: 'docker-prod/team/app', level: 1 }).waitFor();
      await page.getByTestId('tag-row').first().waitFor();
      const tags = await page.getByTestId('tag-row').locator('th').allInnerTexts();
      assert.deepEqual([...tags].sort(), ['1', '1.4', '1.4.2', 'latest']);
      assert.match(await textOf(page.getByTestId('manifest').locator('dl').first()), new RegExp(digest));
      assert.equal(await page.getByRole('button', { name: 'Edit properties' }).count(), 0);

      // Development is not readable: the repository page and the image page say so.
      for (const path of [`/repositories/${DEV}`, `/repositories/${DEV}/images/team/app`]) {
        await page.goto(ui(path));
        const error = page.getByTestId('error').first();
        assert.match(await textOf(error), /does not exist|may not read|sign in to read/i, path);
        await error.getByRole('link', { name: 'Sign in' }).waitFor();
        assert.equal(await page.getByTestId('tag-row').count(), 0);
        assert.equal(await page.getByTestId('images').count(), 0);
      }
      // The pipeline shows the production stage only; docker-prod is listed among the others.
      await nav(page, 'Pipeline').click();
      await page.getByTestId('other-repositories').waitFor();
      assert.deepEqual(await page.getByTestId('other-repositories').getByRole('link').allInnerTexts(), [
        'docker-prod',
      ]);
      await page.getByTestId('pipeline').waitFor();
      assert.deepEqual(await page.getByTestId('pipeline').locator('thead th a').allInnerTexts(), [PROD]);
      // Searching finds production's image where it is stored, and nothing outside production.
      await page.goto(ui('/search?name=team%2Fapp'));
      await page.getByTestId('search-results').or(page.getByTestId('empty')).waitFor();
      await settled(page);
      const links = await page.getByTestId('search-results').locator('tbody th a').allInnerTexts();
      assert.ok(
        links.length > 0 && links.every((l) => l.startsWith(`${PROD}/`)),
        `anonymous search found ${links.join(', ') || 'nothing'}`,
      );
    }),
  );

  it(
    "a user with manage on one repository gets that repository's Edit controls, and only those",
    { timeout: 60_000 },
    step(async () => {
      await expect('POST', '/repositories', { key: 'qa-scratch-local', kind: 'local' }, ADMIN_AUTH, 201);
      await expect(
        'POST',
        '/permissions',
        { name: 'qa-scratch', repositories: ['qa-scratch-local'], users: { 'qa-lead': ['manage'] } },
        ADMIN_AUTH,
        201,
      );
      const page = await newPage();
      await page.goto(ui('/sign-in'));
      await page.getByLabel('User').fill('qa-lead');
      await page.getByLabel('Password').fill('qa-lead-password-1');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      assert.equal(await textOf(page.getByTestId('user-name')), 'qa-lead');
      await nav(page, 'Repositories').click();
      const table = page.getByTestId('repositories');
      await table.waitFor();
      assert.deepEqual(await table.getByRole('link', { name: /^Edit / }).allInnerTexts(), ['Edit']);
      await table.getByRole('link', { name: 'Edit qa-scratch-local' }).click();
      // Save is enabled once the settings are loaded (they would overwrite an earlier edit).
      await eventually('the settings form to load', () =>
        page.getByRole('button', { name: 'Save' }).isEnabled(),
      );
      await page.getByLabel('Description').fill('scratch space of the QA leads');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('heading', { name: 'qa-scratch-local', level: 1 }).waitFor();
      await page.getByText('scratch space of the QA leads').waitFor();
      const saved = await expect('GET', '/repositories/qa-scratch-local', undefined, ADMIN_AUTH, 200);
      assert.equal(saved.description, 'scratch space of the QA leads');
      await page.close();
    }),
  );

  it(
    'the pipeline renders at phone width (390 px) without horizontal scrolling',
    { timeout: 60_000 },
    step(async () => {
      const page = rmPage;
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(ui('/pipeline'));
      await page.getByTestId('pipeline-row').first().waitFor();
      await settled(page);
      const width = await page.evaluate<number>('document.documentElement.scrollWidth');
      await screenshot(page, 'pipeline-phone');
      assert.ok(width <= 390, `the page is ${width} px wide at 390 px`);
    }),
  );
});
