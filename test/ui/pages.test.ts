// The web UI's new pages and list features (issue #19) in a real browser (Debian's chromium,
// playwright-core), at desktop and phone widths:
//   Builds: the list (filtered by name) and a build's detail with its commit, CI run and where
//   each artifact is now; the repository page's "Set me up" panel with the exact commands for
//   this host and the storage used; an image with 500 tags sorted by version and by push time,
//   a tag found by typing; dark mode following the system setting, with no serious or critical
//   axe finding.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { api, createRoles, PASSWORD } from '../auth/support.ts';
import { ADMIN, basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import { RegistryClient } from '../support/http.ts';
import { browserUnavailableReason } from './browser.ts';
import { axeFindings, ensureWebBuilt, settled, signIn, textOf, UiBrowser } from './support.ts';

const DEV = 'docker-dev-local';
const TAGS = 500;

describe('web UI pages: builds, set me up, large tag lists, dark mode', {
  skip: browserUnavailableReason(),
}, () => {
  let gantry: RunningGantry | undefined;
  const ui = new UiBrowser(() => gantry?.output() ?? '');
  let rmPage: Page;
  let digest = '';
  const url = () => gantry?.url ?? '?';
  const host = () => new URL(url()).host;

  before(
    async () => {
      await ensureWebBuilt();
      gantry = await startGantry({ openAccess: false });
      const { ciToken } = await createRoles(gantry.url);
      const ci = new RegistryClient(gantry.url, { authorization: basicAuth('ci', ciToken) });
      const pushed = await ci.pushImage(`${DEV}/team/many`, '0.0.1');
      await ci.pushImage(`${DEV}/team/other`, '1.0.7');
      digest = pushed.manifest.digest;
      // 500 tags on one digest: versions 1.0.0 … 1.0.499 pushed in order, so push time and
      // version agree only when versions are compared as numbers (1.0.10 after 1.0.9).
      for (let i = 0; i < TAGS - 1; i++) {
        const res = await ci.pushManifest(`${DEV}/team/many`, `1.0.${i}`, pushed.manifest);
        assert.equal(res.status, 201, res.text());
      }
      const build = await api(
        gantry.url,
        'PUT',
        '/builds/team-many/7',
        {
          startedAt: '2026-11-25T10:00:00Z',
          vcs: { url: 'https://git.example/team/many', revision: '3f2a9c1d5e', branch: 'main' },
          ciUrl: 'https://ci.example/team/many/7',
          artifacts: [{ digest, name: 'team/many:1.0.499' }],
        },
        `Bearer ${ciToken}`,
      );
      assert.equal(build.status, 201, JSON.stringify(build.json));
      await ui.start();
      rmPage = await ui.newPage();
      await signIn(rmPage, gantry.url, 'rm', PASSWORD);
    },
    { timeout: 180_000 },
  );

  after(async () => {
    await ui.close();
    await gantry?.stop();
  });

  it(
    'Builds: the list filters by name; a build shows its commit, CI run and where its artifact is now',
    { timeout: 60_000 },
    ui.step(async () => {
      const page = rmPage;
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Builds' }).click();
      await page.getByRole('heading', { name: 'Builds', level: 1 }).waitFor();
      const row = page.getByTestId('build-row').filter({ hasText: 'team-many #7' });
      assert.match(
        await textOf(row),
        /team-many #7 3f2a9c1d5e on main .* 1 rm|team-many #7 3f2a9c1d5e on main .* 1 ci/,
      );
      await page.getByLabel('Build name').fill('nothing-like-it');
      await page.getByRole('button', { name: 'Filter' }).click();
      assert.match(await textOf(page.getByTestId('empty')), /No build named nothing-like-it/);
      await page.getByLabel('Build name').fill('team-many');
      await page.getByRole('button', { name: 'Filter' }).click();
      await row.getByRole('link', { name: 'team-many #7' }).click();
      await page.getByRole('heading', { name: 'Build team-many #7', level: 1 }).waitFor();
      const facts = await textOf(page.getByTestId('build-facts'));
      assert.match(facts, /Commit 3f2a9c1d5e on main/);
      assert.match(facts, /CI run https:\/\/ci\.example\/team\/many\/7/);
      const artifact = page.getByTestId('build-artifacts');
      assert.match(await textOf(artifact), new RegExp(`team/many:1\\.0\\.499 .* ${DEV}/team/many`));
      await artifact.getByRole('link', { name: `${DEV}/team/many` }).click();
      await page.getByRole('heading', { name: `${DEV}/team/many`, level: 1 }).waitFor();
      assert.match(page.url(), new RegExp(`digest=${encodeURIComponent(digest)}`));
    }),
  );

  it(
    'Set me up: the exact docker login, pull and skopeo commands for this host, and the storage used',
    { timeout: 60_000 },
    ui.step(async () => {
      const page = rmPage;
      await page.goto(`${url()}/ui/repositories/${DEV}`);
      const panel = page.getByTestId('set-me-up');
      await panel.getByRole('heading', { name: 'Set me up' }).waitFor();
      const commands = await panel
        .locator('input')
        .evaluateAll((inputs) => inputs.map((i) => (i as unknown as { value: string }).value));
      assert.deepEqual(commands, [
        `docker login ${host()}`,
        `docker pull ${host()}/${DEV}/team/many:1.0.498`,
        `skopeo copy docker://${host()}/${DEV}/team/many:1.0.498 oci:many:1.0.498`,
        // rm may delete in development, which includes pushing there.
        `docker push ${host()}/${DEV}/team/many:1.0`,
      ]);
      assert.match(
        await textOf(page.getByTestId('storage')),
        /^2 images, [\d.]+ KiB of storage used, last push/,
      );
    }),
  );

  it(
    `an image with ${TAGS} tags sorts by version and by push time and finds a tag by typing (phone width)`,
    { timeout: 90_000 },
    ui.step(async () => {
      const page = await ui.newPage({ width: 390, height: 844 });
      await signIn(page, url(), 'rm', PASSWORD);
      await page.goto(`${url()}/ui/repositories/${DEV}/images/team/many`);
      const rows = page.getByTestId('tag-row');
      await rows.first().waitFor();
      const firstTags = async (n: number) => (await rows.locator('th').allInnerTexts()).slice(0, n);
      assert.equal(await rows.count(), TAGS);
      assert.deepEqual(await firstTags(3), ['1.0.498', '1.0.497', '1.0.496']);
      await page.getByLabel('Sort by').selectOption('pushed');
      assert.deepEqual(await firstTags(2), ['1.0.498', '1.0.497']);
      await page.getByLabel('Sort by').selectOption('name');
      assert.deepEqual(await firstTags(3), ['0.0.1', '1.0.0', '1.0.1']);
      await page.getByLabel('Find a tag').fill('1.0.42');
      assert.deepEqual(
        (await rows.locator('th').allInnerTexts()).sort(),
        [
          '1.0.42',
          '1.0.420',
          '1.0.421',
          '1.0.422',
          '1.0.423',
          '1.0.424',
          '1.0.425',
          '1.0.426',
          '1.0.427',
          '1.0.428',
          '1.0.429',
        ].sort(),
      );
      assert.match(await textOf(page.getByTestId('tag-controls').getByRole('status')), /^11 of 500 tags$/);
      const width = await page.evaluate<number>('document.documentElement.scrollWidth');
      assert.ok(width <= 390, `${width} px wide at 390 px`);
      await page.context().close();
    }),
  );

  it(
    'dark mode follows the system setting, with no serious or critical axe finding',
    { timeout: 90_000 },
    ui.step(async () => {
      const page = await ui.newPage({ width: 1280, height: 800 }, { colorScheme: 'dark' });
      await signIn(page, url(), ADMIN.user, ADMIN.password);
      const findings: string[] = [];
      for (const path of [
        '/',
        '/repositories',
        `/repositories/${DEV}`,
        `/repositories/${DEV}/images/team/many`,
        '/builds',
        '/builds/team-many/7',
        '/admin/users',
      ]) {
        await page.goto(`${url()}/ui${path}`);
        await page.getByRole('heading', { level: 1 }).waitFor();
        await settled(page);
        for (const f of await axeFindings(page)) findings.push(`${path}: ${f}`);
      }
      const background = await page.evaluate<string>(
        'getComputedStyle(document.documentElement).backgroundColor',
      );
      assert.equal(background, 'rgb(13, 17, 23)');
      assert.deepEqual(findings, []);
      await page.context().close();
    }),
  );

  it(
    'the pipeline filters by image (on the server) and by stage',
    { timeout: 60_000 },
    ui.step(async () => {
      const page = rmPage;
      await page.goto(`${url()}/ui/pipeline?tag=1.0.7`);
      const rows = page.getByTestId('pipeline-row');
      await rows.first().waitFor();
      const names = async () =>
        (await rows.locator('th').allInnerTexts()).map((t) => t.trim().split(/\s/)[0]);
      assert.deepEqual((await names()).sort(), ['team/many', 'team/other']);
      await page.getByLabel('Image', { exact: true }).fill('MANY');
      await page.getByRole('button', { name: 'Show' }).click();
      await page.waitForURL(/image=MANY/);
      await settled(page);
      assert.deepEqual(await names(), ['team/many']);
      // By stage: nothing of team/many is in staging on this tag line.
      await page.getByLabel('Stage').selectOption('docker-staging-local');
      await page.getByRole('button', { name: 'Show' }).click();
      assert.match(
        await textOf(page.getByTestId('empty')),
        /No image named like MANY in docker-staging-local on the tag line 1\.0\.7\./,
      );
      const api = await fetch(`${url()}/api/v1/pipeline?tag=1.0.7&image=other`, {
        headers: { authorization: basicAuth('rm', PASSWORD) },
      });
      const body = (await api.json()) as { images: { image: string }[] };
      assert.deepEqual(
        body.images.map((i) => i.image),
        ['team/other'],
      );
    }),
  );

  it(
    'Repositories: a filter box and sorting, kept in the address; images found by name on the server',
    { timeout: 60_000 },
    ui.step(async () => {
      const page = rmPage;
      await page.goto(`${url()}/ui/repositories`);
      const keys = () => page.getByTestId('repositories').locator('tbody th[scope=row]').allInnerTexts();
      await page.getByTestId('repositories').waitFor();
      await page.getByLabel('Find a repository').fill('prod');
      await page.waitForURL(/q=prod/);
      assert.deepEqual(await keys(), ['docker-prod', 'docker-prod-local']);
      await page.getByLabel('Find a repository').fill('');
      await page.getByLabel('Sort by').selectOption('size');
      await page.waitForURL(/sort=size/);
      assert.equal((await keys())[0], DEV, 'the only repository with content is the largest');
      await page.reload();
      await page.getByTestId('repositories').waitFor();
      assert.equal(await page.getByLabel('Sort by').inputValue(), 'size');

      // The images of a repository are found on the server, by part of their name.
      await page.goto(`${url()}/ui/repositories/${DEV}`);
      const images = () => page.getByTestId('images').locator('tbody th[scope=row]').allInnerTexts();
      await page.getByTestId('images').waitFor();
      assert.deepEqual(await images(), ['team/many', 'team/other']);
      await page.getByLabel('Find an image').fill('OTH');
      await page.getByRole('button', { name: 'Find', exact: true }).click();
      await page.waitForURL(/image=OTH/);
      await settled(page);
      assert.deepEqual(await images(), ['team/other']);
    }),
  );

  it(
    'a permission target is edited in a form with validation messages, and shown as JSON on request',
    { timeout: 60_000 },
    ui.step(async () => {
      const page = await ui.newPage();
      await signIn(page, url(), ADMIN.user, ADMIN.password);
      await page.goto(`${url()}/ui/admin/permissions`);
      await page.getByRole('button', { name: 'New permission target' }).click();
      const editor = page.getByRole('form', { name: 'New permission target' });
      await editor.getByLabel('Name', { exact: true }).fill('Team A');
      await editor.getByLabel('Repositories', { exact: true }).fill('');
      await editor.getByRole('button', { name: 'Add a grant' }).click();
      await editor.getByRole('button', { name: 'Save' }).click();
      assert.match(await textOf(editor.getByTestId('error')), /Some fields need attention/);
      const problems = await editor.getByTestId('field-error').allInnerTexts();
      assert.ok(
        problems.some((p) => /lowercase letters/.test(p)),
        problems.join(' | '),
      );
      assert.ok(
        problems.some((p) => /at least one repository/.test(p)),
        problems.join(' | '),
      );
      assert.ok(
        problems.some((p) => /Name the group/.test(p)),
        problems.join(' | '),
      );
      assert.equal(await editor.getByLabel('Name', { exact: true }).getAttribute('aria-invalid'), 'true');
      assert.equal((await api(url(), 'GET', '/permissions/team-a')).status, 404, 'nothing was saved');
      assert.deepEqual(await axeFindings(page), [], 'the form with its messages is accessible');

      await editor.getByLabel('Name', { exact: true }).fill('team-a');
      await editor.getByLabel('Repositories', { exact: true }).fill(`${DEV}, docker`);
      const second = editor.getByTestId('grant-row').nth(1);
      await second.getByLabel('Group').fill('release-managers');
      await second.getByRole('checkbox', { name: 'promote' }).check();
      // The example's grant names a group that does not exist here.
      await editor.getByRole('button', { name: 'Remove grant 1' }).click();
      assert.equal(await editor.getByTestId('field-error').count(), 0);
      await editor.getByRole('button', { name: 'View as JSON' }).click();
      const json = JSON.parse(await editor.getByLabel('Permission target (JSON)').inputValue());
      assert.deepEqual(json.repositories, { include: [DEV, 'docker'], exclude: [] });
      assert.deepEqual(json.groups, { 'release-managers': ['read', 'promote'] });
      await editor.getByRole('button', { name: 'Edit as form' }).click();
      await editor.getByRole('button', { name: 'Save' }).click();
      await page.getByText('Permission target team-a was saved.').waitFor();
      const saved = (await api(url(), 'GET', '/permissions/team-a')).json as {
        groups: Record<string, string[]>;
      };
      assert.deepEqual(saved.groups['release-managers'], ['read', 'promote']);
      await page.context().close();
    }),
  );

  it(
    'tag rules are edited in a form over the JSON the server takes',
    { timeout: 60_000 },
    ui.step(async () => {
      const page = await ui.newPage();
      await signIn(page, url(), ADMIN.user, ADMIN.password);
      await page.goto(`${url()}/ui/repositories/${DEV}/edit`);
      const rules = page.getByTestId('tag-rules');
      // No rules set: the server's defaults are shown.
      await rules.getByRole('checkbox', { name: /Version tags/ }).waitFor();
      assert.equal(await rules.getByRole('checkbox', { name: /Version tags/ }).isChecked(), true);
      assert.equal(await rules.getByRole('checkbox', { name: /Build tags/ }).isChecked(), true);
      assert.equal(await rules.getByRole('checkbox', { name: /Floating tags/ }).isChecked(), false);
      await rules.getByLabel(/Other tags that never move/).fill('release-*, ');
      assert.equal(await rules.getByLabel(/Other tags that never move/).inputValue(), 'release-*, ');
      await rules.getByRole('checkbox', { name: /Floating tags/ }).check();
      await rules.getByRole('button', { name: 'View as JSON' }).click();
      assert.deepEqual(JSON.parse(await rules.getByLabel('Tag rules (JSON)').inputValue()), {
        immutable: ['semver', 'build', 'release-*'],
        floating: true,
      });
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByRole('heading', { name: DEV, level: 1 }).waitFor();
      const repo = (await api(url(), 'GET', `/repositories/${DEV}`)).json as { settings: { tags: unknown } };
      assert.deepEqual(repo.settings.tags, { immutable: ['semver', 'build', 'release-*'], floating: true });
      await page.context().close();
    }),
  );

  it(
    'gates are edited in a form with a message where a field is missing, over the JSON the server takes',
    { timeout: 60_000 },
    ui.step(async () => {
      const page = await ui.newPage();
      await signIn(page, url(), ADMIN.user, ADMIN.password);
      await page.goto(`${url()}/ui/repositories/${DEV}/edit`);
      const gates = page.getByTestId('gates');
      await gates.getByText('No gates: anything may be promoted here.').waitFor();
      await gates.getByRole('button', { name: 'Add a gate' }).click();
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      assert.match(await textOf(page.getByTestId('error')), /Nothing was saved\. Gate 1: name the property/);
      assert.match(await textOf(gates.getByTestId('field-error')), /Gate 1: name the property/);
      assert.equal(await gates.getByLabel('Property').getAttribute('aria-invalid'), 'true');
      await gates.getByLabel('Property').fill('qa.status');
      await gates.getByLabel(/Equal to/).fill('passed');
      assert.equal(await gates.getByTestId('field-error').count(), 0);
      await gates.getByRole('button', { name: 'Add a gate' }).click();
      await gates.getByLabel('Gate 2: passes when').selectOption('approval');
      await gates.getByLabel('Approved by a member of').fill('release-managers');
      await gates.getByRole('button', { name: 'View as JSON' }).click();
      assert.deepEqual(JSON.parse(await gates.getByLabel('Gates (JSON)').inputValue()), [
        { type: 'property', key: 'qa.status', equals: 'passed' },
        { type: 'approval', group: 'release-managers' },
      ]);
      assert.deepEqual(await axeFindings(page), []);
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByRole('heading', { name: DEV, level: 1 }).waitFor();
      const repo = (await api(url(), 'GET', `/repositories/${DEV}`)).json as { settings: { gates: unknown } };
      assert.deepEqual(repo.settings.gates, [
        { type: 'property', key: 'qa.status', equals: 'passed' },
        { type: 'approval', group: 'release-managers' },
      ]);
      await page.context().close();
    }),
  );
});
