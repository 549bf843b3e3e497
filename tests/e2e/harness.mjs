// End-to-end harness: starts the demo server binary on a free port and drives Debian's Chromium
// through playwright-core. It builds nothing: `pkg/`, `examples/web/dist` and the server binary must
// exist (bash scripts/build.sh; npx vite build --config examples/web/vite.config.js;
// cargo build --release --manifest-path examples/server/Cargo.toml).
//
// Env:
//   DATABASE_URL        run the server on PostgreSQL (each server gets a fresh database when psql works)
//   QW_E2E_SERVER_BIN   the server binary (default: examples/server/target/{release,debug}/querywire-demo-server)
//   QW_E2E_CHROMIUM     the browser (default /usr/bin/chromium)
//   QW_E2E_SCREENSHOTS  folder for screenshots (default docs/screenshots); "0" takes none
//   QW_E2E_DEBUG=1      echo server output and browser console
import { after, before } from 'node:test';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const WEB_DIST = path.join(ROOT, 'examples/web/dist');
const DEBUG = process.env.QW_E2E_DEBUG === '1';

export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--no-first-run',
];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The server binary, or null. */
export function serverBinary() {
  if (process.env.QW_E2E_SERVER_BIN) return process.env.QW_E2E_SERVER_BIN;
  for (const profile of ['release', 'debug']) {
    for (const base of ['examples/server/target', 'target']) {
      const p = path.join(ROOT, base, profile, 'querywire-demo-server');
      if (existsSync(p)) return p;
    }
  }
  return null;
}

/** Throws one clear message listing whatever is not built. */
export function checkBuilt() {
  const missing = [];
  if (!existsSync(path.join(ROOT, 'pkg/querywire.js')) || !existsSync(path.join(ROOT, 'pkg/querywire_wasm.js'))) {
    missing.push('pkg/ (the wasm engine): run `bash scripts/build.sh`');
  }
  if (!existsSync(path.join(WEB_DIST, 'index.html'))) {
    missing.push('examples/web/dist: run `npx vite build --config examples/web/vite.config.js`');
  }
  if (!serverBinary()) {
    missing.push(
      'the demo server binary: run `cargo build --release --manifest-path examples/server/Cargo.toml`',
    );
  }
  const chromium = process.env.QW_E2E_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(chromium)) missing.push(`${chromium}: apt-get install chromium`);
  if (missing.length) {
    throw new Error(`e2e: not built yet (the harness builds nothing):\n  - ${missing.join('\n  - ')}`);
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// --- PostgreSQL: one fresh database per DemoServer when psql can create it -------------------

function psql(url, sql) {
  const r = spawnSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], { encoding: 'utf8' });
  return r.status === 0 ? { ok: true, out: r.stdout } : { ok: false, out: r.stderr || r.error?.message };
}

let dbCounter = 0;
function freshPgDatabase(baseUrl) {
  const name = `qw_e2e_${process.pid}_${Date.now().toString(36)}_${dbCounter++}`;
  const r = psql(baseUrl, `CREATE DATABASE ${name}`);
  if (!r.ok) {
    if (DEBUG) console.error(`e2e: could not create a fresh database (${r.out?.trim()}); using DATABASE_URL as is`);
    return { url: baseUrl, drop: () => {} };
  }
  const u = new URL(baseUrl);
  u.pathname = `/${name}`;
  return { url: u.toString(), drop: () => psql(baseUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

// --- the demo server --------------------------------------------------------------------------

export class DemoServer {
  constructor({ port, dbPath, databaseUrl, env } = {}) {
    this.port = port;
    this.dbPath = dbPath;
    this.databaseUrl = databaseUrl;
    this.extraEnv = env ?? {};
    this.proc = null;
    this.output = '';
    this.starts = 0;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  get db() {
    return this.databaseUrl ? 'postgres' : 'sqlite';
  }

  /** Starts (or restarts, on the same port and database) the server and waits for /api/stats. */
  async start({ timeoutMs = 20_000 } = {}) {
    if (this.proc) throw new Error('server already running');
    const env = {
      ...process.env,
      PORT: String(this.port),
      WEB_DIST,
      ...this.extraEnv,
    };
    if (this.databaseUrl) env.DATABASE_URL = this.databaseUrl;
    else {
      delete env.DATABASE_URL;
      env.DB_PATH = this.dbPath;
    }
    const proc = spawn(serverBinary(), [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    this.starts++;
    const onData = (d) => {
      const s = d.toString();
      this.output = (this.output + s).slice(-20_000);
      if (DEBUG) process.stderr.write(`[server] ${s}`);
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    const exited = new Promise((resolve) => proc.once('exit', (code, sig) => resolve({ code, sig })));
    this.exited = exited;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const early = await Promise.race([exited, sleep(100).then(() => null)]);
      if (early) {
        this.proc = null;
        throw new Error(`server exited during start-up (${JSON.stringify(early)}):\n${this.output}`);
      }
      try {
        const r = await fetch(`${this.url}/api/stats`);
        if (r.ok) return this;
      } catch { /* not up yet */ }
      if (Date.now() > deadline) throw new Error(`server did not come up in ${timeoutMs} ms:\n${this.output}`);
    }
  }

  /** SIGKILL: the server dies mid-stream, sockets are cut without a close frame. */
  async kill() {
    return this.stop('SIGKILL');
  }

  async stop(signal = 'SIGTERM') {
    const proc = this.proc;
    if (!proc) return;
    this.proc = null;
    proc.kill(signal);
    const done = await Promise.race([this.exited, sleep(5000).then(() => null)]);
    if (!done) {
      proc.kill('SIGKILL');
      await this.exited;
    }
  }

  async api(method, p, body) {
    const r = await fetch(`${this.url}${p}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = text; }
    if (!r.ok) {
      const e = new Error(`${method} ${p} -> ${r.status}: ${text}`);
      e.status = r.status;
      throw e;
    }
    return json;
  }

  /** `{ requests: { "GET /api/work_orders": n, ... }, db }` */
  stats() {
    return this.api('GET', '/api/stats');
  }

  async requests(route) {
    const s = await this.stats();
    return route ? (s.requests?.[route] ?? 0) : (s.requests ?? {});
  }

  resetStats() {
    return this.api('POST', '/api/stats/reset');
  }

  list(factoryId = 'f1', page = 1, pageSize = 10) {
    return this.api('GET', `/api/work_orders?factory_id=${factoryId}&page=${page}&pageSize=${pageSize}`);
  }

  get(id) {
    return this.api('GET', `/api/work_orders/${id}`);
  }

  create(row) {
    return this.api('POST', '/api/work_orders', row);
  }

  update(id, fields) {
    return this.api('PATCH', `/api/work_orders/${id}`, fields);
  }

  remove(id) {
    return this.api('DELETE', `/api/work_orders/${id}`);
  }

  realtime(flags) {
    return this.api('POST', '/api/admin/realtime', flags);
  }

  /** Creates rows until the factory has at least n. */
  async ensureRows(factoryId, n) {
    let { total } = await this.list(factoryId, 1, 1);
    while (total < n) {
      await this.create({ factory_id: factoryId, title: `Seed order ${total + 1}`, qty: total + 1 });
      total++;
    }
  }
}

/**
 * Starts a server on a free port with a temporary SQLite file, or a fresh PostgreSQL database when
 * DATABASE_URL is set. `cleanup()` stops it and removes what it made.
 */
export async function startServer({ env } = {}) {
  checkBuilt();
  const port = await freePort();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'qw-e2e-'));
  let pg = null;
  if (process.env.DATABASE_URL) pg = freshPgDatabase(process.env.DATABASE_URL);
  const server = new DemoServer({
    port,
    dbPath: path.join(tmp, 'demo.sqlite'),
    databaseUrl: pg?.url,
    env,
  });
  await server.start();
  server.cleanup = async () => {
    await server.stop();
    pg?.drop();
    rmSync(tmp, { recursive: true, force: true });
  };
  return server;
}

// --- the browser ------------------------------------------------------------------------------

export async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: process.env.QW_E2E_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

/**
 * Opens the demo app. `params` become the query string (source, factory, backoff…), `hash` the route.
 * Records the page's API requests in `page.apiRequests` ({ method, path, page, t }).
 */
export async function openApp(browser, server, { params = {}, hash = '#/work-orders', waitStatus = 'connected', viewport } = {}) {
  const context = await browser.newContext({ viewport: viewport ?? { width: 1360, height: 860 } });
  const page = await context.newPage();
  page.apiRequests = [];
  page.consoleErrors = [];
  page.pageErrors = []; // uncaught exceptions in the app
  page.on('request', (req) => {
    const u = new URL(req.url());
    if (!u.pathname.startsWith('/api/work_orders')) return;
    page.apiRequests.push({
      method: req.method(),
      path: u.pathname,
      page: u.searchParams.get('page'),
      t: Date.now(),
    });
  });
  page.on('console', (m) => {
    if (m.type() === 'error') page.consoleErrors.push(m.text());
    if (DEBUG) console.error(`[browser:${m.type()}] ${m.text()}`);
  });
  page.on('pageerror', (e) => {
    page.pageErrors.push(String(e));
    if (DEBUG) console.error(`[browser:pageerror] ${e}`);
  });
  const qs = new URLSearchParams(params).toString();
  await page.goto(`${server.url}/${qs ? `?${qs}` : ''}${hash}`);
  if (waitStatus) await waitForStatus(page, waitStatus);
  return page;
}

export async function closePage(page) {
  await page.context().close().catch(() => {});
}

/** Polls fn until it returns a truthy value; throws the last value / error with `message` otherwise. */
export async function waitFor(fn, { timeout = 10_000, interval = 100, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${message}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    }
    await sleep(interval);
  }
}

export async function status(page) {
  return page.getAttribute('[data-testid="status-badge"]', 'data-status');
}

export async function waitForStatus(page, want, timeout = 20_000) {
  const wants = Array.isArray(want) ? want : [want];
  return waitFor(async () => wants.includes(await status(page)), { timeout, message: `status ${wants.join('|')}` });
}

export async function text(page, testId) {
  const el = await page.$(`[data-testid="${testId}"]`);
  return el ? (await el.textContent()).trim() : null;
}

/** The list rows as the page shows them. */
export function listRows(page) {
  return page.$$eval('[data-testid="wo-row"]', (rows) =>
    rows.map((r) => ({
      id: Number(r.dataset.id),
      title: r.dataset.title,
      status: r.dataset.status,
      version: Number(r.dataset.version),
    })),
  );
}

export async function detail(page) {
  return {
    title: await text(page, 'detail-title'),
    status: await text(page, 'detail-status'),
    version: Number(await text(page, 'detail-version')),
    qty: Number(await text(page, 'detail-qty')),
  };
}

/** Waits until the page's list rows equal the DB's page (id, title, status, version). */
export async function waitListEqualsDb(page, server, factoryId = 'f1', pageNo = 1, timeout = 10_000) {
  let dbRows;
  await waitFor(async () => {
    const db = await server.list(factoryId, pageNo);
    dbRows = db.items.map((r) => ({ id: r.id, title: r.title, status: r.status, version: r.version }));
    const ui = await listRows(page);
    return JSON.stringify(ui) === JSON.stringify(dbRows);
  }, { timeout, message: `list page ${pageNo} of ${factoryId} to equal the database` });
  return dbRows;
}

export async function waitDetailEqualsDb(page, server, id, timeout = 10_000) {
  let row;
  await waitFor(async () => {
    row = await server.get(id);
    const d = await detail(page);
    return d.title === row.title && d.version === row.version && d.qty === row.qty;
  }, { timeout, message: `detail #${id} to equal the database` });
  return row;
}

/** Saves a screenshot to docs/screenshots/<name>.png unless QW_E2E_SCREENSHOTS=0. */
export async function screenshot(page, name) {
  const dir = process.env.QW_E2E_SCREENSHOTS ?? path.join(ROOT, 'docs/screenshots');
  if (dir === '0') return null;
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/**
 * Starts a demo server (with at least `rows` work orders in factory f1) and Chromium before a test
 * file's tests, hands both to `set`, and stops them after the file.
 */
export function useDemo({ rows } = {}, set) {
  let server;
  let browser;
  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    if (rows) await server.ensureRows('f1', rows);
    set(server, browser);
  });
  after(async () => {
    await browser?.close();
    await server?.cleanup();
  });
}
