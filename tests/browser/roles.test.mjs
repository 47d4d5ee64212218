// Roles in the console (issue 12 §4, PRODUCT.md §10): a member sees keys read-only; when the
// workspace lets members create keys they see Create and manage only their own; an unverified
// user sees a banner and no Create button; a user in two workspaces switches between them.
// The server refuses what the page hides: checked with a real form post from the member's
// session, with its CSRF token.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  PASSWORD,
  SCOPES,
  checkPage,
  createApiKey,
  createUser,
  eventually,
  launchBrowser,
  newContext,
  pathAndQuery,
  startKeyward,
  step,
} from './harness.mjs';
import {
  anyRowButton,
  button,
  closeNewSecret,
  createButton,
  createFormFields,
  createKey,
  expectCount,
  expectH1,
  expectNoEnabledButton,
  expectNotice,
  expectPath,
  expectStatus,
  keyIdByName,
  keyRow,
  keyRowsNamed,
  logIn,
  nav,
  openRowDialog,
  rowButton,
  switchWorkspace,
  allTexts,
} from './ui.mjs';

const ACTIONS = ['Edit', 'Rotate', 'Revoke', 'Delete'];

describe('roles', () => {
  let browser;
  let server;
  let acme; // the workspace
  let ownerKey; // the owner's key, to check results over the API
  const owner = 'owner@example.com';
  const member = 'member@example.com';

  const keyNames = async () =>
    (await server.apiJson(`/api/v1/workspaces/${acme.id}/api-keys?limit=200`, { key: ownerKey })).map((k) => k.name);

  /** Logs in through the JSON API in the page's context (its cookie jar), for the csrf_token. */
  const apiLogIn = async (page, email) => {
    const res = await page.request.post('/api/v1/auth/login', { data: { email, password: PASSWORD } });
    assert.equal(res.status(), 200, `POST /api/v1/auth/login for ${email}: ${await res.text()}`);
    return (await res.json()).csrf_token;
  };

  before(async () => {
    browser = await launchBrowser();
    server = await startKeyward();
    ({ workspace: acme } = await createUser(server, { email: owner, name: 'Olivia Owner', workspace: 'Acme' }));
    await createUser(server, { email: member, name: 'Max Member', workspaceId: acme.id, role: 'member' });
    ownerKey = (await createApiKey(server, { name: 'owner-probe', user: owner })).key;
    await createApiKey(server, { name: 'owner-ci', user: owner, scopes: ['apps:read'] });
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** Sets members_can_create_keys over the API: each test starts from the setting it needs. */
  const membersMayCreate = (on) =>
    server.apiJson(`/api/v1/workspaces/${acme.id}`, { key: ownerKey, method: 'PATCH', body: { members_can_create_keys: on } });

  test('a member sees the console read-only, and the server refuses a member create', { timeout: 180_000 }, async () => {
    const ctx = { server, prefix: 'roles-member' };
    await membersMayCreate(false);
    const context = await newContext(browser, server);
    const page = (ctx.page = await context.newPage());

    await step(ctx, 'the API keys page has no Create, Edit, Rotate, Revoke or Delete', async () => {
      await logIn(page, { email: member, password: PASSWORD });
      await keyIdByName(page, 'owner-ci');
      await expectCount(createButton(page), 0, '"Create API key" buttons');
      for (const word of ACTIONS) await expectCount(anyRowButton(page, word), 0, `"${word}" buttons`);
      await checkPage(page, 'roles-01-member-api-keys');
    });

    await step(ctx, 'the Members page has no Invite, Save or Remove', async () => {
      await nav(page, 'Members');
      for (const word of ['Invite', 'Save', 'Remove', 'Withdraw']) await expectNoEnabledButton(page, word);
      await checkPage(page, 'roles-02-member-members');
    });

    await step(ctx, 'the Settings page cannot be saved', async () => {
      await nav(page, 'Settings');
      await expectNoEnabledButton(page, 'Save settings');
      await checkPage(page, 'roles-03-member-settings');
      await nav(page, 'Audit log');
      await checkPage(page, 'roles-04-member-audit-log');
    });

    await step(ctx, 'the server refuses a create posted with the member\'s own CSRF token', async () => {
      // The form's real fields, read as the owner (a member has no Create form to read).
      const ownerContext = await newContext(browser, server);
      const ownerPage = await ownerContext.newPage();
      await logIn(ownerPage, { email: owner, password: PASSWORD });
      const fields = await createFormFields(ownerPage, 'member-sneaky');
      await ownerContext.close();

      const csrf = await apiLogIn(page, member);
      const res = await page.request.post('/platform/api-keys/create', {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        data: new URLSearchParams([...fields, ['csrf_token', csrf]]).toString(),
        maxRedirects: 0,
      });
      assert.ok(![200, 201].includes(res.status()), `the create answered ${res.status()}`);
      assert.ok(!(await keyNames()).includes('member-sneaky'), 'a member created a key');
    });

    await context.close();
  });

  test('when members may create keys, a member creates and manages only their own', { timeout: 180_000 }, async () => {
    const ctx = { server, prefix: 'roles-members-create' };
    await membersMayCreate(false);
    const ownerContext = await newContext(browser, server);
    const ownerPage = (ctx.page = await ownerContext.newPage());

    await step(ctx, 'the owner allows it in Settings', async () => {
      await logIn(ownerPage, { email: owner, password: PASSWORD });
      await nav(ownerPage, 'Settings');
      const box = ownerPage.getByRole('checkbox', { name: 'Members may create their own keys', exact: true });
      assert.equal(await box.isChecked(), false);
      await box.check();
      await button(ownerPage, 'Save settings').click();
      await expectNotice(ownerPage);
      await checkPage(ownerPage, 'roles-05-owner-settings-saved');
      await eventually(async () => {
        const ws = await server.apiJson(`/api/v1/workspaces/${acme.id}`, { key: ownerKey });
        assert.equal(ws.members_can_create_keys, true);
      });
      await ownerPage.reload();
      assert.equal(await box.isChecked(), true, 'the setting shows as saved');
    });

    const context = await newContext(browser, server);
    const page = (ctx.page = await context.newPage());
    let ownId;
    await step(ctx, 'the member sees Create and makes a key', async () => {
      await logIn(page, { email: member, password: PASSWORD });
      await createButton(page).waitFor({ state: 'visible' });
      const secret = await createKey(page, { name: 'member-own', scopes: ['apps:read'], catalog: SCOPES });
      await closeNewSecret(page);
      assert.equal((await server.api('/api/v1/users/current', { key: secret })).status, 200);
      ownId = await keyIdByName(page, 'member-own');
      await checkPage(page, 'roles-06-member-own-key');
    });

    await step(ctx, 'the member\'s own row has the actions; the owner\'s keys have none, or are not listed', async () => {
      const own = keyRow(page, ownId);
      for (const word of ACTIONS) await expectCount(rowButton(own, word), 1, `"${word}" on the member's key`);
      // PRODUCT.md: such members create and manage their own keys only (the API lists them only
      // their own); whether the page lists the others read-only or not at all, none has an action.
      for (const name of ['owner-ci', 'owner-probe']) {
        const row = keyRowsNamed(page, name);
        assert.ok((await row.count()) <= 1, `rows named ${name}`);
        for (const word of ACTIONS) await expectCount(rowButton(row, word), 0, `"${word}" on ${name}`);
      }
      for (const word of ACTIONS) await expectCount(anyRowButton(page, word), 1, `"${word}" buttons on the page`);
    });

    await step(ctx, 'the member revokes their own key', async () => {
      const dlg = await openRowDialog(page, keyRow(page, ownId), 'Revoke', 'Revoke API key');
      await button(dlg, 'Revoke key').click();
      await dlg.waitFor({ state: 'hidden' });
      await expectNotice(page);
      await expectStatus(page, keyRow(page, ownId), 'Revoked');
    });

    await step(ctx, 'the owner turns it off again: Create is gone for the member', async () => {
      ctx.page = ownerPage;
      await ownerPage.getByRole('checkbox', { name: 'Members may create their own keys', exact: true }).uncheck();
      await button(ownerPage, 'Save settings').click();
      await expectNotice(ownerPage);
      await eventually(async () => {
        const ws = await server.apiJson(`/api/v1/workspaces/${acme.id}`, { key: ownerKey });
        assert.equal(ws.members_can_create_keys, false);
      });
      ctx.page = page;
      await page.reload();
      await expectH1(page, 'API keys');
      await expectCount(createButton(page), 0, '"Create API key" buttons');
    });

    await context.close();
    await ownerContext.close();
  });

  test('an unverified user sees a banner and no Create button, until they verify', { timeout: 180_000 }, async () => {
    const ctx = { server, prefix: 'roles-unverified' };
    const context = await newContext(browser, server);
    const page = (ctx.page = await context.newPage());
    const email = 'unverified@example.com';
    await createUser(server, { email, name: 'Una Verified', workspace: 'Unverified Co', verified: false });
    const banner = page.getByRole('status').or(page.getByRole('alert')).filter({ hasText: 'Verify your email' });

    await step(ctx, 'the banner, and no Create button', async () => {
      await logIn(page, { email, password: PASSWORD });
      await banner.first().waitFor({ state: 'visible' });
      await button(banner.first(), 'Resend email').waitFor({ state: 'visible' });
      await expectCount(createButton(page), 0, '"Create API key" buttons');
      await checkPage(page, 'roles-07-unverified-banner');
    });

    let link;
    await step(ctx, 'Resend email sends a verification link', async () => {
      await button(banner.first(), 'Resend email').click();
      await expectNotice(page, /sent|email/i);
      link = await server.waitForLink({ to: email, pathname: '/verify-email' });
      await checkPage(page, 'roles-08-unverified-resent');
    });

    await step(ctx, 'the link verifies; logged in, it offers the console', async () => {
      await page.goto(pathAndQuery(link));
      await expectH1(page, 'Email verified');
      await checkPage(page, 'roles-09-verified-logged-in');
      await page.getByRole('link', { name: 'Go to the console', exact: true }).click();
      await expectPath(page, '/platform/api-keys');
      await createButton(page).waitFor({ state: 'visible' });
      await expectCount(banner, 0, 'verify-your-email banners');
    });

    await context.close();
  });

  test('a user in two workspaces switches with the Workspace select', { timeout: 120_000 }, async () => {
    const ctx = { server, prefix: 'roles-switcher' };
    await membersMayCreate(false);
    const ownerB = 'bea@example.com';
    const { workspace: beta } = await createUser(server, { email: ownerB, workspace: 'Beta' });
    const betaKey = (await createApiKey(server, { name: 'beta-probe', user: ownerB })).key;
    await server.apiJson(`/api/v1/workspaces/${beta.id}/members`, {
      key: betaKey,
      method: 'POST',
      body: { email: member, role: 'member' },
    });
    await createApiKey(server, { name: 'beta-only', user: ownerB });

    const context = await newContext(browser, server);
    const page = (ctx.page = await context.newPage());
    await step(ctx, 'switch to Beta and back to Acme', async () => {
      await logIn(page, { email: member, password: PASSWORD });
      const select = page.getByLabel('Workspace', { exact: true });
      await select.waitFor({ state: 'visible' });
      const options = await allTexts(select.locator('option'));
      assert.deepEqual([...options].sort(), ['Acme', 'Beta']);
      await switchWorkspace(page, 'Beta');
      await expectCount(keyRowsNamed(page, 'beta-only'), 1, 'Beta\'s key rows');
      await expectCount(keyRowsNamed(page, 'owner-ci'), 0, 'Acme\'s key rows');
      await checkPage(page, 'roles-10-workspace-switcher');
      await nav(page, 'Members');
      await expectCount(page.locator('tr').filter({ hasText: ownerB }), 1, 'Beta\'s owner among the members');
      await switchWorkspace(page, 'Acme');
      await nav(page, 'API keys');
      await expectCount(keyRowsNamed(page, 'owner-ci'), 1, 'Acme\'s key rows');
      await expectCount(keyRowsNamed(page, 'beta-only'), 0, 'Beta\'s key rows');
      await nav(page, 'Members');
      await expectCount(page.locator('tr').filter({ hasText: owner }), 1, 'Acme\'s owner among the members');
      await expectCount(page.locator('tr').filter({ hasText: ownerB }), 0, 'Beta\'s owner among Acme\'s members');
    });
    await context.close();
  });
});
