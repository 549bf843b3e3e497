#!/usr/bin/env node
// Where the time of "import + createRealtime in a fresh page" goes (bench/init.html times the total):
// each step timed separately in a fresh Chromium context, medians over N pages.
//
//   node bench/initprofile.mjs [--n=9] [--entry=/dist/index.js] [--compare=/js/index.js,/dist/index.js] [--work=ms] [--latency=ms]
//
// --latency=ms: every request takes ms more (Chromium's network emulation, as a page served from
// afar sees it; the server is on this machine): what a second request costs beyond localhost.
// --work=ms: the page spends ms on its own work (a busy loop) between the import and the engine's
// creation, for every engine alike: what an app's first render does while the wasm loads.
//
// Steps (bench/initprofile.html; on the sources): the glue's import, the import of the wasm as JS
// (pkg/querywire_wasm.js: parsing its string), its decoding to bytes, WebAssembly.compile,
// instantiate + the glue's start, the WasmRealtime constructor alone, the shim's import (js/index.js),
// its first createRealtime, then a second one (the shim's part, the engine being loaded). Also the whole of it in one go, as
// bench/init.html measures it, and the plain-JS baseline.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = Object.fromEntries(process.argv.slice(2).map((a) => { const m = /^--([^=]+)(?:=(.*))?$/.exec(a); return [m[1], m[2] ?? true]; }));
const N = Number(args.n ?? 9);
const ENTRY = String(args.entry ?? '/dist/index.js');
// --compare=/js/index.js,/dist/index.js: only the whole import + createRealtime, per entry, interleaved
const WORK = Number(args.work ?? 0)
const LATENCY = Number(args.latency ?? 0)
const COMPARE = args.compare ? String(args.compare).split(',') : null;
const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm', '.map': 'application/json' };

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const p = path.normalize(path.join(ROOT, decodeURIComponent(url.pathname)));
  if (!p.startsWith(ROOT + path.sep)) { res.writeHead(403).end(); return; }
  fs.stat(p, (err, st) => {
    if (err || !st.isFile()) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': MIME[path.extname(p)] || 'application/octet-stream', 'cache-control': 'no-store' });
    fs.createReadStream(p).pipe(res);
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;
const { chromium } = await import('playwright-core');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: false,
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--no-first-run'] });
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const rows = {};
const requests = new Set();
try {
  for (let i = 0; i < N; i++) {
    const runs = COMPARE ? [...COMPARE.map((e) => ['whole', e]), ['baseline', ENTRY]] : [['steps', ENTRY], ['whole', ENTRY], ['baseline', ENTRY]];
    for (const [mode, entry] of runs) {
      const c = await browser.newContext();
      const p = await c.newPage();
      if (LATENCY) {
        const cdp = await c.newCDPSession(p);
        await cdp.send('Network.enable');
        await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: LATENCY, downloadThroughput: -1, uploadThroughput: -1 });
      }
      if (i === 0 && mode === 'whole') p.on('request', (r) => requests.add(new URL(r.url()).pathname));
      await p.goto(`${base}/bench/initprofile.html?mode=${mode}&entry=${encodeURIComponent(entry)}${WORK ? `&work=${WORK}` : ''}`);
      const r = await p.evaluate(() => window.result);
      await c.close();
      if (!r.ok) throw new Error(`${mode} ${entry}: ${r.error}`);
      const tag = COMPARE && mode === 'whole' ? `${entry}: ` : `${mode}: `;
      for (const [k, v] of Object.entries(r.t)) (rows[tag + k] ??= []).push(v);
    }
  }
} finally {
  await browser.close();
  server.close();
}
console.log(`load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}, ${N} fresh pages each, entry ${ENTRY}${WORK ? `, app work ${WORK} ms` : ''}${LATENCY ? `, ${LATENCY} ms latency per request` : ''}`);
console.log('| step | median ms | min | max |\n| --- | ---: | ---: | ---: |');
const baseTotal = rows['baseline: total'] ? median(rows['baseline: total']) : NaN;
for (const [k, v] of Object.entries(rows)) console.log(`| ${k} | ${median(v).toFixed(1)} | ${Math.min(...v).toFixed(1)} | ${Math.max(...v).toFixed(1)} |${k.endsWith('total') ? ` ${(median(v) / baseTotal).toFixed(2)}× baseline` : ''}`);
// Paired: each round loads every entry once, in turn, so a difference within a round shares its load.
if (COMPARE?.length === 2) {
  const [a, b] = COMPARE.map((e) => rows[`${e}: total`])
  const d = a.map((x, i) => b[i] - x)
  console.log(`paired ${COMPARE[1]} − ${COMPARE[0]} (total, per round): median ${median(d).toFixed(1)} ms, ${d.filter((x) => x < 0).length}/${d.length} rounds faster`)
}
console.log('requests (whole):', [...requests].filter((u) => /^\/(js|pkg|dist)\//.test(u)).join(' '));
