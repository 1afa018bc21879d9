// Regressions of the web UI's second round (issue #19), each in a real browser (Debian's
// chromium, playwright-core) against a Gantry with access control as shipped:
//   1. an image with a HEALTHCHECK shows it on the image page;
//   2. after a Move the image page follows the digest to where it went;
//   9. Enter in the promotion comment runs a dry run and never promotes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { ADMIN_AUTH, api, createRoles } from '../auth/support.ts';
import { sha256Of } from '../support/clients.ts';
import { ADMIN, type RunningGantry, startGantry } from '../support/gantry.ts';
import {
  digestOf,
  imageManifest,
  MEDIA,
  makeBlob,
  makeConfig,
  RegistryClient,
  type TestBlob,
} from '../support/http.ts';
import { browserUnavailableReason } from './browser.ts';
import { ensureWebBuilt, eventually, settled, signIn, textOf, UiBrowser } from './support.ts';

const DEV = 'docker-dev-local';
const STAGING = 'docker-staging-local';

/** An image config with a HEALTHCHECK, as `docker build` writes it (durations in nanoseconds). */
function healthcheckConfig(): TestBlob {
  const bytes = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: {
        Healthcheck: {
          Test: ['CMD-SHELL', 'curl -f http://localhost:8080/health || exit 1'],
          Interval: 30_000_000_000,
          Timeout: 5_000_000_000,
          Retries: 3,
        },
      },
      rootfs: { type: 'layers', diff_ids: [] },
    }),
  );
  return { bytes, digest: digestOf(bytes), mediaType: MEDIA.ociConfig };
}

describe('web UI regressions (issue #19) in a real browser', { skip: browserUnavailableReason() }, () => {
  let gantry: RunningGantry | undefined;
  const ui = new UiBrowser(() => gantry?.output() ?? '');
  let adminPage: Page;
  const digests: Record<string, string> = {};
  const url = () => gantry?.url ?? '?';
  const imageUrl = (repo: string, image: string, query = '') =>
    `${url()}/ui/repositories/${repo}/images/${image}${query}`;

  async function digestAt(name: string, reference: string): Promise<string | undefined> {
    const res = await new RegistryClient(url(), { authorization: ADMIN_AUTH }).getManifest(name, reference);
    if (res.status === 404) return undefined;
    assert.equal(res.status, 200, `GET ${name}:${reference}: ${res.text()}`);
    return sha256Of(res.body);
  }

  /** Pushes a one-layer image to the development stage as the administrator. */
  async function push(image: string, tag: string, config?: TestBlob): Promise<string> {
    const client = new RegistryClient(url(), { authorization: ADMIN_AUTH });
    const layer = makeBlob(1024);
    const cfg = config ?? makeConfig();
    for (const blob of [cfg, layer]) await client.pushBlob(`${DEV}/${image}`, blob);
    const manifest = imageManifest({ config: cfg, layers: [layer] });
    const res = await client.pushManifest(`${DEV}/${image}`, tag, manifest);
    assert.equal(res.status, 201, res.text());
    return manifest.digest;
  }

  before(
    async () => {
      await ensureWebBuilt();
      gantry = await startGantry({ openAccess: false });
      await createRoles(gantry.url);
      digests.hc = await push('team/hc', '1.0', healthcheckConfig());
      digests.mv = await push('team/mv', '2.0');
      const props = await api(
        gantry.url,
        'PUT',
        `/repositories/${DEV}/images/team/mv/manifests/${digests.mv}/properties`,
        { properties: { 'qa.status': ['passed'] } },
      );
      assert.equal(props.status, 200, JSON.stringify(props.json));
      await ui.start();
      adminPage = await ui.newPage();
      await signIn(adminPage, gantry.url, ADMIN.user, ADMIN.password);
    },
    { timeout: 120_000 },
  );

  after(async () => {
    await ui.close();
    await gantry?.stop();
  });

  it(
    '1. an image with a HEALTHCHECK shows its command and timings',
    { timeout: 60_000 },
    ui.step(async () => {
      const page = adminPage;
      await page.goto(imageUrl(DEV, 'team/hc'));
      const config = page.getByTestId('config');
      assert.match(
        await textOf(config),
        /Healthcheck CMD-SHELL curl -f http:\/\/localhost:8080\/health \|\| exit 1 \(every 30s, timeout 5s, retries 3\)/,
      );
    }),
  );

  it(
    '9. Enter in the promotion comment runs a dry run and promotes nothing',
    { timeout: 60_000 },
    ui.step(async () => {
      const page = adminPage;
      await page.goto(imageUrl(DEV, 'team/hc'));
      await page.getByTestId('manifest').getByTestId('promote').click();
      const dialog = page.getByRole('dialog', { name: 'Promote' });
      await eventually(
        'the natural target',
        async () => (await dialog.getByLabel('Target repository').inputValue()) === STAGING,
      );
      await dialog.getByLabel('Tags').fill('1.0.0');
      await dialog.getByLabel('Comment').fill('ship it');
      await dialog.getByLabel('Comment').press('Enter');
      assert.match(
        await textOf(dialog.getByTestId('dry-run-result').getByRole('status')),
        /Dry run: the promotion would be refused/,
      );
      assert.equal(await dialog.getByTestId('promotion-done').count(), 0);
      assert.equal(await digestAt(`${STAGING}/team/hc`, '1.0.0'), undefined, 'Enter promoted for real');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
    }),
  );

  it(
    '2. after a Move the image page shows the image where it went',
    { timeout: 60_000 },
    ui.step(async () => {
      const page = adminPage;
      await page.goto(imageUrl(DEV, 'team/mv'));
      await settled(page);
      await page.getByTestId('manifest').getByTestId('promote').click();
      const dialog = page.getByRole('dialog', { name: 'Promote' });
      await eventually(
        'the natural target',
        async () => (await dialog.getByLabel('Target repository').inputValue()) === STAGING,
      );
      await dialog.getByLabel('Tags').fill('2.0');
      await dialog.getByRole('radio', { name: 'Move' }).check();
      await dialog.getByRole('button', { name: 'Confirm promotion' }).click();
      await dialog.getByTestId('promotion-done').waitFor();
      assert.equal(await digestAt(`${STAGING}/team/mv`, '2.0'), digests.mv);
      await dialog.getByRole('button', { name: 'Done' }).click();
      await page.getByRole('heading', { name: `${STAGING}/team/mv`, level: 1 }).waitFor();
      assert.match(page.url(), new RegExp(`/ui/repositories/${STAGING}/images/team/mv\\?digest=`));
      assert.match(
        await textOf(page.getByTestId('manifest').getByRole('heading', { level: 2 })),
        new RegExp(digests.mv.slice(7, 19)),
      );
    }),
  );
});
