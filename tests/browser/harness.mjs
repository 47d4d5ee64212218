// The browser tests' harness: a real `keyward serve` on a free loopback port with a fresh data
// directory, Debian's headless Chromium driven by playwright-core, and the helpers the tests
// share (the outbox, axe-core, screenshots, the admin CLI, the JSON API, polling).
//
// Nothing here knows the console's markup: the UI contract's locators live in ui.mjs.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository root (tests/browser/..). */
export const REPO_ROOT = path.resolve(here, '..', '..');
/** The keyward binary: `KEYWARD_BIN` (relative to the current directory), else the debug build. */
export const KEYWARD_BIN = process.env.KEYWARD_BIN
  ? path.resolve(process.env.KEYWARD_BIN)
  : path.join(REPO_ROOT, 'target', 'debug', 'keyward');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const SCREENSHOTS = path.join(REPO_ROOT, 'target', 'screenshots');
export const SCOPES = ['apps:read', 'apps:deploy', 'billing:read'];
/** A password every test user gets: at least 12 characters, as keyward requires. */
export const PASSWORD = 'correct horse battery staple';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

// ---------------------------------------------------------------------------------------------
// keyward

/** A free TCP port on 127.0.0.1, from the kernel. */
export async function freePort() {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  srv.close();
  await once(srv, 'close');
  return port;
}

/** The environment for keyward: ours, without the caller's KEYWARD_* (KEYWARD_BIN included:
 * keyward would warn about it as an unknown setting). */
function keywardEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('KEYWARD_')) env[k] = v;
  }
  env.KEYWARD_SCOPES = SCOPES.join(',');
  env.RUST_LOG = env.RUST_LOG || 'info';
  env.NO_COLOR = '1';
  return { ...env, ...extra };
}

const running = new Set();
process.on('exit', () => {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/**
 * Starts `keyward serve` with a fresh temporary data directory on a free port and waits for
 * its "keyward listening on http://ADDR" line.
 *
 * @param {{env?: Record<string,string>}} [options] extra environment, e.g.
 *   `{KEYWARD_ALLOW_SIGNUP: 'false'}`
 * @returns {Promise<Keyward>}
 */
export async function startKeyward({ env = {} } = {}) {
  if (!fs.existsSync(KEYWARD_BIN)) {
    throw new Error(
      `keyward binary not found at ${KEYWARD_BIN}: run \`cargo build -p keyward\` or set KEYWARD_BIN`,
    );
  }
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'keyward-browser-'));
  const dataDir = path.join(root, 'data');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const fullEnv = keywardEnv({ KEYWARD_PUBLIC_URL: url, ...env });
  // cwd is the temporary directory, so that no keyward.toml of the caller is read.
  const child = spawn(
    KEYWARD_BIN,
    ['--data-dir', dataDir, 'serve', '--listen', `127.0.0.1:${port}`],
    { cwd: root, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  const log = [];
  const onData = (stream) => (chunk) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() !== '') log.push(`[${stream}] ${line}`);
    }
    if (log.length > 5000) log.splice(0, log.length - 5000);
  };
  child.stdout.on('data', onData('stdout'));
  child.stderr.on('data', onData('stderr'));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  exited.then(() => running.delete(child));

  const ready = new Promise((resolve) => {
    let buf = '';
    child.stdout.on('data', (chunk) => {
      buf += chunk.toString('utf8');
      const m = /keyward listening on (http:\/\/\S+)/.exec(buf);
      if (m) resolve(m[1]);
    });
  });
  const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), 30_000).unref());
  const first = await Promise.race([ready, exited, timeout]);
  if (typeof first !== 'string' || first === 'timeout') {
    child.kill('SIGKILL');
    await fsp.rm(root, { recursive: true, force: true });
    const why = first === 'timeout' ? 'did not say it was listening within 30 s' : `exited (${JSON.stringify(first)})`;
    throw new Error(`keyward serve ${why}; its output:\n${log.join('\n')}`);
  }

  const server = {
    url,
    port,
    dataDir,
    root,
    env: fullEnv,
    /** keyward's output so far (last `n` lines), for failure messages. */
    logTail(n = 40) {
      return log.slice(-n).join('\n');
    },
    /** Runs `keyward admin ARGS` against this server's data directory. */
    adminCli(args, opts = {}) {
      return adminCli(server, args, opts);
    },
    outboxLinks() {
      return outboxLinks(dataDir);
    },
    outboxMessages() {
      return outboxMessages(dataDir);
    },
    /** Waits for an outbox message to `to` with a link whose path is `pathname`; the newest. */
    waitForLink(opts) {
      return waitForLink(dataDir, opts);
    },
    /** `fetch` against this server (path relative to its URL), with an optional bearer key. */
    api(pathname, { key, method = 'GET', body, headers = {} } = {}) {
      const h = { ...headers };
      if (key) h.Authorization = `Bearer ${key}`;
      if (body !== undefined) h['Content-Type'] = 'application/json';
      return fetch(url + pathname, {
        method,
        headers: h,
        body: body === undefined ? undefined : JSON.stringify(body),
        redirect: 'manual',
      });
    },
    /** Like `api`, but expects a 2xx JSON answer and returns the parsed body. */
    async apiJson(pathname, opts = {}) {
      const res = await server.api(pathname, opts);
      const text = await res.text();
      if (!res.ok) {
        throw new Error(`${opts.method || 'GET'} ${pathname}: HTTP ${res.status}: ${text}`);
      }
      return text === '' ? null : JSON.parse(text);
    },
    /** Stops keyward with SIGTERM (SIGKILL after 10 s) and removes its data directory
     * (kept when BROWSER_TEST_KEEP_DATA=1). */
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      if (process.env.BROWSER_TEST_KEEP_DATA === '1') {
        console.error(`# keyward data kept in ${root}`);
      } else {
        await fsp.rm(root, { recursive: true, force: true });
      }
    },
  };
  return server;
}

/**
 * Runs `keyward --data-dir DIR admin ARGS...` with the server's environment.
 * Resolves to {code, stdout, stderr}; rejects on a non-zero exit unless `allowFailure`.
 *
 * @param {{dataDir: string, root: string, env: object}} server
 * @param {string[]} args after `admin`, e.g. ['user', 'create', '--email', E, '--password-stdin']
 * @param {{stdin?: string, allowFailure?: boolean}} [opts]
 */
export async function adminCli(server, args, { stdin, allowFailure = false } = {}) {
  const child = spawn(KEYWARD_BIN, ['--data-dir', server.dataDir, 'admin', ...args], {
    cwd: server.root,
    env: server.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  child.stdin.end(stdin ?? '');
  const [code] = await once(child, 'exit');
  if (code !== 0 && !allowFailure) {
    throw new Error(`keyward admin ${args.join(' ')} exited ${code}:\n${stderr}${stdout}`);
  }
  return { code, stdout, stderr };
}

/**
 * Makes a verified user with a password through the admin CLI. With `workspace` a name, a new
 * workspace is made with the user as its owner; with `workspaceId`, the user joins that
 * workspace with `role`. Resolves to the CLI's JSON ({user, workspace?}).
 */
export async function createUser(server, { email, name, workspace, workspaceId, role, verified = true, password = PASSWORD }) {
  const args = ['user', 'create', '--email', email, '--password-stdin', '--json'];
  if (name) args.push('--name', name);
  if (verified) args.push('--verified');
  if (workspace) args.push('--workspace', workspace);
  if (workspaceId) args.push('--workspace', workspaceId);
  if (role) args.push('--role', role);
  const { stdout } = await adminCli(server, args, { stdin: `${password}\n` });
  return JSON.parse(stdout);
}

/** Mints a key for a user through the admin CLI; resolves to the key object plus `key`. */
export async function createApiKey(server, { name, user, workspaceId, scopes, expiresAt }) {
  const args = ['apikey', 'create', '--name', name, '--user-id', user, '--json'];
  if (workspaceId) args.push('--workspace', workspaceId);
  if (scopes) args.push('--scopes', scopes.join(','));
  if (expiresAt) args.push('--expires-at', expiresAt);
  const { stdout } = await adminCli(server, args);
  return JSON.parse(stdout);
}

// ---------------------------------------------------------------------------------------------
// The outbox: one .eml per message in <data_dir>/outbox/

function decodeQuotedPrintable(text) {
  const soft = text.replace(/=\r?\n/g, '');
  const bytes = [];
  for (let i = 0; i < soft.length; i++) {
    const c = soft[i];
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(c, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Splits a MIME entity into lower-cased headers (continuations unfolded) and body. */
function parseEntity(raw) {
  const m = /\r?\n\r?\n/.exec(raw);
  const head = m ? raw.slice(0, m.index) : raw;
  const body = m ? raw.slice(m.index + m[0].length) : '';
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { headers, body };
}

/** The decoded text of every leaf part of a MIME entity. */
function textParts(raw) {
  const { headers, body } = parseEntity(raw);
  const type = headers['content-type'] || 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type);
  if (/^multipart\//i.test(type) && boundary) {
    const parts = body.split(`--${boundary[1]}`).slice(1);
    return parts
      .filter((p) => !p.startsWith('--'))
      .flatMap((p) => textParts(p.replace(/^\r?\n/, '')));
  }
  const encoding = (headers['content-transfer-encoding'] || '7bit').toLowerCase();
  if (encoding === 'quoted-printable') return [decodeQuotedPrintable(body)];
  if (encoding === 'base64') return [Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')];
  return [body];
}

function decodeEntities(s) {
  return s
    .replace(/&amp;/g, '&')
    .replace(/&#x3d;|&#61;/gi, '=')
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');
}

/**
 * Every message in `<dataDir>/outbox/*.eml`, oldest first (by modification time, then name):
 * {file, to, subject, text, links}, where `links` are the distinct URLs in the decoded bodies
 * that carry `token=`.
 */
export async function outboxMessages(dataDir) {
  const dir = path.join(dataDir, 'outbox');
  let names;
  try {
    names = (await fsp.readdir(dir)).filter((n) => n.endsWith('.eml'));
  } catch (e) {
    if (e.code === 'ENOENT') return [];
    throw e;
  }
  const files = await Promise.all(
    names.map(async (n) => {
      const file = path.join(dir, n);
      const st = await fsp.stat(file, { bigint: true });
      return { file, name: n, mtime: st.mtimeNs };
    }),
  );
  files.sort((a, b) => (a.mtime < b.mtime ? -1 : a.mtime > b.mtime ? 1 : a.name.localeCompare(b.name)));
  const out = [];
  for (const f of files) {
    const raw = await fsp.readFile(f.file, 'utf8');
    const { headers } = parseEntity(raw);
    const text = textParts(raw).join('\n');
    const links = [];
    for (const m of text.matchAll(/https?:\/\/[^\s"'<>)\]]+/g)) {
      const link = decodeEntities(m[0]).replace(/[.,;]+$/, '');
      if (link.includes('token=') && !links.includes(link)) links.push(link);
    }
    out.push({ file: f.file, to: headers.to || '', subject: headers.subject || '', text, links });
  }
  return out;
}

/** The links containing `token=` in `<dataDir>/outbox/*.eml`, newest message last. */
export async function outboxLinks(dataDir) {
  return (await outboxMessages(dataDir)).flatMap((m) => m.links);
}

/**
 * Polls the outbox (up to `timeout` ms) for the newest link to `to` (matched against the To
 * header, case-insensitively) whose path is `pathname` (e.g. '/verify-email'), and skipping
 * the links in `exclude`.
 */
export async function waitForLink(dataDir, { to, pathname, exclude = [], timeout = 15_000 }) {
  let seen = [];
  const link = await poll(
    async () => {
      const messages = await outboxMessages(dataDir);
      seen = messages;
      const candidates = messages
        .filter((m) => !to || m.to.toLowerCase().includes(to.toLowerCase()))
        .flatMap((m) => m.links)
        .filter((l) => !pathname || new URL(l).pathname === pathname)
        .filter((l) => !exclude.includes(l));
      return candidates.at(-1);
    },
    { timeout, interval: 200, message: () =>
      `no outbox link${pathname ? ` to ${pathname}` : ''}${to ? ` for ${to}` : ''} in ${path.join(dataDir, 'outbox')}; ` +
      `messages: ${JSON.stringify(seen.map((m) => ({ to: m.to, subject: m.subject, links: m.links })))}` },
  );
  return link;
}

/** A link's path and query, to open against the test server whatever origin the mail used. */
export function pathAndQuery(link) {
  const u = new URL(link);
  return u.pathname + u.search;
}

// ---------------------------------------------------------------------------------------------
// The browser

/** Launches Debian's Chromium, headless. One per test file. */
export async function launchBrowser() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/**
 * A fresh browser context (its own cookies) at 1280×800 against `server`, with short timeouts
 * so a missing element fails in seconds, not minutes.
 */
export async function newContext(browser, server, { clipboard = false, viewport } = {}) {
  const context = await browser.newContext({
    baseURL: server.url,
    viewport: viewport || { width: 1280, height: 800 },
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(30_000);
  if (clipboard) {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  }
  return context;
}

const AXE_SOURCE_PATH = path.join(here, 'node_modules', 'axe-core', 'axe.min.js');
let axeSource;

/** Formats axe violations for a person: rule, impact, help, link, and each offending node. */
export function formatViolations(violations) {
  return violations
    .map((v) => {
      const nodes = v.nodes
        .map((n) => `    - ${n.target.join(' ')}\n      ${n.html.slice(0, 200)}\n      ${(n.failureSummary || '').replace(/\n/g, '\n      ')}`)
        .join('\n');
      return `  [${v.impact}] ${v.id}: ${v.help}\n    ${v.helpUrl}\n${nodes}`;
    })
    .join('\n');
}

/**
 * Runs axe-core on the page as it is now and throws, listing them, on any violation of impact
 * serious or critical. axe is evaluated through the DevTools protocol, so a strict
 * Content-Security-Policy on the page neither blocks it nor needs loosening.
 * Resolves to the full axe results.
 */
export async function runAxe(page, label = page.url()) {
  axeSource ??= await fsp.readFile(AXE_SOURCE_PATH, 'utf8');
  const hasAxe = await page.evaluate(() => typeof window.axe !== 'undefined');
  if (!hasAxe) await page.evaluate(axeSource);
  const results = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return { violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target, html: n.html, failureSummary: n.failureSummary })) })) };
  });
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length > 0) {
    throw new Error(`axe: ${bad.length} serious or critical violation(s) on ${label}:\n${formatViolations(bad)}`);
  }
  return results;
}

/** Saves a full-page PNG to target/screenshots/NAME.png; resolves to its path. */
export async function shot(page, name) {
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Axe, then a screenshot (named `name`), of the page as it is now. */
export async function checkPage(page, name) {
  await shot(page, name);
  await runAxe(page, `${name} (${page.url()})`);
}

// ---------------------------------------------------------------------------------------------
// Polling and readable steps

/**
 * Calls `fn` until it returns a truthy value (resolving to it) or `timeout` ms pass (throwing
 * `message`, a string or a function of the last error).
 */
export async function poll(fn, { timeout = 10_000, interval = 100, message = 'condition not met' } = {}) {
  const deadline = Date.now() + timeout;
  let lastError;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const text = typeof message === 'function' ? message(lastError) : message;
      throw new Error(lastError ? `${text} (last error: ${lastError.message})` : text);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** Retries `fn` (an assertion) until it passes or `timeout` ms pass, then rethrows its error:
 * for checking over the API what a page has just done. */
export async function eventually(fn, { timeout = 10_000, interval = 150 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/**
 * Runs one named step of a longer test. On failure it saves a screenshot under
 * target/screenshots/failures/ and rethrows with the step's name and keyward's last log lines,
 * so a red journey says where it broke.
 */
export async function step(ctx, name, fn) {
  try {
    return await fn();
  } catch (e) {
    let where = '';
    if (ctx.page && !ctx.page.isClosed()) {
      try {
        const file = await shot(ctx.page, `failures/${ctx.prefix}-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`);
        where = `\n  page: ${ctx.page.url()}\n  screenshot: ${file}`;
      } catch {
        // the page may be gone
      }
    }
    const logs = ctx.server ? `\n  keyward's last log lines:\n${ctx.server.logTail(15).replace(/^/gm, '    ')}` : '';
    const err = new Error(`step "${name}" failed: ${e.message}${where}${logs}`, { cause: e });
    throw err;
  }
}
