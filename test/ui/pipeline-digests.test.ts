// The pipeline view of issue #19 in a real browser, at desktop and phone widths: a stage shows
// the other digests it holds besides the followed tag's (newest first, the rest linked), and the
// stage filter runs on the server before paging, so a page of images is never emptied by it;
// Previous and Next walk the keyset-paged lists (pipeline, a repository's images, the audit log)
// both ways, their filters kept.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_AUTH, api } from '../auth/support.ts';
import { seedDirectly } from '../support/direct-writes.ts';
import { ADMIN, type RunningGantry, startGantry } from '../support/gantry.ts';
import { RegistryClient } from '../support/http.ts';
import { browserUnavailableReason } from './browser.ts';
import { axeFindings, ensureWebBuilt, settled, signIn, textOf, UiBrowser } from './support.ts';

const DEV = 'docker-dev-local';
const STAGING = 'docker-staging-local';

describe('pipeline: several digests per stage, stage filter on the server', {
  skip: browserUnavailableReason(),
}, () => {
  let gantry: RunningGantry | undefined;
  const ui = new UiBrowser(() => gantry?.output() ?? '');
  const pushed: string[] = [];

  before(
    async () => {
      await ensureWebBuilt();
      gantry = await startGantry({ openAccess: false });
      const registry = new RegistryClient(gantry.url, { authorization: ADMIN_AUTH });
      for (let i = 0; i < 5; i++) {
        pushed.push((await registry.pushImage(`${DEV}/team/app`, `1.0.${i}`)).manifest.digest);
        await new Promise((done) => setTimeout(done, 5));
      }
      // More images than a page holds, before (by name) the one image staging holds.
      for (let i = 0; i < 22; i++)
        await registry.pushImage(`${DEV}/team/filler-${String(i).padStart(2, '0')}`, '1.0.0');
      await seedDirectly(gantry.url, [STAGING], async () => {
        await registry.pushImage(`${STAGING}/zz/late`, '1.0.0');
      });
      await ui.start();
    },
    { timeout: 180_000 },
  );

  after(async () => {
    await ui.close();
    await gantry?.stop();
  });

  for (const [label, viewport] of [
    ['desktop', { width: 1280, height: 800 }],
    ['phone', { width: 390, height: 844 }],
  ] as const) {
    it(
      `at ${label} width: the other digests of a stage, newest first, and how many more`,
      { timeout: 60_000 },
      ui.step(async () => {
        const page = await ui.newPage(viewport);
        await signIn(page, gantry?.url ?? '?', ADMIN.user, ADMIN.password);
        await page.goto(`${gantry?.url}/ui/pipeline?tag=1.0.4&image=team/app`);
        const row = page.getByTestId('pipeline-row');
        await row.waitFor();
        const others = row.getByTestId('other-digests');
        assert.equal(await others.count(), 1);
        await others.getByText('4 other digests').click();
        const items = await others.locator('li').allInnerTexts();
        assert.deepEqual(
          items.map((t) => t.replace(/\s+/g, ' ').trim()),
          [
            `${pushed[3]?.slice(0, 19)} 1.0.3`,
            `${pushed[2]?.slice(0, 19)} 1.0.2`,
            `${pushed[1]?.slice(0, 19)} 1.0.1`,
            `1 more in ${DEV}`,
          ],
        );
        await others.getByRole('link', { name: new RegExp(`^${pushed[2]?.slice(0, 19)}`) }).click();
        await page.waitForURL(new RegExp(`digest=${encodeURIComponent(pushed[2] ?? '')}`));
        await page
          .getByTestId('manifest')
          .getByText(pushed[2] ?? '?')
          .first()
          .waitFor();
        if (label === 'phone') {
          const width = await page.evaluate<number>('document.documentElement.scrollWidth');
          assert.ok(width <= 390, `the pipeline page is ${width} px wide at 390`);
        }
        await page.goto(`${gantry?.url}/ui/pipeline?tag=1.0.4&image=team/app`);
        await row.waitFor();
        await settled(page);
        assert.deepEqual(await axeFindings(page), []);
      }),
    );
  }

  it(
    'the stage filter runs on the server: the first page of a stage holds its images',
    { timeout: 60_000 },
    ui.step(async () => {
      const page = await ui.newPage({ width: 390, height: 844 });
      await signIn(page, gantry?.url ?? '?', ADMIN.user, ADMIN.password);
      await page.goto(`${gantry?.url}/ui/pipeline?tag=1.0.0`);
      await page.getByTestId('pipeline-row').first().waitFor();
      await page.getByLabel('Stage').selectOption(STAGING);
      await page.getByRole('button', { name: 'Show' }).click();
      await page.waitForURL(/stage=docker-staging-local/);
      await settled(page);
      // Filtered after paging, the first page (team/app, team/filler-00…18) would be empty.
      const rows = page.getByTestId('pipeline-row');
      assert.deepEqual(
        (await rows.locator('th').allInnerTexts()).map((t) => t.trim()),
        ['zz/late'],
      );
      assert.match(await textOf(rows), /1\.0\.0/);
    }),
  );
  it(
    'Previous and Next walk the keyset pages both ways, on the pipeline and in a repository',
    { timeout: 60_000 },
    ui.step(async () => {
      const page = await ui.newPage();
      await signIn(page, gantry?.url ?? '?', ADMIN.user, ADMIN.password);
      const names = async () =>
        (await page.getByTestId('pipeline-row').locator('th').allInnerTexts()).map((t) => t.trim());
      await page.goto(`${gantry?.url}/ui/pipeline?tag=1.0.0`);
      await page.getByTestId('pipeline-row').first().waitFor();
      assert.equal(await page.getByRole('button', { name: 'Previous page' }).count(), 0);
      const first = await names();
      assert.equal(first.length, 20);
      await page.getByRole('button', { name: 'Next page' }).click();
      await page.waitForURL(/last=/);
      await settled(page);
      const second = await names();
      assert.deepEqual(second, ['team/filler-19', 'team/filler-20', 'team/filler-21', 'zz/late']);
      await page.getByRole('button', { name: 'Previous page' }).click();
      await page.waitForURL((u) => !u.searchParams.has('last'));
      await settled(page);
      assert.deepEqual(await names(), first);
      assert.equal(await page.getByRole('button', { name: 'Previous page' }).count(), 0);

      // Two pages of images in a repository (a page holds 50), the image filter kept both ways.
      const registry = new RegistryClient(gantry?.url ?? '?', { authorization: ADMIN_AUTH });
      for (let i = 0; i < 80; i++)
        await registry.pushImage(`${DEV}/bulk/i-${String(i).padStart(2, '0')}`, '1');
      await page.goto(`${gantry?.url}/ui/repositories/${DEV}?image=bulk/`);
      const firstImage = async () =>
        (await page.getByTestId('images').locator('tbody th').first().textContent()) ?? '';
      await page.getByTestId('images').waitFor();
      assert.equal((await firstImage()).trim(), 'bulk/i-00');
      await page.getByRole('button', { name: 'Next page' }).click();
      await page.waitForURL(/last=/);
      await settled(page);
      assert.equal((await firstImage()).trim(), 'bulk/i-50');
      assert.equal(await page.getByRole('button', { name: 'Next page' }).count(), 0);
      await page.getByRole('button', { name: 'Previous page' }).click();
      await page.waitForURL((u) => !u.searchParams.has('last'));
      await settled(page);
      assert.equal((await firstImage()).trim(), 'bulk/i-00');
      assert.match(page.url(), /image=bulk/);
    }),
  );
  it(
    'the audit log pages to older events and back to newer ones, its filter kept',
    { timeout: 60_000 },
    ui.step(async () => {
      const base = gantry?.url ?? '?';
      for (let i = 0; i < 55; i++) {
        const res = await api(base, 'POST', '/users', { name: `pager-${i}`, password: 'pager-password-1' });
        assert.equal(res.status, 201, JSON.stringify(res.json));
      }
      const page = await ui.newPage({ width: 390, height: 844 });
      await signIn(page, base, ADMIN.user, ADMIN.password);
      await page.goto(`${base}/ui/admin/audit?action=user.create`);
      const targets = () => page.getByTestId('audit').locator('td[data-label="Target"]').allInnerTexts();
      await page.getByTestId('audit').waitFor();
      await settled(page);
      const newest = await targets();
      assert.equal(newest.length, 50);
      assert.equal(newest[0]?.trim(), 'pager-54');
      assert.equal(await page.getByRole('button', { name: 'Newer events' }).count(), 0);
      await page.getByRole('button', { name: 'Older events' }).click();
      await page.waitForURL(/before=/);
      await settled(page);
      // The table is drawn again after the URL changes: wait for its rows, not just the URL.
      await page.getByTestId('audit').getByText('pager-0', { exact: true }).waitFor();
      assert.deepEqual(
        (await targets()).map((t) => t.trim()),
        ['pager-4', 'pager-3', 'pager-2', 'pager-1', 'pager-0'],
      );
      await page.getByRole('button', { name: 'Newer events' }).click();
      await page.waitForURL((u) => !u.searchParams.has('before'));
      await settled(page);
      await page.getByTestId('audit').getByText('pager-54', { exact: true }).waitFor();
      assert.deepEqual(await targets(), newest);
      assert.match(page.url(), /action=user\.create/);
    }),
  );
});
