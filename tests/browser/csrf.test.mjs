// CSRF (issue 12 §5): a forged form POST to /platform/api-keys/create from another origin,
// opened in a browser logged in as the owner, fails: no key is created (checked over the API
// with the owner's key) and the response is not a success.
//
// The attacker page is served by a separate Node http server on another port. From
// http://127.0.0.1:OTHER it is same-site with keyward (ports do not make sites), so the
// SameSite=Lax session cookie IS sent: only the CSRF token can stop it. From
// http://localhost:OTHER it is cross-site, so SameSite=Lax stops the cookie as well.
// A control first creates a key through the real form, so a failure of the forgeries cannot
// come from a wrong URL or wrong fields.

import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';

import {
  PASSWORD,
  createApiKey,
  createUser,
  launchBrowser,
  newContext,
  shot,
  startKeyward,
  step,
} from './harness.mjs';
import { closeNewSecret, createFormFields, createKey, dialog, keyIdByName, logIn } from './ui.mjs';

const escapeHtml = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

/** The attacker's page: a form that submits itself to `action` with `fields`. */
function attackerPage(action, fields) {
  const inputs = fields
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('\n');
  return `<!doctype html><html lang="en"><head><title>You won a prize</title></head><body>
<main><h1>Claim your prize</h1>
<form id="f" method="POST" action="${escapeHtml(action)}">
${inputs}
<button type="submit">Claim</button>
</form></main>
<script>document.getElementById('f').submit();</script>
</body></html>`;
}

describe('csrf', () => {
  let browser;
  let server;
  let attacker;
  let attackerPort;
  let ownerKey;
  let acme;
  let html = '';
  const owner = 'owner@example.com';

  const keyNames = async () =>
    (await server.apiJson(`/api/v1/workspaces/${acme.id}/api-keys?limit=200`, { key: ownerKey })).map((k) => k.name);

  before(async () => {
    browser = await launchBrowser();
    server = await startKeyward();
    ({ workspace: acme } = await createUser(server, { email: owner, workspace: 'Acme' }));
    ownerKey = (await createApiKey(server, { name: 'owner-probe', user: owner })).key;
    attacker = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html);
    });
    attacker.listen(0, '127.0.0.1');
    await once(attacker, 'listening');
    attackerPort = attacker.address().port;
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    attacker?.close();
  });

  test('a forged cross-origin form post creates no key', { timeout: 180_000 }, async () => {
    const ctx = { server, prefix: 'csrf' };
    const context = await newContext(browser, server);
    const page = (ctx.page = await context.newPage());
    const target = `${server.url}/platform/api-keys/create`;
    let fields;

    await step(ctx, 'log in as the owner and read the Create form\'s fields', async () => {
      await logIn(page, { email: owner, password: PASSWORD });
      fields = await createFormFields(page, 'placeholder');
      assert.ok(fields.some(([k]) => k === 'name'), `the form posts a "name": ${JSON.stringify(fields)}`);
    });

    await step(ctx, 'control: the real form, with its token, creates a key', async () => {
      await createKey(page, { name: 'legit-control' });
      await closeNewSecret(page);
      await keyIdByName(page, 'legit-control');
      assert.ok((await keyNames()).includes('legit-control'));
    });

    const forgeries = [
      {
        label: 'same-site origin, the form\'s fields without csrf_token',
        origin: `http://127.0.0.1:${attackerPort}`,
        name: 'forged-same-site',
        fields: (name) => fields.map(([k, v]) => [k, k === 'name' ? name : v]),
      },
      {
        label: 'same-site origin, only a name field',
        origin: `http://127.0.0.1:${attackerPort}`,
        name: 'forged-name-only',
        fields: (name) => [['name', name]],
      },
      {
        label: 'same-site origin, a made-up csrf_token',
        origin: `http://127.0.0.1:${attackerPort}`,
        name: 'forged-wrong-token',
        fields: (name) => [...fields.map(([k, v]) => [k, k === 'name' ? name : v]), ['csrf_token', '0'.repeat(64)]],
      },
      {
        label: 'cross-site origin (localhost), the form\'s fields without csrf_token',
        origin: `http://localhost:${attackerPort}`,
        name: 'forged-cross-site',
        fields: (name) => fields.map(([k, v]) => [k, k === 'name' ? name : v]),
      },
    ];

    for (const [i, forgery] of forgeries.entries()) {
      await step(ctx, `forgery from ${forgery.label}`, async () => {
        html = attackerPage(target, forgery.fields(forgery.name));
        const victim = (ctx.page = await context.newPage());
        const response = victim.waitForResponse((r) => r.url() === target && r.request().method() === 'POST');
        await victim.goto(`${forgery.origin}/prize`);
        const res = await response;
        await victim.waitForLoadState('load');
        const status = res.status();
        const location = res.headers().location;
        const toLogin = status >= 300 && status < 400 && location && new URL(location, target).pathname === '/login';
        assert.ok(status >= 400 || toLogin, `the forged post answered ${status}${location ? ` → ${location}` : ''}`);
        await shot(victim, `csrf-0${i + 1}-${forgery.name}`);
        assert.equal(await dialog(victim, 'Your new API key').count(), 0, 'a new-key dialog after a forged post');
        const names = await keyNames();
        assert.ok(!names.includes(forgery.name), `the forged post created "${forgery.name}"`);
        await victim.close();
        ctx.page = page;
      });
    }

    await step(ctx, 'only the owner\'s keys exist', async () => {
      assert.deepEqual((await keyNames()).sort(), ['legit-control', 'owner-probe']);
    });

    await context.close();
  });
});
