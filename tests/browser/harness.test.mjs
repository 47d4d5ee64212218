// The harness itself, on what keyward already has (the JSON API and the admin CLI): it must
// pass before the console exists, so that a red console test means the console, not the rig.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  createApiKey,
  createUser,
  launchBrowser,
  newContext,
  outboxLinks,
  outboxMessages,
  runAxe,
  shot,
  startKeyward,
  waitForLink,
} from './harness.mjs';

describe('harness', () => {
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

  test('keyward serves /healthz and the OpenAPI document to Chromium', async () => {
    const context = await newContext(browser, server);
    const page = await context.newPage();
    const health = await page.goto('/healthz');
    assert.equal(health.status(), 200, 'GET /healthz');
    await shot(page, 'harness-healthz');
    const doc = await page.goto('/api/v1/openapi.json');
    assert.equal(doc.status(), 200, 'GET /api/v1/openapi.json');
    const openapi = await doc.json();
    assert.match(openapi.openapi, /^3\.1\./);
    assert.ok(openapi.paths['/api/v1/users/current'], 'the document lists /api/v1/users/current');
    await context.close();
  });

  test('the admin CLI makes an owner and a key that the API accepts', async () => {
    const { user, workspace } = await createUser(server, { email: 'smoke@example.com', workspace: 'Smoke' });
    assert.equal(workspace.role, 'owner');
    const key = await createApiKey(server, { name: 'smoke', user: user.email });
    assert.match(key.key, /^kw_/);
    const me = await server.apiJson('/api/v1/users/current', { key: key.key });
    assert.equal(me.user.email, 'smoke@example.com');
    assert.equal(me.workspace.id, workspace.id);
    const bad = await server.api('/api/v1/users/current', { key: `${key.key.slice(0, -1)}x` });
    assert.equal(bad.status, 401);
    const failed = await server.adminCli(['user', 'verify', 'nobody@example.com'], { allowFailure: true });
    assert.notEqual(failed.code, 0);
  });

  test('runAxe passes an accessible page and fails, readably, on serious violations', async () => {
    const context = await newContext(browser, server);
    const page = await context.newPage();
    await page.setContent(`<!doctype html><html lang="en"><head><title>Fine</title></head>
      <body><main><h1>A fine page</h1><form><label for="n">Name</label><input id="n" name="n">
      <button type="submit">Save</button></form></main></body></html>`);
    await runAxe(page, 'a fine page');
    await shot(page, 'harness-axe-fine');

    await page.setContent(`<!doctype html><html><head><title>Bad</title></head>
      <body><main><h1>Bad</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><button></button>
      <input type="text"></main></body></html>`);
    await assert.rejects(runAxe(page, 'a bad page'), (e) => {
      assert.match(e.message, /serious or critical violation/);
      assert.match(e.message, /image-alt/);
      assert.match(e.message, /button-name/);
      assert.match(e.message, /html-has-lang/);
      return true;
    });

    // A strict Content-Security-Policy does not stop axe (it is evaluated over the protocol).
    await page.route('**/csp-page', (route) =>
      route.fulfill({
        status: 200,
        headers: { 'content-type': 'text/html', 'content-security-policy': "default-src 'none'" },
        body: '<!doctype html><html lang="en"><head><title>CSP</title></head><body><main><h1>CSP</h1></main></body></html>',
      }),
    );
    await page.goto('/csp-page');
    await runAxe(page, 'a page with a strict CSP');
    await context.close();
  });

  test('shot writes a full-page PNG under target/screenshots/', async () => {
    const context = await newContext(browser, server, { viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.setContent('<!doctype html><html lang="en"><title>Tall</title><main><h1>Tall</h1><div style="height:2000px"></div></main></html>');
    const file = await shot(page, 'harness-tall-390');
    const bytes = await fsp.readFile(file);
    assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
    assert.equal(bytes.readUInt32BE(16), 390, 'width 390');
    assert.ok(bytes.readUInt32BE(20) >= 2000, 'the full page, not the viewport');
    await context.close();
  });

  test('the clipboard can be read back in headless Chromium', async () => {
    const context = await newContext(browser, server, { clipboard: true });
    const page = await context.newPage();
    await page.goto('/healthz');
    await page.setContent('<!doctype html><html lang="en"><title>Copy</title><main><button id="b">Copy</button></main></html>');
    await page.evaluate(() => {
      document.getElementById('b').addEventListener('click', () => navigator.clipboard.writeText('kw_copied'));
    });
    await page.getByRole('button', { name: 'Copy' }).click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'kw_copied');
    await context.close();
  });
});

describe('outbox', () => {
  let dir;
  before(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'keyward-outbox-'));
  });
  after(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  test('outboxLinks decodes quoted-printable, base64 and multipart bodies, newest last', async () => {
    assert.deepEqual(await outboxLinks(dir), [], 'no outbox directory yet: no links');
    const outbox = path.join(dir, 'outbox');
    await fsp.mkdir(outbox);
    const write = async (name, text, secondsAgo) => {
      const file = path.join(outbox, name);
      await fsp.writeFile(file, text.replace(/\n/g, '\r\n'));
      const t = new Date(Date.now() - secondsAgo * 1000);
      await fsp.utimes(file, t, t);
    };
    // Written out of order on purpose: order comes from modification times.
    await write('b.eml', [
      'To: bob@example.com',
      'Subject: Join Acme',
      'Content-Type: multipart/alternative; boundary="XX"',
      '',
      '--XX',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('Join: http://127.0.0.1:9/invitations/accept?token=bbb222\n').toString('base64'),
      '--XX',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      '<a href=3D"http://127.0.0.1:9/invitations/accept?token=3Dbbb222&amp;x=3D1">Join</a>',
      '--XX--',
      '',
    ].join('\n'), 5);
    await write('a.eml', [
      'To: Ada <ada@example.com>',
      'Subject: Verify your email',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Open http://127.0.0.1:9/verify-email?token=3Daaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=',
      'aaaa111 within 24 h. Ignore http://127.0.0.1:9/login',
      '',
    ].join('\n'), 10);
    await write('c.eml', 'To: ada@example.com\nSubject: Again\n\nhttp://127.0.0.1:9/verify-email?token=ccc333.\n', 1);
    await fsp.writeFile(path.join(outbox, 'notes.txt'), 'http://127.0.0.1:9/x?token=ignored');

    const links = await outboxLinks(dir);
    assert.deepEqual(links, [
      `http://127.0.0.1:9/verify-email?token=${'a'.repeat(75)}111`,
      'http://127.0.0.1:9/invitations/accept?token=bbb222',
      'http://127.0.0.1:9/invitations/accept?token=bbb222&x=1',
      'http://127.0.0.1:9/verify-email?token=ccc333',
    ]);
    const messages = await outboxMessages(dir);
    assert.equal(messages[1].subject, 'Join Acme');
    assert.equal(
      await waitForLink(dir, { to: 'ada@example.com', pathname: '/verify-email' }),
      'http://127.0.0.1:9/verify-email?token=ccc333',
    );
    assert.equal(
      await waitForLink(dir, { to: 'ADA@example.com', pathname: '/verify-email', exclude: ['http://127.0.0.1:9/verify-email?token=ccc333'] }),
      `http://127.0.0.1:9/verify-email?token=${'a'.repeat(75)}111`,
    );
    await assert.rejects(waitForLink(dir, { to: 'carol@example.com', timeout: 300 }), /no outbox link for carol@example.com/);
  });

  test('stop() ends keyward and removes its data directory', async () => {
    const server = await startKeyward({ env: { KEYWARD_ALLOW_SIGNUP: 'false' } });
    assert.ok(fs.existsSync(server.dataDir));
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    await server.stop();
    assert.ok(!fs.existsSync(server.root), 'the temporary directory is gone');
    await assert.rejects(fetch(`${server.url}/healthz`));
  });
});
