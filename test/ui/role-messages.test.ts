// Bug 5 of issue #19: anonymous visitors and customers get the messages meant for them, in a real
// browser against a Gantry whose production is published to anonymous readers:
//   - a missing image in a repository the visitor may read says so, without asking to sign in;
//   - a filter that hides every repository says the filter did it, not that there are none;
//   - Storage and Webhooks do not show an anonymous visitor the API's wording for API clients
//     ("Basic credentials, an API token…"), nor forms and buttons that could only answer 401;
//   - a customer's Storage page offers no garbage collection (administrators only) and no
//     "only administrators may…" error.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { ADMIN_AUTH, createRoles, PASSWORD, publishProduction } from '../auth/support.ts';
import { seedDirectly } from '../support/direct-writes.ts';
import { type RunningGantry, startGantry } from '../support/gantry.ts';
import { RegistryClient } from '../support/http.ts';
import { browserUnavailableReason } from './browser.ts';
import { ensureWebBuilt, settled, signIn, textOf, UiBrowser } from './support.ts';

const PROD = 'docker-prod-local';

describe('messages fit the role (issue #19, bug 5)', { skip: browserUnavailableReason() }, () => {
  let gantry: RunningGantry | undefined;
  const ui = new UiBrowser(() => gantry?.output() ?? '');
  let anonymous: Page;
  let customer: Page;
  const at = (path: string) => `${gantry?.url ?? '?'}/ui${path}`;

  before(
    async () => {
      await ensureWebBuilt();
      gantry = await startGantry({ openAccess: false });
      await createRoles(gantry.url);
      const url = gantry.url;
      await seedDirectly(url, [PROD], async () => {
        await new RegistryClient(url, { authorization: ADMIN_AUTH }).pushImage(`${PROD}/team/pub`, '1.0');
      });
      await publishProduction(url);
      await ui.start();
      anonymous = await ui.newPage();
      customer = await ui.newPage({ width: 390, height: 844 });
      await signIn(customer, url, 'customer', PASSWORD);
    },
    { timeout: 120_000 },
  );

  after(async () => {
    await ui.close();
    await gantry?.stop();
  });

  it(
    'a missing image in an anonymously readable repository is missing, not a reason to sign in',
    { timeout: 60_000 },
    ui.step(async () => {
      const page = anonymous;
      await page.goto(at('/repositories/docker-prod/images/team/none'));
      const error = page.getByRole('main').getByTestId('error');
      assert.match(await textOf(error), /holds no image team\/none/);
      await settled(page);
      assert.equal(await error.getByRole('link', { name: 'Sign in' }).count(), 0);
      // Where signing in may help (a repository hidden from anonymous readers), it is offered.
      await page.goto(at('/repositories/docker-dev-local/images/team/none'));
      await page
        .getByRole('main')
        .getByTestId('error')
        .getByRole('link', { name: 'Sign in' })
        .first()
        .waitFor();
    }),
  );

  it(
    'a filter that hides every repository says so, for a customer at phone width and anonymously',
    { timeout: 60_000 },
    ui.step(async () => {
      for (const page of [customer, anonymous]) {
        await page.goto(at('/repositories?q=zzz'));
        const empty = page.getByTestId('empty');
        assert.match(await textOf(empty), /No repository you may read matches “zzz”/);
        await empty.getByRole('button', { name: 'Clear the filter' }).click();
        await page.getByTestId('repositories').getByRole('link', { name: PROD }).waitFor();
      }
    }),
  );

  it(
    'Storage and Webhooks speak to an anonymous visitor, and offer nothing that needs an account',
    { timeout: 60_000 },
    ui.step(async () => {
      const page = anonymous;
      for (const path of ['/storage', '/webhooks']) {
        await page.goto(at(path));
        await page.getByRole('main').getByTestId('error').first().waitFor();
        await settled(page);
        const main = await textOf(page.getByRole('main'));
        assert.doesNotMatch(main, /Basic credentials|API token/, `${path}: ${main}`);
        assert.match(main, /Sign in to read this\. Sign in/, `${path}: ${main}`);
        for (const button of ['Run now', 'Dry run', 'Create webhook'])
          assert.equal(await page.getByRole('button', { name: button }).count(), 0, `${path}: ${button}`);
      }
    }),
  );

  it(
    "a customer's Storage page shows usage and no garbage collection meant for administrators",
    { timeout: 60_000 },
    ui.step(async () => {
      const page = customer;
      await page.goto(at('/storage'));
      await page.getByTestId('usage').getByText(PROD).waitFor();
      await settled(page);
      const main = await textOf(page.getByRole('main'));
      assert.doesNotMatch(main, /only administrators/, main);
      assert.equal(await page.getByRole('button', { name: 'Run now' }).count(), 0);
      assert.equal(await page.getByRole('heading', { name: 'Garbage collection' }).count(), 0);
    }),
  );
});
