// Regressions of the web UI's second round (issue #19), each in a real browser (Debian's
// chromium, playwright-core) against a Gantry with access control as shipped:
//   1. an image with a HEALTHCHECK shows it on the image page;
//   2. after a Move the image page follows the digest to where it went;
//   4. the image page fits a 390 px phone (long media types and label names wrap);
//   8. a signature or an SBOM (a referrer) is shown as an artifact of its subject, without pull
//      or promote;
//  10. disabling or demoting oneself needs a confirmation saying what it does; the last
//      administrator cannot be demoted;
//   9. Enter in the promotion comment runs a dry run and never promotes;
//  12. axe-core finds nothing serious or critical on any page, for each role, at desktop and
//      phone widths.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { ADMIN_AUTH, api, createRoles, PASSWORD } from '../auth/support.ts';
import { sha256Of } from '../support/clients.ts';
import { seedDirectly } from '../support/direct-writes.ts';
import { ADMIN, type RunningGantry, startGantry } from '../support/gantry.ts';
import {
  descriptorOf,
  digestOf,
  imageManifest,
  MEDIA,
  makeBlob,
  makeConfig,
  RegistryClient,
  type TestBlob,
  type TestManifest,
} from '../support/http.ts';
import { browserUnavailableReason } from './browser.ts';
import { axeFindings, ensureWebBuilt, eventually, settled, signIn, textOf, UiBrowser } from './support.ts';

const DEV = 'docker-dev-local';
const STAGING = 'docker-staging-local';
const PROD = 'docker-prod-local';

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
  let devPage: Page;
  let customerPage: Page;
  const digests = { hc: '', mv: '', sbom: '' };
  const url = () => gantry?.url ?? '?';
  const imageUrl = (repo: string, image: string, query = '') =>
    `${url()}/ui/repositories/${repo}/images/${image}${query}`;

  async function digestAt(name: string, reference: string): Promise<string | undefined> {
    const res = await new RegistryClient(url(), { authorization: ADMIN_AUTH }).getManifest(name, reference);
    if (res.status === 404) return undefined;
    assert.equal(res.status, 200, `GET ${name}:${reference}: ${res.text()}`);
    return sha256Of(res.body);
  }

  /** Pushes a one-layer image (or artifact) to the development stage as the administrator. */
  async function push(
    image: string,
    tag: string,
    config?: TestBlob,
    extra: { subject?: TestManifest; artifactType?: string } = {},
  ): Promise<TestManifest> {
    const client = new RegistryClient(url(), { authorization: ADMIN_AUTH });
    const layer = makeBlob(1024);
    const cfg = config ?? makeConfig();
    for (const blob of [cfg, layer]) await client.pushBlob(`${DEV}/${image}`, blob);
    const manifest = imageManifest({
      config: cfg,
      layers: [layer],
      ...(extra.subject ? { subject: descriptorOf(extra.subject) } : {}),
      ...(extra.artifactType ? { artifactType: extra.artifactType } : {}),
    });
    const res = await client.pushManifest(`${DEV}/${image}`, tag, manifest);
    assert.equal(res.status, 201, res.text());
    return manifest;
  }

  before(
    async () => {
      await ensureWebBuilt();
      gantry = await startGantry({ openAccess: false });
      await createRoles(gantry.url);
      const hc = await push('team/hc', '1.0', healthcheckConfig());
      digests.hc = hc.digest;
      digests.mv = (await push('team/mv', '2.0')).digest;
      // An SBOM of team/hc:1.0, tagged the way clients without the referrers API tag it.
      const empty = Buffer.from('{}');
      digests.sbom = (
        await push(
          'team/hc',
          `${hc.digest.replace(':', '-')}.sbom`,
          { bytes: empty, digest: digestOf(empty), mediaType: MEDIA.ociEmpty },
          { subject: hc, artifactType: 'application/spdx+json' },
        )
      ).digest;
      const props = await api(
        gantry.url,
        'PUT',
        `/repositories/${DEV}/images/team/mv/manifests/${digests.mv}/properties`,
        { properties: { 'qa.status': ['passed'] } },
      );
      assert.equal(props.status, 200, JSON.stringify(props.json));
      // team/pp: one build in development waiting for staging, an older one in staging waiting
      // for production; team/pub: in production, for customers.
      await push('team/pp', 'latest');
      await seedDirectly(gantry.url, [STAGING, PROD], async () => {
        const admin = new RegistryClient(url(), { authorization: ADMIN_AUTH });
        await admin.pushImage(`${STAGING}/team/pp`, 'latest');
        await admin.pushImage(`${PROD}/team/pub`, '1.0');
      });
      await ui.start();
      adminPage = await ui.newPage();
      await signIn(adminPage, gantry.url, ADMIN.user, ADMIN.password);
      devPage = await ui.newPage();
      await signIn(devPage, gantry.url, 'dev', PASSWORD);
      customerPage = await ui.newPage({ width: 390, height: 844 });
      await signIn(customerPage, gantry.url, 'customer', PASSWORD);
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
      // The exact effect, before anything irreversible happens.
      assert.equal(
        await textOf(dialog.getByTestId('promote-effect')),
        `Confirm promotion moves ${digests.mv.slice(0, 19)} out of ${DEV} into ${STAGING} and sets 2.0 there (${STAGING} takes content only by promotion: this is what its users will pull); floating tags (latest, X, X.Y) follow.`,
      );
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
  it(
    '8. a referrer (an SBOM) is shown as an artifact of its subject, with no pull or promote',
    { timeout: 60_000 },
    ui.step(async () => {
      const page = adminPage;
      await page.goto(imageUrl(DEV, 'team/hc', `?digest=${digests.sbom}`));
      const manifest = page.getByTestId('manifest');
      assert.match(
        await textOf(manifest.getByTestId('artifact')),
        new RegExp(
          `An artifact of type application/spdx\\+json, not an image to run: it belongs to ${digests.hc.slice(0, 19)}`,
        ),
      );
      await settled(page);
      assert.equal(await manifest.getByTestId('promote').count(), 0, 'no Promote for an artifact');
      assert.equal(await page.getByTestId('copy-line').count(), 0, 'no pull or copy command for an artifact');
      assert.equal(await page.getByTestId('checklist').count(), 0, 'no image checklist for an artifact');
      // Back to what it belongs to: a runnable image again, with its pull command and Promote.
      await manifest.getByTestId('artifact').getByRole('button').click();
      await manifest.getByTestId('promote').waitFor();
      assert.match(page.url(), new RegExp(`digest=${encodeURIComponent(digests.hc)}`));
      assert.match(
        await page.getByTestId('copy-line').first().locator('input').inputValue(),
        new RegExp(`^docker pull .*/${DEV}/team/hc@${digests.hc}$`),
      );
    }),
  );

  it(
    '4. the image page fits a 390 px phone without horizontal scrolling',
    { timeout: 60_000 },
    ui.step(async () => {
      const phone = await ui.newPage({ width: 390, height: 844 });
      await signIn(phone, url(), ADMIN.user, ADMIN.password);
      await phone.goto(imageUrl(DEV, 'team/hc', `?digest=${digests.hc}`));
      await phone.getByTestId('layers').waitFor();
      await phone.getByTestId('checklist').getByText('Verdict:').waitFor();
      await settled(phone);
      const width = await phone.evaluate<number>('document.documentElement.scrollWidth');
      assert.ok(width <= 390, `the image page is ${width} px wide at 390 px`);
      await phone.context().close();
    }),
  );

  it(
    '12. axe finds no serious or critical issue on any page, for each role, desktop and phone',
    { timeout: 180_000 },
    ui.step(async () => {
      const pages = [
        '/',
        '/repositories',
        `/repositories/${DEV}`,
        `/repositories/${DEV}/images/team/hc`,
        `/repositories/${DEV}/images/team/hc?history=1.0`,
        '/repositories/docker/images/team/hc',
        '/search?name=team',
      ];
      const adminOnly = ['/admin/users', '/admin/groups', '/admin/permissions', '/admin/audit'];
      const roles: { who: string; password?: string; width: number; paths: string[] }[] = [
        {
          who: ADMIN.user,
          password: ADMIN.password,
          width: 1280,
          paths: [...pages, ...adminOnly, '/admin/tokens', `/repositories/${DEV}/edit`],
        },
        { who: 'rm', password: PASSWORD, width: 390, paths: [...pages, '/admin/tokens'] },
        { who: 'customer', password: PASSWORD, width: 390, paths: ['/', '/repositories', '/search'] },
        { who: 'anonymous', width: 1280, paths: ['/', '/repositories', '/sign-in', '/admin'] },
      ];
      const findings: string[] = [];
      for (const role of roles) {
        const page = await ui.newPage({ width: role.width, height: 800 });
        if (role.password) await signIn(page, url(), role.who, role.password);
        for (const path of role.paths) {
          await page.goto(`${url()}/ui${path}`);
          await page.getByRole('heading', { level: 1 }).waitFor();
          await settled(page);
          for (const f of await axeFindings(page)) findings.push(`${role.who} ${role.width}px ${path}: ${f}`);
        }
        await page.context().close();
      }
      assert.deepEqual(findings, []);
    }),
  );

  it(
    '10. disabling or demoting one’s own account asks first, and the last administrator stays one',
    { timeout: 60_000 },
    ui.step(async () => {
      const page = adminPage;
      await page.goto(`${url()}/ui/admin/users`);
      const row = page
        .getByTestId('users')
        .getByRole('row')
        .filter({ has: page.getByRole('rowheader', { name: ADMIN.user, exact: true }) });
      await row.getByRole('button', { name: `Disable ${ADMIN.user}` }).click();
      assert.match(
        await textOf(row.getByTestId('confirm-effect')),
        /You are signed out at once and cannot sign in again/,
      );
      const me = async () => (await api(url(), 'GET', `/users/${ADMIN.user}`)).json;
      assert.equal((await me()).disabled, false, 'one click disabled the account');
      await row.getByRole('button', { name: 'Cancel' }).click();
      assert.equal(await row.getByTestId('confirm-effect').count(), 0);

      await row.getByRole('button', { name: `Remove admin ${ADMIN.user}` }).click();
      assert.match(await textOf(row.getByTestId('confirm-effect')), /You lose access to users, groups/);
      await row.getByRole('button', { name: 'Give up administration' }).click();
      assert.match(await textOf(page.getByTestId('error').first()), /administrator/i);
      assert.equal((await me()).admin, true, 'the last administrator was demoted');
      assert.equal((await me()).disabled, false);
    }),
  );

  it(
    '3. the history of a tag read through a virtual repository is the serving member’s',
    { timeout: 60_000 },
    ui.step(async () => {
      const page = adminPage;
      await page.goto(imageUrl('docker', 'team/hc', '?history=1.0'));
      const history = page.getByTestId('tag-history');
      assert.match(
        await textOf(history.getByRole('heading', { level: 2 })),
        new RegExp(`History of 1\\.0 in ${DEV}`),
      );
      await history.getByRole('table').waitFor();
      assert.equal(await history.getByTestId('error').count(), 0);
    }),
  );

  it(
    '6. the pipeline says why a developer may not promote (permission, not gates)',
    { timeout: 60_000 },
    ui.step(async () => {
      const page = devPage;
      await page.goto(`${url()}/ui/pipeline`);
      const row = page.getByTestId('pipeline-row').filter({ hasText: 'team/pp' });
      const waiting = row.getByTestId('waiting').filter({ hasText: 'from docker-dev-local' });
      assert.match(
        await textOf(waiting.getByTestId('unavailable')),
        new RegExp(`^Not promotable: dev may not promote into ${STAGING}\\.$`),
      );
      assert.equal(await row.getByTestId('promote').count(), 0);
    }),
  );

  it(
    '7. only what the caller can do: Approve where it counts, Promote where a target exists, properties where they live, push where one may',
    { timeout: 90_000 },
    ui.step(async () => {
      // Approve: the production approval gate names release-managers; a developer gets no button.
      const dev = devPage;
      await dev.goto(`${url()}/ui/pipeline`);
      const devProd = dev
        .getByTestId('pipeline-row')
        .filter({ hasText: 'team/pp' })
        .getByTestId('waiting')
        .filter({ hasText: `from ${STAGING}` });
      await devProd.getByRole('list', { name: `Gates of ${PROD} for team/pp` }).waitFor();
      assert.equal(await devProd.getByRole('button', { name: 'Approve' }).count(), 0);
      const rm = await ui.newPage();
      await signIn(rm, url(), 'rm', PASSWORD);
      await rm.goto(`${url()}/ui/pipeline`);
      const rmProd = rm
        .getByTestId('pipeline-row')
        .filter({ hasText: 'team/pp' })
        .getByTestId('waiting')
        .filter({ hasText: `from ${STAGING}` });
      await rmProd.getByRole('button', { name: 'Approve' }).waitFor();
      await rm.context().close();

      // Promote: a developer may promote nowhere and is told so instead of an empty dialog.
      await dev.goto(imageUrl(DEV, 'team/pp'));
      assert.match(
        await textOf(dev.getByTestId('promote-unavailable')),
        /dev may not promote into any repository/,
      );
      assert.equal(await dev.getByTestId('manifest').getByTestId('promote').count(), 0);

      // Properties through the virtual docker are edited where the digest is held.
      const page = adminPage;
      await page.goto(imageUrl('docker', 'team/hc', `?digest=${digests.hc}`));
      const props = page.getByTestId('properties');
      await props.getByRole('button', { name: 'Edit properties' }).click();
      await props.getByRole('button', { name: 'Add property' }).click();
      await props.getByLabel('Key').last().fill('qa.owner');
      await props.getByLabel('Values').last().fill('team-a');
      await props.getByRole('button', { name: 'Save' }).click();
      await props.getByText('Properties saved.').waitFor();
      const stored = await api(
        url(),
        'GET',
        `/repositories/${DEV}/images/team/hc/manifests/${digests.hc}/properties`,
      );
      assert.deepEqual(stored.json.properties, { 'qa.owner': ['team-a'] });

      // Push commands: a customer and an anonymous visitor may push nowhere and see none; a
      // developer (delete on development includes deploy) does.
      const anonymous = await ui.newPage();
      for (const [who, p, expected] of [
        ['customer', customerPage, false],
        ['anonymous', anonymous, false],
        ['dev', dev, true],
      ] as const) {
        for (const path of ['/repositories', '/search']) {
          await p.goto(`${url()}/ui${path}`);
          await p.getByRole('heading', { level: 1 }).waitFor();
          await settled(p);
          const commands = await p
            .getByTestId('copy-line')
            .locator('input')
            .evaluateAll((inputs) => inputs.map((i) => (i as unknown as { value: string }).value));
          const offered = commands.some((c) => c.includes('skopeo copy oci:'));
          if (path === '/repositories' || !expected)
            assert.equal(offered, expected, `${who} ${path}: ${commands}`);
        }
      }
      await anonymous.context().close();
    }),
  );

  it(
    '11. a customer reading a production image gets no failing API calls (no digest lookup 404)',
    { timeout: 60_000 },
    ui.step(async () => {
      const page = customerPage;
      const failed: string[] = [];
      const listener = (res: { status(): number; url(): string }) => {
        if (res.url().includes('/api/v1/') && res.status() >= 400)
          failed.push(`${res.status()} ${res.url()}`);
      };
      page.on('response', listener);
      await page.goto(imageUrl('docker-prod', 'team/pub'));
      await page.getByTestId('manifest').getByTestId('layers').waitFor();
      await settled(page);
      page.off('response', listener);
      assert.deepEqual(failed, []);
      // Nothing offered that a customer cannot use.
      assert.equal(await page.getByTestId('manifest').getByTestId('promote').count(), 0);
      assert.equal(await page.getByRole('button', { name: 'Edit properties' }).count(), 0);
    }),
  );
});
