// The console's UI contract, as locators and actions. Every role, label and name the tests rely
// on is here, in one place, so that a change to the contract is a change to this file.
//
// Locators are role and label based. Names are exact, except the buttons inside a table row
// ("Edit", "Rotate", "Revoke", "Delete", "Save", "Remove", "Withdraw"), which match the contract's
// word at the start of the accessible name, so "Edit" and "Edit ci-deploy" both do.

import { poll } from './harness.mjs';

/** A regular expression matching `word` at the start of an accessible name. */
function startsWith(word) {
  return new RegExp(`^${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`);
}

// ---------------------------------------------------------------------------------------------
// Generic

const squash = (s) => s.replace(/\s+/g, ' ').trim();

/** An element's text two ways: as shown (innerText, which CSS text-transform changes, e.g. to
 * capitals) and as written (textContent, which includes hidden text). A text check passes on
 * either. */
export async function texts(locator, options) {
  const shown = squash(await locator.innerText(options));
  const written = squash(await locator.textContent(options));
  return [shown, written];
}

/** The texts of every element `locator` matches, as written (not as CSS capitalises them). */
export async function allTexts(locator) {
  return (await locator.allTextContents()).map(squash);
}

export function h1(page) {
  return page.getByRole('heading', { level: 1 });
}

/** Waits until the page's h1 matches `text` (a string, exactly, or a RegExp). */
export async function expectH1(page, text) {
  let seen = '';
  await poll(
    async () => {
      const heading = h1(page);
      if ((await heading.count()) !== 1) return false;
      const both = await texts(heading);
      seen = both[0];
      return both.some((t) => (typeof text === 'string' ? t === text : text.test(t)));
    },
    { timeout: 15_000, message: () => `expected the h1 ${text} on ${page.url()}, saw ${JSON.stringify(seen)}` },
  );
}

/** Waits until the page's path is `pathname` (the query is ignored). */
export async function expectPath(page, pathname, timeout = 15_000) {
  await poll(() => new URL(page.url()).pathname === pathname, {
    timeout,
    message: () => `expected to be at ${pathname}, but the page is at ${page.url()}`,
  });
}

/** Waits until `locator` matches exactly `n` elements. */
export async function expectCount(locator, n, what = String(locator), timeout = 10_000) {
  let last;
  await poll(async () => (last = await locator.count()) === n, {
    timeout,
    message: () => `expected ${n} of ${what}, found ${last}`,
  });
}

/** Waits until `locator`'s text matches `re`. */
export async function expectText(locator, re, what = String(locator)) {
  let last = '';
  await poll(async () => {
    const both = await texts(locator);
    last = both[0];
    return both.some((t) => re.test(t));
  }, {
    message: () => `expected ${what} to match ${re}, it reads ${JSON.stringify(last)}`,
  });
}

/** A success notice (role=status) whose text matches `re` (any notice when omitted). */
export function notice(page, re) {
  const all = page.getByRole('status');
  return re ? all.filter({ hasText: re }) : all;
}

/** An error (role=alert). */
export function alert(page, re) {
  const all = page.getByRole('alert');
  return re ? all.filter({ hasText: re }) : all;
}

/** Waits for a visible notice matching `re`. */
export async function expectNotice(page, re = /\S/) {
  await notice(page, re).first().waitFor({ state: 'visible' });
}

/** Waits for a visible error in words (never raw JSON); resolves to its text. */
export async function expectAlertInWords(page) {
  const el = alert(page, /\S/).first();
  await el.waitFor({ state: 'visible' });
  const text = (await el.innerText()).trim();
  if (/^[[{]/.test(text) || /"error"\s*:/.test(text) || /"code"\s*:/.test(text)) {
    throw new Error(`the error is raw JSON, not words: ${text}`);
  }
  return text;
}

export function dialog(page, name) {
  return page.getByRole('dialog', { name, exact: true });
}

export function button(scope, name) {
  return scope.getByRole('button', { name, exact: true });
}

/** Fails unless no enabled button on the page has an accessible name starting with `word`. */
export async function expectNoEnabledButton(page, word) {
  const buttons = page.getByRole('button', { name: startsWith(word) });
  const n = await buttons.count();
  for (let i = 0; i < n; i++) {
    if (await buttons.nth(i).isEnabled()) {
      throw new Error(`expected no enabled "${word}" button on ${page.url()}, found one`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The keyboard

/** What has focus, for a person reading a failure. */
export const describeFocus = (page) =>
  page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return '(nothing: the body)';
    const name = el.getAttribute('aria-label') || el.labels?.[0]?.innerText || el.innerText || el.getAttribute('name') || '';
    return `<${el.tagName.toLowerCase()}${el.id ? ` id=${el.id}` : ''}> ${name.trim().slice(0, 40)}`;
  });

export const isFocused = (locator) => locator.evaluateAll((els) => els.some((el) => el === document.activeElement));

/** Presses Tab (or Shift+Tab) until `locator` has focus; fails after `max` presses. */
export async function tabTo(page, locator, { shift = false, max = 60, what = String(locator) } = {}) {
  const seen = [];
  for (let i = 0; i < max; i++) {
    if (await isFocused(locator)) return;
    await page.keyboard.press(shift ? 'Shift+Tab' : 'Tab');
    seen.push(await describeFocus(page));
  }
  if (await isFocused(locator)) return;
  throw new Error(`${max} presses of ${shift ? 'Shift+Tab' : 'Tab'} never reached ${what}; focus went through:\n  ${seen.join('\n  ')}`);
}

/** Whether focus is inside `dlg`. */
export const focusInside = (dlg) => dlg.evaluate((el) => el.contains(document.activeElement));

// ---------------------------------------------------------------------------------------------
// Accounts: /login, /signup, the links

export async function fillLogIn(page, { email, password }) {
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await button(page, 'Log in').click();
}

/** Logs in at /login and lands on /platform/api-keys. */
export async function logIn(page, { email, password }) {
  await page.goto('/login');
  await expectPath(page, '/login');
  await fillLogIn(page, { email, password });
  await expectPath(page, '/platform/api-keys');
  await expectH1(page, 'API keys');
}

export async function logOut(page) {
  await button(page, 'Log out').click();
  await expectPath(page, '/login');
}

/** Fills /signup (the page must be open) and submits it. */
export async function fillSignUp(page, { name, email, password, workspace }) {
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  if (workspace !== undefined) await page.getByLabel('Workspace name', { exact: true }).fill(workspace);
  await button(page, 'Create account').click();
}

// ---------------------------------------------------------------------------------------------
// Navigation

/** Follows a header nav link ("API keys", "Members", "Audit log", "Settings"). */
export async function nav(page, name) {
  await page.getByRole('navigation').getByRole('link', { name, exact: true }).click();
  const paths = { 'API keys': '/platform/api-keys', Members: '/platform/members', 'Audit log': '/platform/audit-log', Settings: '/platform/settings' };
  await expectPath(page, paths[name]);
  await expectH1(page, name);
}

/** Picks `name` in the header's "Workspace" select and waits for the page the switch loads. */
export async function switchWorkspace(page, name) {
  const select = page.getByLabel('Workspace', { exact: true });
  const current = await select.evaluate((s) => s.options[s.selectedIndex]?.text.trim());
  if (current === name) return;
  const loaded = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: 15_000 });
  await select.selectOption({ label: name });
  await loaded;
  await page.waitForLoadState('load');
}

// ---------------------------------------------------------------------------------------------
// API keys

export function createButton(page) {
  return button(page, 'Create API key');
}

/** Every key row. */
export function keyRows(page) {
  return page.locator('tr[data-key-id]');
}

/** The row of the key with this id. */
export function keyRow(page, id) {
  return page.locator(`tr[data-key-id="${id}"]`);
}

/** The rows that mention `name` (test names are chosen so that none contains another). */
export function keyRowsNamed(page, name) {
  return keyRows(page).filter({ hasText: name });
}

/** The id of the one key row named `name`. */
export async function keyIdByName(page, name) {
  const rows = keyRowsNamed(page, name);
  await expectCount(rows, 1, `key rows named ${name}`);
  return rows.getAttribute('data-key-id');
}

/** A row's action button: "Edit", "Rotate", "Revoke" or "Delete". */
export function rowButton(row, word) {
  return row.getByRole('button', { name: startsWith(word) });
}

/** Any key action button on the page. */
export function anyRowButton(page, word) {
  return keyRows(page).getByRole('button', { name: startsWith(word) });
}

/** The cell of `row` under the column header `header` ("Status", "Key", ...). */
export async function cell(page, row, header) {
  const headers = await allTexts(page.getByRole('columnheader'));
  const i = headers.indexOf(header);
  if (i < 0) throw new Error(`no column "${header}"; the columns are ${JSON.stringify(headers)}`);
  return row.locator(':scope > td, :scope > th').nth(i);
}

export async function expectStatus(page, row, status) {
  await expectText(await cell(page, row, 'Status'), new RegExp(`^${status}\\b`), `the Status cell`);
}

/** Sets the access radios (and, for Custom, the scope checkboxes) in a key dialog. `scopes`:
 * null for Full access, else the list of catalog scopes to tick (the others are unticked). */
export async function setAccess(dlg, scopes, catalog) {
  if (scopes === null) {
    await dlg.getByRole('radio', { name: 'Full access', exact: true }).check();
    return;
  }
  await dlg.getByRole('radio', { name: 'Custom', exact: true }).check();
  for (const scope of catalog) {
    await dlg.getByRole('checkbox', { name: scope, exact: true }).setChecked(scopes.includes(scope));
  }
}

/** Fills the expiry field with a date ('YYYY-MM-DD'), whatever kind of date input it is. */
export async function setExpiry(dlg, date) {
  const input = dlg.getByLabel('Expiration date (optional)', { exact: true });
  const type = await input.getAttribute('type');
  await input.fill(type === 'datetime-local' ? `${date}T00:00` : date);
}

/**
 * Reads the "Your new API key" dialog: the secret in code#new-secret, with the warning.
 * Resolves to {dialog, secret}.
 */
export async function readNewSecret(page) {
  const dlg = dialog(page, 'Your new API key');
  await dlg.waitFor({ state: 'visible' });
  const secret = (await dlg.locator('code#new-secret').innerText()).trim();
  const text = (await texts(dlg)).join(' ');
  if (!/won['’]t be able to see it again/i.test(text)) {
    throw new Error(`the new-key dialog lacks the warning "won't be able to see it again"; it reads: ${text}`);
  }
  await button(dlg, 'Copy').waitFor({ state: 'visible' });
  return { dialog: dlg, secret };
}

/** Clicks Done on the new-key dialog and waits for the list. */
export async function closeNewSecret(page) {
  const dlg = dialog(page, 'Your new API key');
  await button(dlg, 'Done').click();
  await dlg.waitFor({ state: 'hidden' });
  await expectPath(page, '/platform/api-keys');
}

/**
 * Creates a key through the Create API key dialog, and leaves the new-key dialog open.
 * `beforeSubmit(dialog)` runs with the form filled (for a screenshot). Resolves to the secret.
 */
export async function createKey(page, { name, expires, scopes = null, catalog, beforeSubmit }) {
  await createButton(page).click();
  const dlg = dialog(page, 'Create API key');
  await dlg.waitFor({ state: 'visible' });
  await dlg.getByLabel('Name', { exact: true }).fill(name);
  if (expires) await setExpiry(dlg, expires);
  await setAccess(dlg, scopes, catalog);
  if (beforeSubmit) await beforeSubmit(dlg);
  await button(dlg, 'Create key').click();
  const { secret } = await readNewSecret(page);
  return secret;
}

/** Opens a row's dialog ("Edit" → "Edit API key", ...) and resolves to it. */
export async function openRowDialog(page, row, word, dialogName) {
  await rowButton(row, word).click();
  const dlg = dialog(page, dialogName);
  await dlg.waitFor({ state: 'visible' });
  return dlg;
}

/** The Permissions cell's "Custom" button of a row. */
export function customButton(row) {
  return row.getByRole('button', { name: startsWith('Custom') });
}

/** The visible tooltip (role=tooltip). */
export function tooltip(page) {
  return page.getByRole('tooltip');
}

/** The status filter: selects `status` ("All", "Active", ...), types `search`, applies. */
export async function filterKeys(page, { status = 'All', search = '' } = {}) {
  await page.getByLabel('Status', { exact: true }).selectOption({ label: status });
  await page.getByLabel('Search by name', { exact: true }).fill(search);
  await button(page, 'Apply').click();
}

/**
 * The fields the Create API key form posts, read from the real form (minus csrf_token), so a
 * forged request is the real one without its token. Opens and closes (Escape) the dialog.
 */
export async function createFormFields(page, name) {
  await createButton(page).click();
  const dlg = dialog(page, 'Create API key');
  await dlg.waitFor({ state: 'visible' });
  await dlg.getByLabel('Name', { exact: true }).fill(name);
  const form = dlg.locator('form').filter({ has: page.getByRole('button', { name: 'Create key', exact: true }) });
  const fields = await form.evaluate((f) => [...new FormData(f).entries()].map(([k, v]) => [k, String(v)]));
  await page.keyboard.press('Escape');
  await dlg.waitFor({ state: 'hidden' });
  return fields.filter(([k]) => k !== 'csrf_token');
}

// ---------------------------------------------------------------------------------------------
// Members

/** The invite form: the form with the "Invite" button. */
export function inviteForm(page) {
  return page.locator('form').filter({ has: button(page, 'Invite') });
}

/** Invites `email` with `role` ("Member", "Admin", "Owner") from the Members page. */
export async function invite(page, email, role) {
  const form = inviteForm(page);
  await form.getByLabel('Email', { exact: true }).fill(email);
  await form.getByLabel('Role', { exact: true }).selectOption({ label: role });
  await button(form, 'Invite').click();
}

export function pendingHeading(page) {
  return page.getByRole('heading', { level: 2, name: 'Pending invitations', exact: true });
}

/** The pending invitation for `email`: the list item or row with the email and a Withdraw button. */
export function pendingInvitation(page, email) {
  return page
    .locator('li, tr')
    .filter({ hasText: email })
    .filter({ has: page.getByRole('button', { name: startsWith('Withdraw') }) });
}

/** Withdraws the invitation for `email`, confirming if the console asks. */
export async function withdraw(page, email) {
  const item = pendingInvitation(page, email);
  await item.getByRole('button', { name: startsWith('Withdraw') }).click();
  const confirm = page.getByRole('dialog').getByRole('button', { name: /withdraw/i });
  await poll(async () => (await item.count()) === 0 || (await confirm.count()) > 0, {
    message: `withdrawing ${email}: the invitation stayed and no confirmation came`,
  });
  if ((await confirm.count()) > 0) await confirm.first().click();
  await expectCount(item, 0, `pending invitations for ${email}`);
}

/** The Members table row of `email`. */
export function memberRow(page, email) {
  return page.locator('tr').filter({ hasText: email });
}

/** The role a Members row shows: its "Role" select's chosen option when it has one (a select's
 * text holds every option), else the cell that reads Owner, Admin or Member. */
export async function memberRole(page, email) {
  const row = memberRow(page, email);
  const select = row.getByRole('combobox');
  if ((await select.count()) > 0) return select.evaluate((s) => s.options[s.selectedIndex]?.text.trim());
  const cells = await allTexts(row.locator(':scope > td, :scope > th'));
  return cells.find((t) => /^(owner|admin|member)$/i.test(t));
}

/** Waits until the Members row of `email` shows `role` ("Owner", "Admin", "Member"). */
export async function expectMemberRole(page, email, role) {
  let seen;
  await poll(async () => (seen = await memberRole(page, email))?.toLowerCase() === role.toLowerCase(), {
    message: () => `expected ${email} to show the role ${role} on the Members page, it shows ${JSON.stringify(seen)}`,
  });
}
