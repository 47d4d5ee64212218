// The UI contract's helpers (ui.mjs) against fixtures/api-keys.html, a stand-in page written
// to the contract with no server behind it. It passes before the console exists, so that when
// a console test fails, the locator is known to match a page built to the contract: either
// the console differs from the contract, or the behaviour is wrong.

import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { SCOPES, launchBrowser, poll, runAxe, shot } from './harness.mjs';
import {
  button,
  cell,
  closeNewSecret,
  createButton,
  createFormFields,
  createKey,
  customButton,
  expectMemberRole,
  invite,
  memberRole,
  memberRow,
  nav,
  pendingHeading,
  pendingInvitation,
  withdraw,
  describeFocus,
  dialog,
  expectCount,
  expectNotice,
  expectPath,
  expectStatus,
  expectText,
  filterKeys,
  focusInside,
  keyIdByName,
  keyRow,
  openRowDialog,
  rowButton,
  tabTo,
  tooltip,
} from './ui.mjs';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
// A loopback origin (a secure context, so the clipboard works) on which nothing listens: every
// request is answered by the route below.
const ORIGIN = 'http://127.0.0.1:9';

describe('the UI contract helpers, on a stand-in page', () => {
  let browser;
  let context;
  let page;

  before(async () => {
    browser = await launchBrowser();
    context = await browser.newContext({ baseURL: ORIGIN, viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(5_000);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: ORIGIN });
    const pages = {
      '/platform/api-keys': await fsp.readFile(path.join(FIXTURES, 'api-keys.html'), 'utf8'),
      '/platform/members': await fsp.readFile(path.join(FIXTURES, 'members.html'), 'utf8'),
    };
    await context.route(`${ORIGIN}/**`, (route) => {
      const body = pages[new URL(route.request().url()).pathname];
      return body
        ? route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body })
        : route.fulfill({ status: 404, contentType: 'text/plain', body: 'not in the stand-in' });
    });
    page = await context.newPage();
  });
  after(async () => {
    await browser?.close();
  });

  test('create a key: expiry, custom scopes, the secret once, Copy, Done', async () => {
    await page.goto('/platform/api-keys');
    const secret = await createKey(page, {
      name: 'new-key',
      expires: '2030-01-31',
      scopes: ['apps:read', 'billing:read'],
      catalog: SCOPES,
      beforeSubmit: () => runAxe(page, 'the stand-in with the Create dialog open'),
    });
    assert.match(secret, /^kw_[0-9A-Za-z]{38}$/);
    const submitted = await page.evaluate(() => window.lastSubmit);
    assert.deepEqual(submitted, [
      ['csrf_token', 'fixture-token'],
      ['name', 'new-key'],
      ['expires_on', '2030-01-31'],
      ['access', 'custom'],
      ['scopes', 'apps:read'],
      ['scopes', 'billing:read'],
    ]);
    await runAxe(page, 'the stand-in with the new-key dialog open');
    await shot(page, 'stand-in-new-secret');
    await button(dialog(page, 'Your new API key'), 'Copy').click();
    await poll(async () => (await page.evaluate(() => navigator.clipboard.readText())) === secret);
    await closeNewSecret(page);
    assert.ok(!(await page.content()).includes(secret));
  });

  test('rows, cells, status, and the Custom tooltip on hover and focus', async () => {
    await page.goto('/platform/api-keys');
    const id = await keyIdByName(page, 'ci-deploy');
    assert.equal(id, '01a208b1-0000-7000-8000-000000000001');
    const row = keyRow(page, id);
    await expectText(await cell(page, row, 'Key'), /^kw_AbCdEfGh(…|\.\.\.)$/);
    await expectStatus(page, row, 'Active');
    await expectStatus(page, keyRow(page, await keyIdByName(page, 'probe')), 'Revoked');
    await expectText(await cell(page, keyRow(page, await keyIdByName(page, 'probe')), 'Permissions'), /^Full access$/);
    await expectCount(tooltip(page), 0, 'visible tooltips before hovering');
    await customButton(row).hover();
    await expectText(tooltip(page), /apps:read, billing:read/);
    await page.mouse.move(1, 1);
    await tooltip(page).waitFor({ state: 'hidden' });
    await customButton(row).focus();
    await tooltip(page).waitFor({ state: 'visible' });
    await customButton(row).blur();
    await assert.rejects(cell(page, row, 'Nope'), /no column "Nope"/);
    await runAxe(page, 'the stand-in list');
  });

  test('row dialogs open by name and close with Escape; a confirm shows a notice', async () => {
    await page.goto('/platform/api-keys');
    const row = keyRow(page, await keyIdByName(page, 'ci-deploy'));
    for (const [word, name] of [['Edit', 'Edit API key'], ['Rotate', 'Rotate API key'], ['Revoke', 'Revoke API key'], ['Delete', 'Delete API key']]) {
      const dlg = await openRowDialog(page, row, word, name);
      await page.keyboard.press('Escape');
      await dlg.waitFor({ state: 'hidden' });
    }
    const dlg = await openRowDialog(page, row, 'Rotate', 'Rotate API key');
    await dlg.getByLabel('Grace period', { exact: true }).selectOption({ label: '1 hour' });
    await button(dlg, 'Rotate key').click();
    await dlg.waitFor({ state: 'hidden' });
    await expectNotice(page);
    // "Delete" matches the trash icon's accessible name; the probe row has only that button.
    const probe = keyRow(page, await keyIdByName(page, 'probe'));
    await expectCount(rowButton(probe, 'Delete'), 1, 'Delete on the probe row');
    await expectCount(rowButton(probe, 'Edit'), 0, 'Edit on the probe row');
  });

  test('the status filter and the search submit the filter form', async () => {
    await page.goto('/platform/api-keys');
    await filterKeys(page, { status: 'Revoked', search: 'probe' });
    await poll(() => new URL(page.url()).search === '?status=revoked&q=probe', {
      message: () => `the filter went to ${page.url()}`,
    });
    await expectPath(page, '/platform/api-keys');
  });

  test('createFormFields reads the real form without its csrf_token', async () => {
    await page.goto('/platform/api-keys');
    const fields = await createFormFields(page, 'forged');
    assert.deepEqual(fields, [['name', 'forged'], ['expires_on', ''], ['access', 'full']]);
  });

  test('keyboard: Tab reaches Create, focus stays in the dialog, Escape closes it', async () => {
    await page.goto('/platform/api-keys');
    await tabTo(page, createButton(page), { what: 'Create API key' });
    await page.keyboard.press('Enter');
    const dlg = dialog(page, 'Create API key');
    await dlg.waitFor({ state: 'visible' });
    for (const key of ['Tab', 'Shift+Tab']) {
      for (let i = 0; i < 12; i++) {
        await page.keyboard.press(key);
        assert.ok(await focusInside(dlg), `after ${key}, focus is on ${await describeFocus(page)}`);
      }
    }
    await page.keyboard.press('Escape');
    await dlg.waitFor({ state: 'hidden' });
    await assert.rejects(tabTo(page, page.locator('#nothing-here'), { max: 3 }), /never reached/);
  });

  test('members: nav, roles from selects and cells, invite, pending, withdraw', async () => {
    await page.goto('/platform/api-keys');
    await nav(page, 'Members');
    assert.equal(await memberRole(page, 'owner@example.com'), 'Owner');
    assert.equal(await memberRole(page, 'newbie@example.com'), 'Admin');
    await memberRow(page, 'newbie@example.com').getByRole('combobox').selectOption({ label: 'Member' });
    await expectMemberRole(page, 'newbie@example.com', 'Member');
    await pendingHeading(page).waitFor();
    await expectCount(pendingInvitation(page, 'maybe@example.com'), 1, 'the pending invitation');
    await invite(page, 'later@example.com', 'Admin');
    await expectNotice(page, /sent/);
    await expectCount(pendingInvitation(page, 'later@example.com'), 1, 'the new pending invitation');
    await withdraw(page, 'maybe@example.com');
    await expectCount(pendingInvitation(page, 'later@example.com'), 1, 'the other pending invitation');
    await runAxe(page, 'the stand-in Members page');
  });
});
