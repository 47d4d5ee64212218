// The journey of issue 12 §5: sign up → the link from the outbox → log in → a key with an
// expiry and custom scopes → the secret shown once and copied → gone after a reload → used
// against the API → renamed → permissions changed → rotated with a grace period → the old key
// revoked (401) → deleted with confirmation. Also sign-up closed, and log-in errors in words.
//
// Every page visited goes through axe-core (0 serious or critical violations) and gets a
// screenshot under target/screenshots/journey-*.png.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  PASSWORD,
  SCOPES,
  checkPage,
  createApiKey,
  eventually,
  launchBrowser,
  newContext,
  pathAndQuery,
  poll,
  startKeyward,
  step,
} from './harness.mjs';
import {
  anyRowButton,
  button,
  cell,
  closeNewSecret,
  createButton,
  createKey,
  customButton,
  dialog,
  expectAlertInWords,
  expectCount,
  expectH1,
  expectNotice,
  expectPath,
  expectStatus,
  expectMemberRole,
  expectText,
  fillLogIn,
  fillSignUp,
  filterKeys,
  keyIdByName,
  keyRow,
  keyRows,
  logIn,
  logOut,
  nav,
  openRowDialog,
  readNewSecret,
  setAccess,
  tooltip,
  allTexts,
} from './ui.mjs';

const KEY_FORMAT = /^kw_[0-9A-Za-z]{38}$/;

/** 'YYYY-MM-DD', `days` from today (UTC). */
function dateIn(days) {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

const sortCopy = (xs) => [...xs].sort();

describe('journey', () => {
  let browser;
  let server;

  before(async () => {
    browser = await launchBrowser();
    server = await startKeyward();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('sign up, verify, log in, and one key from creation to deletion', { timeout: 300_000 }, async () => {
    const ctx = { server, prefix: 'journey' };
    const context = await newContext(browser, server, { clipboard: true });
    const page = (ctx.page = await context.newPage());
    const email = 'journey@example.com';
    const workspaceName = 'Journey Labs';
    const status = (key) => server.api('/api/v1/users/current', { key }).then((r) => r.status);
    let probe; // an owner key minted with the admin CLI, to check results over the API
    const getKey = (id) => server.apiJson(`/api/v1/api-keys/${id}`, { key: probe });

    await step(ctx, 'GET / sends a visitor to /login', async () => {
      await page.goto('/');
      await expectPath(page, '/login');
      await page.getByLabel('Email', { exact: true }).waitFor();
      await page.getByLabel('Password', { exact: true }).waitFor();
      await checkPage(page, 'journey-01-login');
    });

    await step(ctx, 'a failed log-in is an error in words', async () => {
      await fillLogIn(page, { email: 'nobody@example.com', password: 'not the right password' });
      await expectAlertInWords(page);
      assert.notEqual(new URL(page.url()).pathname, '/platform/api-keys');
      await checkPage(page, 'journey-02-login-error');
    });

    await step(ctx, 'sign up at /signup', async () => {
      await page.getByRole('link', { name: 'Create an account', exact: true }).click();
      await expectPath(page, '/signup');
      await checkPage(page, 'journey-03-signup');
      await fillSignUp(page, { name: 'Jo Journey', email, password: PASSWORD, workspace: workspaceName });
      await expectPath(page, '/check-email');
      await expectH1(page, 'Check your email');
      await checkPage(page, 'journey-04-check-email');
    });

    let link;
    await step(ctx, 'open the verification link from the outbox', async () => {
      link = await server.waitForLink({ to: email, pathname: '/verify-email' });
      assert.match(link, /[?&]token=/);
      await page.goto(pathAndQuery(link));
      await expectH1(page, 'Email verified');
      await page.getByRole('link', { name: 'Log in', exact: true }).waitFor();
      await checkPage(page, 'journey-05-verify-email');
    });

    await step(ctx, 'the link is single use', async () => {
      await page.goto(pathAndQuery(link));
      await expectH1(page, 'This link is not valid');
      await checkPage(page, 'journey-06-verify-email-used');
    });

    await step(ctx, 'log in: no key yet', async () => {
      await logIn(page, { email, password: PASSWORD });
      await page.getByText('No API keys yet').first().waitFor();
      await expectCount(keyRows(page), 0, 'key rows');
      await checkPage(page, 'journey-07-api-keys-empty');
      await page.goto('/');
      await expectPath(page, '/platform/api-keys');
    });

    await step(ctx, 'the new user owns a workspace and is verified (over the API)', async () => {
      probe = (await createApiKey(server, { name: 'probe', user: email })).key;
      const me = await server.apiJson('/api/v1/users/current', { key: probe });
      assert.equal(me.user.email, email);
      assert.equal(me.user.email_verified, true);
      assert.equal(me.role, 'owner');
      assert.equal(me.workspace.name, workspaceName);
      await page.reload();
      await keyIdByName(page, 'probe');
    });

    const expires = dateIn(365);
    let secret;
    let keyId;
    await step(ctx, 'create a key with an expiry and custom scopes', async () => {
      secret = await createKey(page, {
        name: 'ci-deploy',
        expires,
        scopes: ['apps:read', 'billing:read'],
        catalog: SCOPES,
        beforeSubmit: () => checkPage(page, 'journey-08-create-dialog'),
      });
      assert.match(secret, KEY_FORMAT);
      await checkPage(page, 'journey-09-new-secret-dialog');
    });

    await step(ctx, 'Copy puts the secret on the clipboard', async () => {
      await button(dialog(page, 'Your new API key'), 'Copy').click();
      await poll(async () => (await page.evaluate(() => navigator.clipboard.readText())) === secret, {
        message: 'the clipboard does not hold the secret after Copy',
      });
    });

    await step(ctx, 'Done, reload: the secret is nowhere in the page', async () => {
      await closeNewSecret(page);
      await page.reload();
      await expectH1(page, 'API keys');
      assert.ok(!(await page.content()).includes(secret), 'the secret is in the reloaded DOM');
      assert.ok(!page.url().includes(secret), 'the secret is in the URL');
      const html = await (await page.request.get('/platform/api-keys')).text();
      assert.ok(!html.includes(secret), 'the secret is in the HTML the server sends');
      const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
      assert.ok(!stored.includes(secret), 'the secret is in web storage');
      await checkPage(page, 'journey-10-api-keys');
    });

    await step(ctx, 'the row: name, key prefix, Custom with its scopes on hover and focus, Active', async () => {
      keyId = await keyIdByName(page, 'ci-deploy');
      const row = keyRow(page, keyId);
      await expectText(await cell(page, row, 'Key'), new RegExp(`^${secret.slice(0, 11)}(…|\\.\\.\\.)$`), 'the Key cell');
      await expectText(await cell(page, row, 'Permissions'), /^Custom/, 'the Permissions cell');
      await expectStatus(page, row, 'Active');
      const headers = await allTexts(page.getByRole('columnheader'));
      for (const h of ['Name', 'Key', 'Permissions', 'Status', 'Created', 'Expires', 'Last used']) {
        assert.ok(headers.includes(h), `column "${h}" in ${JSON.stringify(headers)}`);
      }
      await expectText(await cell(page, keyRow(page, await keyIdByName(page, 'probe')), 'Permissions'), /^Full access$/, 'the probe key');

      await customButton(row).hover();
      await tooltip(page).waitFor({ state: 'visible' });
      await expectText(tooltip(page), /apps:read[\s\S]*billing:read|billing:read[\s\S]*apps:read/, 'the tooltip');
      await checkPage(page, 'journey-11-permissions-tooltip');
      await page.mouse.move(1, 1);
      await tooltip(page).waitFor({ state: 'hidden' });
      await customButton(row).focus();
      await tooltip(page).waitFor({ state: 'visible' });
      await expectText(tooltip(page), /apps:read/, 'the tooltip on focus');
      await customButton(row).blur();
    });

    await step(ctx, 'the key is stored with its expiry and scopes (over the API)', async () => {
      const key = await getKey(keyId);
      assert.equal(key.name, 'ci-deploy');
      assert.deepEqual(sortCopy(key.scopes), ['apps:read', 'billing:read']);
      assert.ok(key.expires_at, 'expires_at is set');
      const days = Math.abs(Date.parse(key.expires_at) - Date.parse(`${expires}T00:00:00Z`)) / 86_400_000;
      assert.ok(days <= 1, `expires_at ${key.expires_at} is the chosen date ${expires}`);
    });

    await step(ctx, 'the secret works against /api/v1/users/current', async () => {
      const me = await server.apiJson('/api/v1/users/current', { key: secret });
      assert.equal(me.auth.type, 'api_key');
      assert.equal(me.auth.key_id, keyId);
      assert.equal(me.user.email, email);
    });

    await step(ctx, 'rename with Edit', async () => {
      const dlg = await openRowDialog(page, keyRow(page, keyId), 'Edit', 'Edit API key');
      await checkPage(page, 'journey-12-edit-dialog');
      await dlg.getByLabel('Name', { exact: true }).fill('ci-release');
      await button(dlg, 'Save changes').click();
      await dlg.waitFor({ state: 'hidden' });
      await expectNotice(page);
      await expectText(await cell(page, keyRow(page, keyId), 'Name'), /ci-release/, 'the Name cell');
      await eventually(async () => assert.equal((await getKey(keyId)).name, 'ci-release'));
    });

    await step(ctx, 'change permissions with Edit', async () => {
      const dlg = await openRowDialog(page, keyRow(page, keyId), 'Edit', 'Edit API key');
      assert.equal(await dlg.getByLabel('Name', { exact: true }).inputValue(), 'ci-release');
      assert.ok(await dlg.getByRole('radio', { name: 'Custom', exact: true }).isChecked(), 'Custom is checked');
      assert.ok(await dlg.getByRole('checkbox', { name: 'apps:read', exact: true }).isChecked());
      assert.ok(await dlg.getByRole('checkbox', { name: 'billing:read', exact: true }).isChecked());
      assert.ok(!(await dlg.getByRole('checkbox', { name: 'apps:deploy', exact: true }).isChecked()));
      await setAccess(dlg, ['apps:read', 'apps:deploy'], SCOPES);
      await button(dlg, 'Save changes').click();
      await dlg.waitFor({ state: 'hidden' });
      await expectNotice(page);
      await eventually(async () => assert.deepEqual(sortCopy((await getKey(keyId)).scopes), ['apps:deploy', 'apps:read']));
      await page.waitForLoadState('load');
      let tip = '';
      await poll(async () => {
        await customButton(keyRow(page, keyId)).hover();
        tip = await tooltip(page).innerText({ timeout: 1_000 });
        return /apps:deploy/.test(tip) && !/billing:read/.test(tip);
      }, { message: () => `the tooltip should list apps:deploy and not billing:read; it reads ${JSON.stringify(tip)}` });
      await page.mouse.move(1, 1);
    });

    let newSecret;
    let newId;
    await step(ctx, 'rotate with a grace period: a new secret once, the old one still works', async () => {
      const dlg = await openRowDialog(page, keyRow(page, keyId), 'Rotate', 'Rotate API key');
      const grace = dlg.getByLabel('Grace period', { exact: true });
      const options = await allTexts(grace.locator('option'));
      assert.deepEqual(options, ['None — revoke the old key now', '1 hour', '24 hours', '7 days']);
      await grace.selectOption({ label: '1 hour' });
      await checkPage(page, 'journey-13-rotate-dialog');
      await button(dlg, 'Rotate key').click();
      ({ secret: newSecret } = await readNewSecret(page));
      assert.match(newSecret, KEY_FORMAT);
      assert.notEqual(newSecret, secret);
      await checkPage(page, 'journey-14-rotated-secret-dialog');
      await closeNewSecret(page);

      const me = await server.apiJson('/api/v1/users/current', { key: newSecret });
      newId = me.auth.key_id;
      assert.notEqual(newId, keyId);
      assert.equal(await status(secret), 200, 'the old key works during its grace period');
      const old = await getKey(keyId);
      assert.equal(old.rotated_to, newId);
      const graceLeft = Date.parse(old.expires_at) - Date.now();
      assert.ok(graceLeft > 50 * 60_000 && graceLeft <= 60 * 60_000, `the old key expires in an hour (${old.expires_at})`);
      const fresh = await getKey(newId);
      assert.equal(fresh.name, 'ci-release');
      assert.deepEqual(sortCopy(fresh.scopes), ['apps:deploy', 'apps:read']);
      await expectCount(keyRow(page, newId), 1, 'the new key row');
      await expectStatus(page, keyRow(page, newId), 'Active');
    });

    await step(ctx, 'revoke the old key: its secret now gets 401', async () => {
      const dlg = await openRowDialog(page, keyRow(page, keyId), 'Revoke', 'Revoke API key');
      await checkPage(page, 'journey-15-revoke-dialog');
      await button(dlg, 'Revoke key').click();
      await dlg.waitFor({ state: 'hidden' });
      await expectNotice(page);
      await expectStatus(page, keyRow(page, keyId), 'Revoked');
      await eventually(async () => assert.equal(await status(secret), 401, 'the revoked key'));
      assert.equal(await status(newSecret), 200, 'the new key');
      assert.equal((await getKey(keyId)).status, 'revoked');
    });

    await step(ctx, 'filter by status and search by name', async () => {
      await filterKeys(page, { status: 'Revoked' });
      await expectCount(keyRows(page), 1, 'revoked key rows');
      await expectCount(keyRow(page, keyId), 1, 'the revoked key row');
      await checkPage(page, 'journey-16-filter-revoked');
      await filterKeys(page, { status: 'Active' });
      await expectCount(keyRows(page), 2, 'active key rows (the new key and the probe)');
      await filterKeys(page, { status: 'All', search: 'probe' });
      await expectCount(keyRows(page), 1, 'key rows named like "probe"');
      await keyIdByName(page, 'probe');
      await filterKeys(page, { status: 'All', search: '' });
      await expectCount(keyRows(page), 3, 'all key rows');
    });

    await step(ctx, 'delete with confirmation: the row is gone', async () => {
      let dlg = await openRowDialog(page, keyRow(page, keyId), 'Delete', 'Delete API key');
      await page.keyboard.press('Escape');
      await dlg.waitFor({ state: 'hidden' });
      await expectCount(keyRow(page, keyId), 1, 'the row after Escape');
      dlg = await openRowDialog(page, keyRow(page, keyId), 'Delete', 'Delete API key');
      await checkPage(page, 'journey-17-delete-dialog');
      await button(dlg, 'Delete key').click();
      await dlg.waitFor({ state: 'hidden' });
      await expectNotice(page);
      await expectCount(keyRow(page, keyId), 0, 'the deleted key row');
      await page.reload();
      await expectCount(keyRow(page, keyId), 0, 'the deleted key row after a reload');
      await expectCount(keyRow(page, newId), 1, 'the new key row');
      assert.equal((await server.api(`/api/v1/api-keys/${keyId}`, { key: probe })).status, 404);
      assert.equal(await status(newSecret), 200, 'the new key');
      await checkPage(page, 'journey-18-api-keys-after');
    });

    await step(ctx, 'the API keys page at 390 px wide', async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.reload();
      await expectH1(page, 'API keys');
      await checkPage(page, 'journey-19-api-keys-390');
      await createButton(page).click();
      await dialog(page, 'Create API key').waitFor({ state: 'visible' });
      await checkPage(page, 'journey-20-create-dialog-390');
      await page.keyboard.press('Escape');
      await page.setViewportSize({ width: 1280, height: 800 });
    });

    await step(ctx, 'the audit log lists what happened', async () => {
      await nav(page, 'Audit log');
      const headers = await allTexts(page.getByRole('columnheader'));
      for (const h of ['When', 'Actor', 'Action', 'Target']) {
        assert.ok(headers.includes(h), `column "${h}" in ${JSON.stringify(headers)}`);
      }
      await poll(async () => (await page.locator('tbody tr').count()) >= 5, { message: 'at least five audit rows' });
      await checkPage(page, 'journey-21-audit-log');
    });

    await step(ctx, 'settings show the workspace', async () => {
      await nav(page, 'Settings');
      assert.equal(await page.getByLabel('Workspace name', { exact: true }).inputValue(), workspaceName);
      assert.equal(await page.getByLabel('Key prefix', { exact: true }).inputValue(), 'kw_');
      await page.getByRole('checkbox', { name: 'Members may create their own keys', exact: true }).waitFor();
      await checkPage(page, 'journey-22-settings');
    });

    await step(ctx, 'the hex64 key format gives new keys 64 hex characters; older keys keep theirs', async () => {
      const format = page.getByLabel('Key format', { exact: true });
      assert.equal(await format.inputValue(), 'base62');
      await format.selectOption('hex64');
      await checkPage(page, 'journey-22b-settings-hex64');
      await button(page, 'Save settings').click();
      await expectNotice(page);
      assert.equal(await page.getByLabel('Key format', { exact: true }).inputValue(), 'hex64');
      await nav(page, 'API keys');
      const hex = await createKey(page, { name: 'hex key', catalog: SCOPES });
      assert.match(hex, /^kw_[0-9a-f]{64}$/, 'a hex64 key is the prefix and 64 lower-case hex characters');
      await closeNewSecret(page);
      await nav(page, 'Settings');
      await page.getByLabel('Key format', { exact: true }).selectOption('base62');
      await button(page, 'Save settings').click();
      await expectNotice(page);
    });

    await step(ctx, 'members list the owner', async () => {
      await nav(page, 'Members');
      await expectMemberRole(page, email, 'Owner');
      await checkPage(page, 'journey-23-members');
      await nav(page, 'API keys');
      assert.equal(await anyRowButton(page, 'Edit').count() > 0, true, 'an owner sees Edit');
    });

    await step(ctx, 'log out', async () => {
      await logOut(page);
      await page.goto('/platform/api-keys');
      await expectPath(page, '/login');
      await page.goto('/');
      await expectPath(page, '/login');
    });

    await context.close();
  });

  test('a wrong password is refused in words, and the user can then log in', { timeout: 120_000 }, async () => {
    const ctx = { server, prefix: 'journey-login' };
    const context = await newContext(browser, server);
    const page = (ctx.page = await context.newPage());
    const email = 'second@example.com';
    await step(ctx, 'sign up without a workspace name', async () => {
      await page.goto('/signup');
      await fillSignUp(page, { name: 'Sam Second', email, password: PASSWORD });
      await expectH1(page, 'Check your email');
    });
    await step(ctx, 'a wrong password', async () => {
      await page.goto('/login');
      await fillLogIn(page, { email, password: 'wrong password, surely' });
      const text = await expectAlertInWords(page);
      assert.ok(!text.includes('wrong password, surely'), 'the error repeats the password');
      await expectPath(page, '/login');
    });
    await step(ctx, 'a too short password at sign-up is an error in words', async () => {
      await page.goto('/signup');
      // The browser may refuse it first (minlength); the server must refuse it too, in words.
      await page.locator('form').filter({ has: page.getByRole('button', { name: 'Create account', exact: true }) })
        .evaluate((form) => { form.noValidate = true; });
      await fillSignUp(page, { name: 'Short', email: 'short@example.com', password: 'short' });
      await expectAlertInWords(page);
      assert.notEqual(new URL(page.url()).pathname, '/check-email');
      await checkPage(page, 'journey-24-signup-error');
    });
    await step(ctx, 'the right password (unverified: a banner, no Create)', async () => {
      await logIn(page, { email, password: PASSWORD });
      await page.getByRole('status').or(page.getByRole('alert')).filter({ hasText: 'Verify your email' }).first().waitFor();
      await expectCount(createButton(page), 0, '"Create API key" buttons');
    });
    await context.close();
  });
});

describe('sign-up closed', () => {
  let browser;
  let server;
  before(async () => {
    browser = await launchBrowser();
    server = await startKeyward({ env: { KEYWARD_ALLOW_SIGNUP: 'false' } });
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('with allow_signup = false, /signup says sign-up is closed', { timeout: 60_000 }, async () => {
    const ctx = { server, prefix: 'signup-closed' };
    const context = await newContext(browser, server);
    const page = (ctx.page = await context.newPage());
    await step(ctx, '/signup', async () => {
      await page.goto('/signup');
      await expectH1(page, 'Sign-up is closed');
      await expectCount(button(page, 'Create account'), 0, '"Create account" buttons');
      await checkPage(page, 'signup-closed');
    });
    await step(ctx, 'the API refuses too', async () => {
      const res = await server.api('/api/v1/auth/signup', {
        method: 'POST',
        body: { email: 'x@example.com', password: PASSWORD, name: 'X' },
      });
      assert.equal(res.status, 403);
    });
    await context.close();
  });
});
