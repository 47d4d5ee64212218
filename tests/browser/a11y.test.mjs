// Accessibility beyond axe (which every test file runs on every page it visits): the console
// with the keyboard alone. Open "Create API key" from the keyboard, Tab and Shift+Tab stay
// inside the dialog, Escape closes it; a key can be created without a mouse; Escape closes
// every key dialog. And the public pages at 390 px wide.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  PASSWORD,
  checkPage,
  createApiKey,
  createUser,
  launchBrowser,
  newContext,
  startKeyward,
  step,
} from './harness.mjs';
import {
  button,
  createButton,
  describeFocus,
  dialog,
  expectCount,
  focusInside,
  expectH1,
  expectPath,
  keyIdByName,
  keyRow,
  logIn,
  rowButton,
  tabTo,
} from './ui.mjs';

describe('keyboard and accessibility', () => {
  let browser;
  let server;
  const owner = 'keys@example.com';

  before(async () => {
    browser = await launchBrowser();
    server = await startKeyward();
    await createUser(server, { email: owner, name: 'Kim Keys', workspace: 'Keyboard Co' });
    await createApiKey(server, { name: 'existing-key', user: owner, scopes: ['apps:read'] });
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('the Create dialog with the keyboard alone: open, trapped focus, Escape, create', { timeout: 180_000 }, async () => {
    const ctx = { server, prefix: 'a11y-keyboard' };
    const context = await newContext(browser, server);
    const page = (ctx.page = await context.newPage());
    const dlg = dialog(page, 'Create API key');

    await step(ctx, 'Tab to "Create API key" and press Enter', async () => {
      await logIn(page, { email: owner, password: PASSWORD });
      await page.reload(); // start from the top of the page, nothing focused
      await tabTo(page, createButton(page), { what: 'the "Create API key" button' });
      await page.keyboard.press('Enter');
      await dlg.waitFor({ state: 'visible' });
      assert.ok(await focusInside(dlg), `focus is outside the opened dialog: ${await describeFocus(page)}`);
    });

    await step(ctx, 'Tab and Shift+Tab stay inside the dialog', async () => {
      for (const key of ['Tab', 'Shift+Tab']) {
        for (let i = 0; i < 25; i++) {
          await page.keyboard.press(key);
          assert.ok(await focusInside(dlg), `after ${i + 1} × ${key}, focus left the dialog: ${await describeFocus(page)}`);
        }
      }
    });

    await step(ctx, 'Escape closes it', async () => {
      await page.keyboard.press('Escape');
      await dlg.waitFor({ state: 'hidden' });
      await expectPath(page, '/platform/api-keys');
    });

    await step(ctx, 'create a key without the mouse', async () => {
      await page.reload();
      await tabTo(page, createButton(page), { what: 'the "Create API key" button' });
      await page.keyboard.press('Enter');
      await dlg.waitFor({ state: 'visible' });
      const name = dlg.getByLabel('Name', { exact: true });
      await tabTo(page, name, { what: 'the Name field' });
      await page.keyboard.type('typed-key');
      const full = dlg.getByRole('radio', { name: 'Full access', exact: true });
      if (!(await full.isChecked())) {
        const checked = dlg.getByRole('radio', { checked: true });
        if ((await checked.count()) === 0) {
          await tabTo(page, full, { what: 'the "Full access" radio' });
          await page.keyboard.press('Space');
        } else {
          await tabTo(page, checked, { what: 'the access radios' });
          for (let i = 0; i < 3 && !(await full.isChecked()); i++) await page.keyboard.press('ArrowUp');
        }
      }
      assert.ok(await full.isChecked(), 'Full access is chosen');
      await tabTo(page, button(dlg, 'Create key'), { what: 'the "Create key" button' });
      await page.keyboard.press('Enter');
      const secretDialog = dialog(page, 'Your new API key');
      await secretDialog.waitFor({ state: 'visible' });
      assert.ok(await focusInside(secretDialog), `focus is outside the new-key dialog: ${await describeFocus(page)}`);
      await tabTo(page, button(secretDialog, 'Copy'), { what: 'the "Copy" button' });
      await tabTo(page, button(secretDialog, 'Done'), { what: 'the "Done" button' });
      await page.keyboard.press('Enter');
      await secretDialog.waitFor({ state: 'hidden' });
      await expectPath(page, '/platform/api-keys');
      await keyIdByName(page, 'typed-key');
    });

    await step(ctx, 'Escape closes the Edit, Rotate, Revoke and Delete dialogs', async () => {
      const row = keyRow(page, await keyIdByName(page, 'existing-key'));
      for (const [word, name] of [['Edit', 'Edit API key'], ['Rotate', 'Rotate API key'], ['Revoke', 'Revoke API key'], ['Delete', 'Delete API key']]) {
        await rowButton(row, word).focus();
        await page.keyboard.press('Enter');
        const d = dialog(page, name);
        await d.waitFor({ state: 'visible' });
        assert.ok(await focusInside(d), `focus is outside "${name}": ${await describeFocus(page)}`);
        await page.keyboard.press('Escape');
        await d.waitFor({ state: 'hidden' });
      }
      await expectCount(row, 1, 'the key row, untouched');
    });

    await context.close();
  });

  test('the public pages at 390 px wide', { timeout: 60_000 }, async () => {
    const ctx = { server, prefix: 'a11y-narrow' };
    const context = await newContext(browser, server, { viewport: { width: 390, height: 844 } });
    const page = (ctx.page = await context.newPage());
    await step(ctx, '/login', async () => {
      await page.goto('/login');
      await page.getByLabel('Email', { exact: true }).waitFor();
      await checkPage(page, 'a11y-login-390');
    });
    await step(ctx, '/signup', async () => {
      await page.goto('/signup');
      await page.getByLabel('Workspace name', { exact: true }).waitFor();
      await checkPage(page, 'a11y-signup-390');
    });
    await step(ctx, 'a verification link that is not valid', async () => {
      await page.goto('/verify-email?token=not-a-real-token');
      await expectH1(page, 'This link is not valid');
      await checkPage(page, 'a11y-verify-email-invalid-390');
    });
    await context.close();
  });
});
