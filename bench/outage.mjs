#!/usr/bin/env node
// Outage benchmark: what a person sees while the realtime server is away.
//
// The demo server (examples/server, SQLite, started as tests/e2e/harness.mjs does) is killed
// (SIGKILL) and restarted N times while a writer PATCHes rows over the HTTP API; the demo app
// (examples/web) is open in Debian's Chromium on each transport (`?source=ws|sse|supabase`, a real
// QueryClient), on the detail route of a row of the first list page (two views: the list and the doc).
// Per transport it reports, as p50/p99 over the cycles:
//   (a) server answering again (GET /api/stats ok) -> the page's status `connected`;
//   (b) the longest time any visible row (the list's first page) was staler than the database: for
//       each write, the time from its answer to the page showing that version or a later one; the
//       largest of a cycle;
//   (c) requests per minute per page while it was not connected (from the kill to `connected`),
//       every /api/work_orders request Chromium made, TanStack's own retries included;
// and whether every page equals the database at the end of every cycle (writer paused).
//
//   node bench/outage.mjs [--cycles=10] [--down=12] [--up=20] [--transports=ws,sse,supabase]
//                         [--mode=kill|realtime] [--out=bench] [--no-write] [--timeline]
//   node bench/outage.mjs --from=bench/outage.json     (re-render the report and charts only)
//   npm run bench:outage -- --cycles=4
//
// --mode=realtime keeps the HTTP API up and switches only realtime off (POST /api/admin/realtime
// {ws:false, sse:false}, which also closes the Supabase endpoint): writes go on through the outage,
// so (b) is what polling alone keeps fresh. Writes bench/outage.json, bench/outage-<mode>.svg and the
// "Outage" section of bench/results.md (between its markers; `npm run bench` keeps it). Not a test:
// it measures wall-clock behaviour on a loaded machine, run it with `nice`.
//
// Needs what the e2e tests need: pkg/ (bash scripts/build.sh), examples/web/dist
// (npx vite build --config examples/web/vite.config.js) and the server binary
// (cargo build --release --manifest-path examples/server/Cargo.toml); `bash scripts/test.sh demo`
// builds the last two.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { closePage, launchBrowser, listRows, openApp, ROOT, sleep, startServer, waitFor } from '../tests/e2e/harness.mjs';

const args = Object.fromEntries(process.argv.slice(2).map((a) => {
  const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
  if (!m) { console.error(`unknown argument ${a}`); process.exit(64); }
  return [m[1], m[2] ?? true];
}));
const CYCLES = Number(args.cycles ?? 10);
const DOWN_MS = Number(args.down ?? 12) * 1000;
const UP_MS = Number(args.up ?? 20) * 1000;
const MODE = args.mode ?? 'kill';
const TRANSPORTS = String(args.transports ?? 'ws,sse,supabase').split(',');
const OUT = path.resolve(ROOT, args.out ?? 'bench');
const WRITE = !args['no-write'];
const WRITE_EVERY_MS = 250;
const VIEWS = 2; // the list view and the doc view of the detail pane
const TARGETS = { backMs: 11_000, staleMs: 7_000, perViewPer4s: 1 };
const log = (...a) => console.error('[outage]', ...a);
if (!['kill', 'realtime'].includes(MODE)) throw new Error(`--mode is kill or realtime, not ${MODE}`);

// ---- the writer ------------------------------------------------------------------------------

function startWriter(server, ids) {
  const writes = []; // { t, id, version } at the moment the API answered
  let n = 0;
  let paused = false;
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      if (!paused && WRITE) {
        const id = ids[n % ids.length];
        n++;
        try {
          const row = await server.update(id, { qty: 1 + (n % 997), title: `Write ${n}` });
          writes.push({ t: Date.now(), id: row.id, version: row.version });
        } catch { /* the server is down */ }
      }
      await sleep(WRITE_EVERY_MS);
    }
  })();
  return {
    writes,
    pause: () => { paused = true; },
    resume: () => { paused = false; },
    stop: async () => { stopped = true; await done; },
  };
}

// ---- the pages -------------------------------------------------------------------------------

/** Records status changes, the versions the list rows show, and supabase-js's socket state. */
function instrument() {
  const demo = window.__querywireDemo;
  const b = (window.__bench = { status: [[Date.now(), demo.rt.status()]], seen: [], socket: [], fetches: [], retries: [], visibility: document.visibilityState });
  demo.rt.onStatus((s) => b.status.push([Date.now(), s]));
  // A fetch starting (an invalidation, a poll, a recovery) and TanStack scheduling a retry.
  demo.queryClient.getQueryCache().subscribe((e) => {
    if (e.type !== 'updated') return;
    if (e.action.type === 'fetch') b.fetches.push([Date.now(), e.query.queryHash]);
    else if (e.action.type === 'failed') b.retries.push([Date.now(), e.query.queryHash]);
  });
  const shown = new Map();
  let socketUp;
  setInterval(() => {
    const now = Date.now();
    for (const r of document.querySelectorAll('[data-testid="wo-row"]')) {
      const id = Number(r.dataset.id);
      const v = Number(r.dataset.version);
      if (shown.get(id) !== v) {
        shown.set(id, v);
        b.seen.push([now, id, v]);
      }
    }
    const rt = demo.supabase?.realtime;
    if (rt && typeof rt.isConnected === 'function') {
      const up = rt.isConnected();
      if (up !== socketUp) {
        socketUp = up;
        b.socket.push([now, up]);
      }
    }
  }, 50);
}

async function openPages(browser, server, detailId) {
  const pages = {};
  for (const source of TRANSPORTS) {
    const page = await openApp(browser, server, { params: { source }, hash: `#/work-orders/${detailId}`, waitStatus: 'connected' });
    await waitFor(async () => (await listRows(page)).length > 0, { message: `${source}: the list` });
    await page.evaluate(instrument);
    pages[source] = page;
  }
  return pages;
}

const bench = (page) => page.evaluate(() => window.__bench);

async function dbState(server, detailId) {
  const { items } = await server.list('f1', 1);
  const row = await server.get(detailId);
  return { rows: items.map((r) => ({ id: r.id, title: r.title, status: r.status, version: r.version })), doc: row };
}

async function pageState(page) {
  const rows = await listRows(page);
  const version = Number((await page.textContent('[data-testid="detail-version"]').catch(() => 'NaN')) ?? NaN);
  return { rows, docVersion: version };
}

/** Waits (up to 15 s) until the page shows the database's first list page and detail. */
async function convergence(page, server, detailId) {
  const t0 = Date.now();
  try {
    await waitFor(async () => {
      const db = await dbState(server, detailId);
      const ui = await pageState(page);
      return JSON.stringify(ui.rows) === JSON.stringify(db.rows) && ui.docVersion === db.doc.version;
    }, { timeout: 15_000, interval: 100, message: 'page = database' });
    return { equal: true, ms: Date.now() - t0 };
  } catch {
    return { equal: false, ms: Date.now() - t0 };
  }
}

// ---- the measures ----------------------------------------------------------------------------

function firstConnectedAfter(status, t) {
  let down = false;
  for (const [at, s] of status) {
    if (at < t) continue;
    if (s !== 'connected') down = true;
    else if (down) return at;
  }
  return null;
}

/** For each write in [from, to): time until the page shows that version of the row or a later one. */
function staleness(writes, seen, from, to, dead) {
  const out = [];
  for (const w of writes) {
    if (w.t < from || w.t >= to) continue;
    const hit = seen.find(([, id, v]) => id === w.id && v >= w.version);
    const shown = hit ? Math.max(hit[0], w.t) : Infinity;
    // The part of it while the server could be read: minus the time it was dead (kill mode).
    const overlap = dead ? Math.max(0, Math.min(shown, dead[1]) - Math.max(w.t, dead[0])) : 0;
    out.push({ t: w.t, id: w.id, ms: shown - w.t, readableMs: shown - w.t - overlap });
  }
  return out;
}

function pct(xs, p) {
  const s = xs.filter((x) => x != null).sort((a, b) => a - b);
  if (!s.length) return null;
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

// ---- the run ---------------------------------------------------------------------------------

async function main() {
  const server = await startServer();
  await server.ensureRows('f1', 12);
  const { items } = await server.list('f1', 1);
  const ids = items.map((r) => r.id);
  const detailId = ids[0];
  const browser = await launchBrowser();
  try {
    await run(server, browser, ids, detailId);
  } finally {
    await browser.close().catch(() => {});
    await server.cleanup();
  }
}

async function run(server, browser, ids, detailId) {
  const cycles = [];
  let writer;
  const pages = await openPages(browser, server, detailId);
  try {
    writer = startWriter(server, ids);
    await sleep(3000);
    for (let c = 1; c <= CYCLES; c++) {
      const tDown = Date.now();
      if (MODE === 'kill') await server.kill();
      else await server.realtime({ ws: false, sse: false });
      await sleep(DOWN_MS);
      if (MODE === 'kill') await server.start();
      else await server.realtime({ ws: true, sse: true });
      const tBack = Date.now();
      await sleep(UP_MS - 3000);
      writer.pause();
      await sleep(500);
      const end = {};
      for (const [source, page] of Object.entries(pages)) end[source] = await convergence(page, server, detailId);
      const tEnd = Date.now();
      writer.resume();
      await sleep(1000);
      cycles.push({ c, tDown, tBack, tEnd, end });
      log(`cycle ${c}/${CYCLES}: ${Object.entries(end).map(([s, e]) => `${s} ${e.equal ? 'equal' : 'DIFFERS'}`).join(', ')}`);
    }
  } finally {
    await writer?.stop();
  }

  const results = { mode: MODE, cycles: CYCLES, downMs: DOWN_MS, upMs: UP_MS, writeEveryMs: WRITE_EVERY_MS, views: VIEWS, transports: {} };
  for (const [source, page] of Object.entries(pages)) {
    const b = await bench(page);
    const reqs = page.apiRequests;
    const per = cycles.map((cy, i) => {
      const connected = firstConnectedAfter(b.status, cy.tDown);
      const back = connected == null ? null : Math.max(0, connected - cy.tBack);
      // The writes since the writer resumed after the previous cycle's check (so the ones just
      // before the drop, whose events it may have cut, count too) up to this cycle's check.
      const dead = MODE === 'kill' ? [cy.tDown, cy.tBack] : null;
      const staleWrites = staleness(writer.writes, b.seen, i === 0 ? 0 : cycles[i - 1].tEnd, cy.tEnd, dead);
      const stale = staleWrites.map((w) => w.ms);
      const downUntil = connected ?? cy.tEnd;
      const minutes = (downUntil - cy.tDown) / 60_000;
      const n = reqs.filter((r) => r.t >= cy.tDown && r.t < downUntil).length;
      // Fetches querywire started while not connected, after the flush of events received before
      // the drop (maxWaitMs 1 s): the polls.
      const pollFrom = cy.tDown + 1500;
      const polls = b.fetches.filter(([at]) => at >= pollFrom && at < downUntil).length;
      const retries = b.retries.filter(([at]) => at >= cy.tDown && at < downUntil).length;
      const sockUp = b.socket.find(([at, up]) => up && at >= cy.tBack - 1000)?.[0];
      const socketBack = sockUp == null ? null : Math.max(0, sockUp - cy.tBack);
      const statuses = [...new Set(b.status.filter(([at]) => at >= cy.tDown && at <= downUntil).map(([, s]) => s))];
      return {
        backMs: back,
        socketBackMs: socketBack,
        staleMaxMs: stale.length ? Math.max(...stale) : 0,
        staleReadableMaxMs: staleWrites.length ? Math.max(...staleWrites.map((w) => w.readableMs)) : 0,
        polls,
        pollsPerView4s: downUntil - pollFrom > 0 ? polls / VIEWS / ((downUntil - pollFrom) / 4000) : 0,
        retries,
        writes: stale.length,
        requests: n,
        notConnectedMs: downUntil - cy.tDown,
        reqPerMin: minutes > 0 ? n / minutes : 0,
        statuses,
        equal: cy.end[source].equal,
        // For reading a cycle afterwards: times relative to the drop.
        timeline: {
          backAt: cy.tBack - cy.tDown,
          status: b.status.filter(([at]) => at >= cy.tDown - 1000 && at <= cy.tEnd).map(([at, st]) => [at - cy.tDown, st]),
          requests: reqs.filter((r) => r.t >= cy.tDown && r.t < cy.tEnd).map((r) => [r.t - cy.tDown, r.path]),
          slowWrites: staleWrites.filter((w) => w.ms > 2000).map((w) => [w.t - cy.tDown, w.id, w.ms, w.readableMs]),
          fetches: b.fetches.filter(([at]) => at >= cy.tDown && at < cy.tEnd).map(([at, h]) => [at - cy.tDown, h]),
          retries: b.retries.filter(([at]) => at >= cy.tDown && at < cy.tEnd).map(([at, h]) => [at - cy.tDown, h]),
        },
      };
    });
    const backs = per.map((p) => p.backMs);
    const stales = per.map((p) => p.staleMaxMs);
    const rpm = per.map((p) => p.reqPerMin);
    const readable = per.map((p) => p.staleReadableMaxMs);
    const ppv = per.map((p) => p.pollsPerView4s);
    results.transports[source] = {
      per,
      visibility: b.visibility,
      back: { p50: pct(backs, 50), p99: pct(backs, 99) },
      socketBack: source === 'supabase' ? { p50: pct(per.map((p) => p.socketBackMs), 50), p99: pct(per.map((p) => p.socketBackMs), 99) } : null,
      stale: { p50: pct(stales, 50), p99: pct(stales, 99) },
      staleReadable: { p50: pct(readable, 50), p99: pct(readable, 99) },
      pollsPerView4s: { p50: pct(ppv, 50), p99: pct(ppv, 99) },
      reqPerMin: { p50: pct(rpm, 50), p99: pct(rpm, 99) },
      allEqual: per.every((p) => p.equal),
      missedConnect: per.filter((p) => p.backMs == null).length,
    };
  }
  for (const p of Object.values(pages)) await closePage(p);

  results.when = new Date().toISOString();
  results.machine = `${os.cpus().length} CPU ${os.cpus()[0]?.model?.split(' ').slice(0, 2).join(' ') ?? ''} · load avg ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`;
  results.command = `nice -n 10 node bench/outage.mjs --cycles=${CYCLES} --down=${DOWN_MS / 1000} --up=${UP_MS / 1000} --mode=${MODE}${TRANSPORTS.join(',') !== 'ws,sse,supabase' ? ` --transports=${TRANSPORTS}` : ''}`;
  write(results);
}

// ---- the report ------------------------------------------------------------------------------

const s1 = (ms) => (ms == null ? 'n/a' : (ms / 1000).toFixed(1));
const verdict = (ok) => (ok ? 'met' : '**missed**');

function table(r) {
  const kill = r.mode === 'kill';
  const lines = [
    `| transport | (a) back → \`connected\`, s | (b) longest staleness, s${kill ? ' (minus the time the server was dead)' : ''} | (c) polls per view per 4 s while away | all requests / min / page while away (TanStack retries) | pages = DB every cycle | statuses while away |`,
    '| --- | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  const two = (x, f = s1) => `${f(x.p50)} / ${f(x.p99)}`;
  const f2 = (x) => (x == null ? 'n/a' : x.toFixed(2));
  const f1 = (x) => (x == null ? 'n/a' : x.toFixed(1));
  for (const [src, t] of Object.entries(r.transports)) {
    const statuses = [...new Set(t.per.flatMap((p) => p.statuses))].join(', ');
    const sock = t.socketBack ? ` (supabase-js socket ${two(t.socketBack)})` : '';
    const retries = t.per.reduce((n, p) => n + p.retries, 0);
    const stale = kill ? `${two(t.stale)} (${two(t.staleReadable)})` : two(t.stale);
    lines.push(`| ${src} | ${two(t.back)}${sock} | ${stale} | ${two(t.pollsPerView4s, f2)} | ${two(t.reqPerMin, f1)} (${retries} in all) | ${t.allEqual ? 'yes' : `**no** (${t.per.filter((p) => !p.equal).length} cycles)`} | ${statuses} |`);
  }
  return `p50 / p99 over the cycles.\n\n${lines.join('\n')}`;
}

function verdicts(r) {
  const kill = r.mode === 'kill';
  const lines = ['| target | result | verdict |', '| --- | --- | --- |'];
  const ts = Object.entries(r.transports);
  const worst = (f) => Math.max(...ts.map(([, t]) => f(t) ?? Infinity));
  const stale = worst((t) => t.stale.p99);
  lines.push(`| staleness p99 ≤ 7 s on every transport | worst p99 ${s1(stale)} s | ${verdict(stale <= TARGETS.staleMs)} |`);
  if (kill) {
    const readable = worst((t) => t.staleReadable.p99);
    lines.push(`| the same, not counting the time the server was dead (nothing can be fetched then) | worst p99 ${s1(readable)} s | ${verdict(readable <= TARGETS.staleMs)} |`);
  }
  for (const src of ['ws', 'sse']) {
    const t = r.transports[src];
    if (t) lines.push(`| ${src}: server back → connected p99 ≤ 11 s | ${s1(t.back.p99)} s${t.missedConnect ? `, ${t.missedConnect} cycles never connected` : ''} | ${verdict(t.back.p99 != null && t.back.p99 <= TARGETS.backMs && !t.missedConnect)} |`);
  }
  const sb = r.transports.supabase;
  if (sb) {
    const ok = sb.back.p99 != null && sb.socketBack?.p99 != null && sb.back.p99 <= sb.socketBack.p99 + 1500;
    lines.push(`| supabase: back → connected no worse than supabase-js's own loop | ours p99 ${s1(sb.back.p99)} s, supabase-js's socket p99 ${s1(sb.socketBack?.p99)} s (our status also waits for its channels to rejoin) | ${verdict(ok)} |`);
  }
  const polls = worst((t) => t.pollsPerView4s.p99);
  lines.push(`| polling cost ≤ 1 request per view per 4 s per page: querywire's polls | worst p99 ${polls.toFixed(2)} | ${verdict(polls <= TARGETS.perViewPer4s)} |`);
  const all = worst((t) => ((t.reqPerMin.p99 ?? Infinity) / 60) * 4 / r.views);
  lines.push(`| the same counting every request (event refetches cut by the drop, TanStack's retries of failed polls) | worst p99 ${all.toFixed(2)} | ${verdict(all <= TARGETS.perViewPer4s)} |`);
  const allEqual = ts.every(([, t]) => t.allEqual);
  lines.push(`| every page equals the database at the end of every cycle | ${allEqual ? 'all' : 'not all'} | ${verdict(allEqual)} |`);
  return lines.join('\n');
}

function svg(r) {
  const ts = Object.entries(r.transports);
  const W = r.mode === 'kill' ? 1160 : 900;
  const H = 300;
  const panels = [
    { title: '(a) server back → connected, s', key: 'backMs', target: TARGETS.backMs / 1000, max: 16 },
    { title: '(b) longest staleness per cycle, s', key: 'staleMaxMs', target: TARGETS.staleMs / 1000, max: Math.max(16, Math.ceil((r.downMs / 1000 + 8) / 4) * 4) },
    ...(r.mode === 'kill' ? [{ title: '(b) minus the time the server was dead, s', key: 'staleReadableMaxMs', target: TARGETS.staleMs / 1000, max: 16 }] : []),
    { title: '(c) polls per view per 4 s while away', key: 'pollsPerView4s', target: TARGETS.perViewPer4s, max: 2, raw: true },
  ];
  const colors = { ws: '#2563eb', sse: '#059669', supabase: '#d97706' };
  const pw = W / panels.length;
  const top = 40;
  const bottom = H - 40;
  let out = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`;
  out += `<rect width="${W}" height="${H}" fill="#fff"/>`;
  out += `<text x="10" y="16" font-size="13" font-weight="bold">querywire outage benchmark (${r.mode}, ${r.cycles} cycles of ${r.downMs / 1000} s down): dots = cycles, bar = p50, tick = p99, dashed = target</text>`;
  panels.forEach((p, i) => {
    const x0 = i * pw + 40;
    const x1 = (i + 1) * pw - 10;
    const y = (v) => bottom - (Math.min(v, p.max) / p.max) * (bottom - top);
    out += `<text x="${x0}" y="${top - 8}" font-weight="bold">${p.title}</text>`;
    out += `<line x1="${x0}" y1="${bottom}" x2="${x1}" y2="${bottom}" stroke="#999"/><line x1="${x0}" y1="${top}" x2="${x0}" y2="${bottom}" stroke="#999"/>`;
    for (let v = 0; v <= p.max; v += p.max / 4) out += `<text x="${x0 - 4}" y="${y(v) + 4}" text-anchor="end" fill="#666">${p.raw ? v.toFixed(1) : Math.round(v)}</text>`;
    out += `<line x1="${x0}" y1="${y(p.target)}" x2="${x1}" y2="${y(p.target)}" stroke="#dc2626" stroke-dasharray="4 3"/>`;
    const slot = (x1 - x0) / ts.length;
    ts.forEach(([src, t], j) => {
      const cx = x0 + slot * (j + 0.5);
      const vals = t.per.map((c) => (c[p.key] == null ? null : p.raw ? c[p.key] : c[p.key] / 1000)).filter((v) => v != null && Number.isFinite(v));
      const p50 = pct(vals, 50) ?? 0;
      const p99 = pct(vals, 99) ?? 0;
      out += `<rect x="${cx - slot * 0.3}" y="${y(p50)}" width="${slot * 0.6}" height="${bottom - y(p50)}" fill="${colors[src] ?? '#555'}" opacity="0.35"/>`;
      out += `<line x1="${cx - slot * 0.3}" y1="${y(p99)}" x2="${cx + slot * 0.3}" y2="${y(p99)}" stroke="${colors[src] ?? '#555'}" stroke-width="3"/>`;
      vals.forEach((v, k) => { out += `<circle cx="${cx - slot * 0.2 + (slot * 0.4 * k) / Math.max(1, vals.length - 1)}" cy="${y(v)}" r="2.5" fill="${colors[src] ?? '#555'}"/>`; });
      out += `<text x="${cx}" y="${bottom + 14}" text-anchor="middle">${src}</text>`;
      out += `<text x="${cx}" y="${bottom + 27}" text-anchor="middle" fill="#666">${p.raw ? p50.toFixed(2) : p50.toFixed(1)} / ${p.raw ? p99.toFixed(2) : p99.toFixed(1)}</text>`;
    });
  });
  return out + '</svg>\n';
}

function write(r) {
  fs.mkdirSync(OUT, { recursive: true });
  const jsonFile = path.join(OUT, 'outage.json');
  const all = fs.existsSync(jsonFile) ? JSON.parse(fs.readFileSync(jsonFile, 'utf8')) : {};
  // Per-cycle timelines (statuses, requests, fetches, slow writes) only with --timeline: they are large.
  all[r.mode] = args.timeline ? r : JSON.parse(JSON.stringify(r, (k, v) => (k === 'timeline' ? undefined : v)));
  fs.writeFileSync(jsonFile, JSON.stringify(all, null, 1));
  const svgName = `outage-${r.mode}.svg`;
  fs.writeFileSync(path.join(OUT, svgName), svg(r));
  console.log(table(r));
  console.log(verdicts(r));

  // bench/results.md: the section between the markers is this script's (bench/run.mjs keeps it).
  const START = '<!-- outage:start -->';
  const END = '<!-- outage:end -->';
  const mdFile = path.join(OUT, 'results.md');
  const md = fs.existsSync(mdFile) ? fs.readFileSync(mdFile, 'utf8') : '';
  const sections = Object.values(all).sort((a, b) => (a.mode === 'kill' ? -1 : b.mode === 'kill' ? 1 : 0)).map((x) => [
    `### ${x.mode === 'kill' ? 'Server killed and restarted' : 'Realtime switched off, HTTP API up'} (${x.cycles} cycles of ${x.downMs / 1000} s down, ${x.upMs / 1000} s up)`,
    '',
    `Run: ${x.when} · ${x.machine} · \`${x.command}\``,
    '',
    table(x),
    '',
    verdicts(x),
    '',
    `![outage benchmark, ${x.mode}](outage-${x.mode}.svg)`,
    '',
  ].join('\n'));
  const section = [
    START,
    '## Outage: nothing stale for long while realtime is down',
    '',
    'Generated by `npm run bench:outage` (`bench/outage.mjs`, see its header): the demo server (SQLite) goes away',
    'N times while a writer PATCHes a row of the first list page every 250 ms; the demo app is open on each',
    'transport (the list and one detail: two views). (a) is the time from the server answering again to the',
    "page's status `connected`; (b) the longest time, per cycle, between a write's answer and the page showing",
    'that version of the row or a later one (what a person sees); when the server is killed, also without the',
    'time it was dead (nothing can be fetched then: a row written just before the kill, whose event or refetch',
    'the kill cut, is stale for the whole outage whatever the client does); (c) the fetches querywire started',
    'while the page was not connected (its polls: the list and the doc each time), per view per 4 s, and',
    'separately every `/api/work_orders` request the page made then: also the refetches of events that arrived',
    "just before the drop, and TanStack Query's retries of failed fetches (the demo retries a failed query once).",
    'Each page is checked against the database at the end of every cycle (writer paused). The machine is shared',
    '(see the load average): the times are what a loaded 2-core VM gives.',
    'Raw numbers: `bench/outage.json`.',
    '',
    ...sections,
    END,
  ].join('\n');
  const i = md.indexOf(START);
  const j = md.indexOf(END);
  const next = i >= 0 && j > i ? md.slice(0, i) + section + md.slice(j + END.length) : `${md.trimEnd()}\n\n${section}\n`;
  fs.writeFileSync(mdFile, next);
  log(`wrote ${path.relative(ROOT, mdFile)}, ${path.relative(ROOT, path.join(OUT, svgName))}, ${path.relative(ROOT, jsonFile)}`);
}

if (args.from) {
  // Re-render bench/results.md and the charts from a saved bench/outage.json (no measuring).
  const saved = JSON.parse(fs.readFileSync(path.resolve(ROOT, args.from), 'utf8'));
  for (const r of Object.values(saved)) write(r);
} else main().catch((e) => {
  console.error(e);
  process.exit(1);
});
