// Invitations and the Members page (issue 12 §3): the owner invites an email with no account →
// a pending invitation is listed → the link from the outbox → sign-up → the new user is in the
// workspace with the invited role. Then the owner changes that role and removes the member.
// And withdrawing an invitation kills its link.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  PASSWORD,
  adminCli,
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
  button,
  dialog,
  expectCount,
  expectH1,
  expectNotice,
  expectPath,
  expectMemberRole,
  invite,
  logIn,
  memberRow,
  nav,
  pendingHeading,
  pendingInvitation,
  withdraw,
} from './ui.mjs';

describe('invitations', () => {
  let browser;
  let server;
  let acme;
  let ownerKey;
  const owner = 'owner@example.com';

  const members = () => server.apiJson(`/api/v1/workspaces/${acme.id}/members`, { key: ownerKey });
  const roleOf = async (email) => (await members()).find((m) => m.email === email)?.role;

  before(async () => {
    browser = await launchBrowser();
    server = await startKeyward();
    ({ workspace: acme } = await createUser(server, { email: owner, name: 'Olivia Owner', workspace: 'Acme' }));
    ownerKey = (await createApiKey(server, { name: 'owner-probe', user: owner })).key;
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('an invited email signs up from the link and joins with the invited role', { timeout: 240_000 }, async () => {
    const ctx = { server, prefix: 'invitation' };
    const ownerContext = await newContext(browser, server);
    const ownerPage = (ctx.page = await ownerContext.newPage());
    const newbie = 'newbie@example.com';

    await step(ctx, 'the owner invites an unknown email as Admin', async () => {
      await logIn(ownerPage, { email: owner, password: PASSWORD });
      await nav(ownerPage, 'Members');
      await expectMemberRole(ownerPage, owner, 'Owner');
      await checkPage(ownerPage, 'invitation-01-members');
      await invite(ownerPage, newbie, 'Admin');
      await expectNotice(ownerPage);
      await pendingHeading(ownerPage).waitFor({ state: 'visible' });
      await expectCount(pendingInvitation(ownerPage, newbie), 1, `pending invitations for ${newbie}`);
      await checkPage(ownerPage, 'invitation-02-pending');
      assert.equal(await roleOf(newbie), undefined, 'not a member before accepting');
      const audit = await server.apiJson(`/api/v1/workspaces/${acme.id}/audit-events?action=member.invited`, { key: ownerKey });
      assert.ok(audit.length >= 1, 'member.invited is audited');
    });

    const guest = await newContext(browser, server);
    const page = (ctx.page = await guest.newPage());
    await step(ctx, 'the link from the outbox opens the invitation', async () => {
      const link = await server.waitForLink({ to: newbie, pathname: '/invitations/accept' });
      await page.goto(pathAndQuery(link));
      await expectH1(page, /^Join /);
      // The email is shown, as text or as the value of a field that cannot be edited.
      const emailField = page.getByLabel('Email', { exact: true });
      if ((await emailField.count()) > 0) {
        assert.equal(await emailField.inputValue(), newbie);
        assert.equal(await emailField.isEditable(), false, 'the invited email is editable');
      } else {
        await page.getByText(newbie).first().waitFor({ state: 'visible' });
      }
      await checkPage(page, 'invitation-03-accept');
    });

    await step(ctx, 'sign up and join: back at /login with a notice', async () => {
      await page.getByLabel('Name', { exact: true }).fill('Nell Newbie');
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await button(page, 'Create account and join').click();
      await expectPath(page, '/login');
      await expectNotice(page);
      await checkPage(page, 'invitation-04-login-notice');
    });

    await step(ctx, 'after log-in the new user is in Acme as an admin', async () => {
      await logIn(page, { email: newbie, password: PASSWORD });
      assert.equal(await roleOf(newbie), 'admin');
      await nav(page, 'Members');
      await expectCount(memberRow(page, owner), 1, 'Acme\'s owner on the new user\'s Members page');
      await expectMemberRole(page, newbie, 'Admin');
      await checkPage(page, 'invitation-05-new-member-view');
    });

    await step(ctx, 'the owner sees the member, no longer pending', async () => {
      ctx.page = ownerPage;
      await ownerPage.reload();
      await expectCount(pendingInvitation(ownerPage, newbie), 0, `pending invitations for ${newbie}`);
      await expectMemberRole(ownerPage, newbie, 'Admin');
    });

    await step(ctx, 'the owner changes the role to Member', async () => {
      const row = memberRow(ownerPage, newbie);
      await row.getByRole('combobox').selectOption({ label: 'Member' });
      await row.getByRole('button', { name: /^Save\b/ }).click();
      await expectNotice(ownerPage);
      await eventually(async () => assert.equal(await roleOf(newbie), 'member'));
      await expectMemberRole(ownerPage, newbie, 'Member');
    });

    await step(ctx, 'the owner removes the member, confirming', async () => {
      await memberRow(ownerPage, newbie).getByRole('button', { name: /^Remove\b/ }).click();
      const dlg = dialog(ownerPage, 'Remove member');
      await dlg.waitFor({ state: 'visible' });
      await checkPage(ownerPage, 'invitation-06-remove-dialog');
      await button(dlg, 'Remove member').click();
      await dlg.waitFor({ state: 'hidden' });
      await expectNotice(ownerPage);
      await expectCount(memberRow(ownerPage, newbie), 0, `rows for ${newbie}`);
      await eventually(async () => assert.equal(await roleOf(newbie), undefined, 'still a member'));
    });

    await guest.close();
    await ownerContext.close();
  });

  test('inviting an existing user adds them at once', { timeout: 120_000 }, async () => {
    const ctx = { server, prefix: 'invitation-existing' };
    const context = await newContext(browser, server);
    const page = (ctx.page = await context.newPage());
    const existing = 'existing@example.com';
    await adminCli(server, ['user', 'create', '--email', existing, '--password-stdin', '--verified'], { stdin: `${PASSWORD}\n` });
    await step(ctx, 'invite as Member: a member row, no pending invitation', async () => {
      await logIn(page, { email: owner, password: PASSWORD });
      await nav(page, 'Members');
      await invite(page, existing, 'Member');
      await expectNotice(page);
      await expectCount(pendingInvitation(page, existing), 0, `pending invitations for ${existing}`);
      await expectMemberRole(page, existing, 'Member');
      await eventually(async () => assert.equal(await roleOf(existing), 'member'));
    });
    await context.close();
  });

  test('a withdrawn invitation is gone, and so is its link', { timeout: 120_000 }, async () => {
    const ctx = { server, prefix: 'invitation-withdraw' };
    const context = await newContext(browser, server);
    const page = (ctx.page = await context.newPage());
    const maybe = 'maybe@example.com';
    let link;
    await step(ctx, 'invite, then withdraw', async () => {
      await logIn(page, { email: owner, password: PASSWORD });
      await nav(page, 'Members');
      await invite(page, maybe, 'Member');
      await expectNotice(page);
      await expectCount(pendingInvitation(page, maybe), 1, `pending invitations for ${maybe}`);
      link = await server.waitForLink({ to: maybe, pathname: '/invitations/accept' });
      await withdraw(page, maybe);
      await expectNotice(page);
      await page.reload();
      await expectH1(page, 'Members');
      await expectCount(pendingInvitation(page, maybe), 0, `pending invitations for ${maybe}`);
      await checkPage(page, 'invitation-07-withdrawn');
    });

    const guest = await newContext(browser, server);
    const guestPage = (ctx.page = await guest.newPage());
    await step(ctx, 'the withdrawn link offers no way in', async () => {
      await guestPage.goto(pathAndQuery(link));
      await expectH1(guestPage, /\S/);
      assert.doesNotMatch((await guestPage.getByRole('heading', { level: 1 }).innerText()).trim(), /^Join /);
      await expectCount(button(guestPage, 'Create account and join'), 0, '"Create account and join" buttons');
      await checkPage(guestPage, 'invitation-08-withdrawn-link');
    });
    await guest.close();
    await context.close();
  });
});
