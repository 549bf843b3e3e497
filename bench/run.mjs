#!/usr/bin/env node
// querywire benchmark: the WebAssembly engine (the real package, js/index.js + pkg/) against a careful
// plain-JavaScript implementation of the same contract core (bench/baseline/), side by side in one
// headless Chromium run. Prints a table, writes bench/results.md and bench/results.svg.
//
//   node bench/run.mjs [--quick] [--only=ingest,flush,refetch,latency,memory,size,init]
//                      [--baseline-only] [--out=bench] [--from=bench/results.json (re-render only)]
//
// Needs: /usr/bin/chromium (Debian), node_modules/playwright-core, node_modules/@tanstack/query-core,
// and for the engine pkg/querywire_bg.wasm + js/index.js (bash scripts/build.sh). Without the engine it
// says so, measures the baseline alone and exits with status 2.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = Object.fromEntries(process.argv.slice(2).map((a) => {
  const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
  if (!m) { console.error('unknown argument ' + a); process.exit(64); }
  return [m[1], m[2] ?? true];
}));
const QUICK = !!args.quick;
const ONLY = args.only ? new Set(String(args.only).split(',')) : null;
const OUT = path.resolve(ROOT, args.out || 'bench');
const want = (s) => !ONLY || ONLY.has(s);
const log = (...a) => console.error('[bench]', ...a);

// ---------------------------------------------------------------------------------------------
// static server (repo root)

const MIME = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm', '.json': 'application/json', '.map': 'application/json', '.svg': 'image/svg+xml', '.css': 'text/css',
};

function startServer() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const p = path.normalize(path.join(ROOT, decodeURIComponent(url.pathname)));
    if (!p.startsWith(ROOT + path.sep) && p !== ROOT) { res.writeHead(403).end(); return; }
    fs.stat(p, (err, st) => {
      if (err || !st.isFile()) { res.writeHead(404, { 'content-type': 'text/plain' }).end('not found'); return; }
      res.writeHead(200, { 'content-type': MIME[path.extname(p)] || 'application/octet-stream', 'cache-control': 'no-store' });
      fs.createReadStream(p).pipe(res);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// ---------------------------------------------------------------------------------------------
// helpers

const median = (xs) => { const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b); if (!s.length) return NaN; const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const fmt = (x, d = 2) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : Number(x).toFixed(d));
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);
const kb = (n) => (n / 1024).toFixed(1) + ' KB';
const mb = (n) => (Number.isFinite(n) ? (n / 1048576).toFixed(1) + ' MB' : 'n/a');
const gz = (buf) => zlib.gzipSync(buf, { level: 9 }).length;

function fileSize(rel) {
  const p = path.join(ROOT, rel);
  if (!fs.existsSync(p)) return null;
  const b = fs.readFileSync(p);
  return { file: rel, raw: b.length, gzip: gz(b) };
}

// ---------------------------------------------------------------------------------------------

function writeReport(results) {
  const report = render(results);
  console.log(report.text);
  fs.mkdirSync(OUT, { recursive: true });
  // The outage section is bench/outage.mjs's (between its markers) and "One connection per browser"
  // is bench/share.mjs's: both are kept as they are (share's goes before "## Method", where it writes it).
  const prev = fs.existsSync(path.join(OUT, 'results.md')) ? fs.readFileSync(path.join(OUT, 'results.md'), 'utf8') : '';
  let md = report.md;
  const share = prev.indexOf('## One connection per browser');
  const method = md.indexOf('\n## Method');
  if (share >= 0 && method >= 0) {
    const next = prev.indexOf('\n## ', share + 1);
    md = md.slice(0, method + 1) + prev.slice(share, next >= 0 ? next + 1 : undefined).trimEnd() + '\n\n' + md.slice(method + 1);
  }
  const outage = prev.indexOf('<!-- outage:start -->');
  fs.writeFileSync(path.join(OUT, 'results.md'), outage >= 0 ? `${md.trimEnd()}\n\n${prev.slice(outage)}` : md);
  fs.writeFileSync(path.join(OUT, 'results.svg'), report.svg);
  log(`wrote ${path.relative(ROOT, path.join(OUT, 'results.md'))}, results.svg`);
}

async function main() {
  if (args.from) {
    // re-render the table, results.md and results.svg from a saved results.json (no measuring)
    writeReport(JSON.parse(fs.readFileSync(path.resolve(ROOT, args.from), 'utf8')));
    return;
  }
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    console.error('bench: playwright-core is not installed (npm install); it is a devDependency. ' + e.message);
    process.exit(1);
  }
  if (!fs.existsSync('/usr/bin/chromium')) {
    console.error('bench: /usr/bin/chromium not found (Debian: apt-get install chromium). Not downloading a browser.');
    process.exit(1);
  }
  const server = await startServer();
  const base = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: false, // the flag below selects the new headless mode explicitly
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--no-first-run', '--enable-precise-memory-info', '--js-flags=--expose-gc'],
  });
  const results = { date: new Date().toISOString(), host: `${os.cpus().length} CPU ${os.cpus()[0]?.model ?? ''}`.trim(), loadavg: os.loadavg(), browser: browser.version(), quick: QUICK };
  let status = 0;
  try {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const loaded = new Set();
    page.on('request', (r) => { const u = new URL(r.url()); if (/^\/(js|pkg)\//.test(u.pathname)) loaded.add(u.pathname.slice(1)); });
    page.on('pageerror', (e) => log('page error:', e.message));
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') log('page console:', m.text()); });
    await page.goto(base + '/bench/page.html');
    await page.waitForFunction(() => window.bench && window.bench.ready, null, { timeout: 30000 });
    results.hasGc = await page.evaluate(() => window.bench.hasGc);

    // the engine
    const missing = ['pkg/querywire_bg.wasm', 'pkg/querywire.js', 'pkg/querywire_wasm.js', 'js/index.js'].filter((f) => !fs.existsSync(path.join(ROOT, f)));
    let engine = { ok: false, error: args['baseline-only'] ? '--baseline-only given' : 'missing files: ' + missing.join(', ') };
    if (!args['baseline-only'] && missing.length === 0) engine = await page.evaluate(() => window.bench.loadEngine());
    results.engine = engine;
    if (!engine.ok) {
      console.error('\n*** bench: the querywire engine is not available: ' + engine.error.split('\n')[0]);
      console.error('*** build it with `bash scripts/build.sh` (pkg/querywire_bg.wasm, pkg/querywire.js, pkg/querywire_wasm.js, js/index.js).');
      console.error('*** measuring the plain-JS baseline alone; every ratio is n/a.\n');
      status = 2;
    } else {
      log('engine loaded; rt methods:', engine.api.join(', '), '; wasm memory visible:', engine.wasmMemory);
    }
    results.shimFiles = [...loaded].sort();
    const engines = engine.ok ? ['querywire', 'baseline'] : ['baseline'];
    const reps = QUICK ? 3 : 9;

    if (want('ingest')) {
      log('ingest cost per event…');
      results.ingest = await page.evaluate((o) => window.bench.ingest(o), { n: QUICK ? 5000 : 20000, reps, engines });
    }
    if (want('flush')) {
      log('flush cost vs cache size and ops…');
      results.flush = await page.evaluate((o) => window.bench.flushSweep(o), { reps: QUICK ? 3 : 9, engines });
    }
    if (want('refetch')) {
      log('refetch counts…');
      results.refetch = await page.evaluate((o) => window.bench.refetches(o), { engines });
    }
    if (want('latency')) {
      log('latency…');
      results.latencyDefault = await page.evaluate((o) => window.bench.latency(o), { reps: QUICK ? 3 : 7, engines });
      results.latencyZero = await page.evaluate((o) => window.bench.latency(o), { debounceMs: 0, reps: QUICK ? 5 : 15, engines });
    }
    await ctx.close();
    if (want('memory')) {
      // a fresh page per engine, so wasm memory grown by the earlier sections does not count
      const total = QUICK ? 100000 : 1000000;
      log(`memory after ${total} events…`);
      results.memory = {};
      for (const k of ['stream-only', ...engines]) {
        const c = await browser.newContext();
        const p = await c.newPage();
        await p.goto(base + '/bench/page.html');
        await p.waitForFunction(() => window.bench && window.bench.ready);
        if (k === 'querywire') await p.evaluate(() => window.bench.loadEngine());
        Object.assign(results.memory, await p.evaluate((o) => window.bench.memory(o), { total, kinds: [k], checkpoints: QUICK ? [50000, 100000] : [100000, 500000, 1000000] }));
        await c.close();
      }
    }

    if (want('init')) {
      log('module init…');
      results.init = {};
      for (const k of engines) {
        const samples = [];
        for (let i = 0; i < (QUICK ? 3 : 7); i++) {
          const c = await browser.newContext();
          const p = await c.newPage();
          await p.goto(`${base}/bench/init.html?engine=${k}`);
          const r = await p.evaluate(() => window.initResult);
          await c.close();
          if (!r.ok) throw new Error(`init ${k}: ${r.error}`);
          samples.push(r.ms);
        }
        results.init[k] = { medianMs: median(samples), samples };
      }
    }
  } finally {
    await browser.close();
    server.close();
  }

  if (want('plans') && results.engine.ok) {
    // fairness: the two cores must produce the same plans for the same stream
    log('comparing flush plans (bench/compare-plans.mjs)…');
    const { spawnSync } = await import('node:child_process');
    results.plans = [];
    for (const a of [['--n=2000', '--seed=7'], ['--n=20000', '--seed=3'], ['--n=2000', '--seed=7', '--patch=false']]) {
      const r = spawnSync(process.execPath, [path.join(ROOT, 'bench/compare-plans.mjs'), ...a], { encoding: 'utf8' });
      results.plans.push({ args: a.join(' '), same: r.status === 0, output: (r.stdout + r.stderr).trim() });
    }
  }
  if (want('size')) {
    // What the package ships for `querywire` (package.json's exports: dist/index.js, the shim, the
    // glue and the wasm in one minified file, scripts/build-js.mjs) when it is built; else the js/
    // files the bench page loaded, the glue and the wasm.
    const entry = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).exports['.'].default.replace(/^\.\//, '');
    const built = !entry.startsWith('js/') && fs.existsSync(path.join(ROOT, entry));
    const shim = built ? [fileSize(entry)] : (results.shimFiles.length ? results.shimFiles : ['js/index.js']).filter((f) => f.startsWith('js/')).map(fileSize).filter(Boolean);
    results.size = {
      wasm: fileSize('pkg/querywire_bg.wasm'),
      wasmInEntry: built, // dist/index.js holds it (as a string): counted once, in the entry
      glue: built ? null : fileSize('pkg/querywire.js'),
      shim,
      baseline: ['bench/baseline/core.js', 'bench/baseline/apply.js'].map(fileSize),
    };
  }

  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, 'results.json'), JSON.stringify(results, null, 1));
  writeReport(results);
  process.exitCode = status;
}

// ---------------------------------------------------------------------------------------------
// report

function render(R) {
  const rows = []; // [section, metric, querywire, baseline, ratio, target, verdict]
  const bars = []; // { label, ratio, target }
  const add = (...r) => rows.push(r.map((x) => (x === undefined || x === null ? '' : String(x))));
  const verdict = (ok) => (ok === null ? 'n/a' : ok ? 'met' : 'MISSED');
  const has = !!R.engine?.ok;

  if (R.ingest) {
    const n = R.ingest.nsPerEvent;
    const parse = n.parse;
    const qt = n['querywire:text'], bt = n['baseline:text'], qo = n['querywire:object'], bo = n['baseline:object'];
    const rt = ratio(qt, bt), ro = ratio(qo, bo), rp = ratio(qt, parse);
    add('ingest', `text path, ns/event (${R.ingest.n} events, ${R.ingest.avgBytes.toFixed(0)} B avg)`, fmt(qt, 0), fmt(bt, 0), fmt(rt), '≤ 0.50×', verdict(has ? rt <= 0.5 : null));
    add('ingest', 'text path vs JSON.parse alone (floor)', fmt(qt, 0), `parse ${fmt(parse, 0)}`, fmt(rp), '≤ 1.00× of parse', verdict(has ? rp <= 1 : null));
    add('ingest', 'baseline text path vs JSON.parse alone', '', fmt(bt, 0), fmt(ratio(bt, parse)), 'context', '');
    add('ingest', 'object path (rt.ingest), ns/event', fmt(qo, 0), fmt(bo, 0), fmt(ro), '≤ 1.00×', verdict(has ? ro <= 1 : null));
    bars.push({ label: 'ingest, text path', ratio: rt, target: 0.5, ok: rt <= 0.5 }, { label: 'ingest text / JSON.parse (not baseline)', ratio: rp, target: 1, ok: rp <= 1 },
      { label: 'ingest, object path', ratio: ro, target: 1, ok: ro <= 1 });
  }
  if (R.flush) {
    const P = R.flush.points;
    for (const p of P) {
      const q = p.ms.querywire, b = p.ms.baseline;
      const unit = p.cache + p.keys;
      const isTarget = p.cache === 5000 && p.ops === 15000;
      add('flush', `cache ${p.cache}, ${p.keys} keys: ms (ns per cache+key: qw ${fmt((q * 1e6) / unit, 0)}, js ${fmt((b * 1e6) / unit, 0)})`,
        fmt(q, 2), fmt(b, 2), fmt(ratio(q, b)), isTarget ? '≤ 0.50× and < 16 ms' : 'linear', isTarget ? verdict(has ? q < 16 && ratio(q, b) <= 0.5 : null) : '');
      if (isTarget) bars.push({ label: `flush 15k keys / 5k cache (${fmt(q, 0)} ms)`, ratio: ratio(q, b), target: 0.5, ok: q < 16 && ratio(q, b) <= 0.5 });
      if (p.cache === 20000 && p.ops === 1000) bars.push({ label: 'flush 1k keys / 20k cache', ratio: ratio(q, b), target: null, ok: null });
    }
    // Not the product: the marginal cost of one more key must not depend on the cache size. Compare
    // (ms(5,001 keys) - ms(1,001 keys)) / 4,000 at cache 5,000 and at cache 20,000: about 1 when the
    // flush is linear in cache + ops, about 4 if every key scanned the whole cache.
    const at = (c, o) => P.find((p) => p.cache === c && p.ops === o);
    if (at(5000, 1000) && at(5000, 5000) && at(20000, 1000) && at(20000, 5000)) {
      const m = (k, c) => (at(c, 5000).ms[k] - at(c, 1000).ms[k]) / 4000;
      const g = (k) => m(k, 20000) / m(k, 5000);
      add('flush', 'per-key marginal cost at cache 20,000 / at cache 5,000 (product would be ≈ 4)', fmt(g('querywire')), fmt(g('baseline')), '', '≈ 1 (linear)', has ? verdict(g('querywire') < 2) : 'n/a');
      const pc = (k) => (at(20000, 1000).ms[k] - at(5000, 1000).ms[k]) / 15000;
      add('flush', 'marginal cost per cached query, ns (cache 5,000 → 20,000, 1,001 keys)', fmt(pc('querywire') * 1e6, 0), fmt(pc('baseline') * 1e6, 0), fmt(ratio(pc('querywire'), pc('baseline'))), 'context', '');
      add('flush', 'marginal cost per key, ns (1,001 → 5,001 keys, cache 5,000)', fmt(m('querywire', 5000) * 1e6, 0), fmt(m('baseline', 5000) * 1e6, 0), fmt(ratio(m('querywire', 5000), m('baseline', 5000))), 'context', '');
    }
    const ph = R.flush.phases;
    if (ph) {
      const b = ph['baseline-phases'], q = ph['querywire-phases'];
      add('flush', 'breakdown at 15,001 keys / 5,000 cache: core (wasm: plan + encode; baseline: core.flush) + apply, ms', q ? `${fmt(q.coreMs, 1)} + ${fmt(q.applyMs, 1)}` : '', `${fmt(b.coreMs, 1)} + ${fmt(b.applyMs, 1)}`, '', 'context', '');
      if (q) add('flush', '  apply alone: the shim decoding and applying the engine\'s binary plan (js/applyPlan.js) vs baseline applyPlan, ms', fmt(q.applyMs, 1), fmt(b.applyMs, 1), fmt(ratio(q.applyMs, b.applyMs)), 'context', '');
    }
  }
  if (R.refetch) {
    for (const s of R.refetch) {
      const q = s.runs.querywire, b = s.runs.baseline, nv = s.runs.naive;
      add('refetch', `${s.name}: queryFn runs (min ${s.minimum}, naive ${nv}, ${s.activeQueries} active queries)`, q ?? 'n/a', b, fmt(ratio(q, b)), `= ${s.minimum}`, verdict(has ? q === s.minimum : null));
    }
  }
  if (R.latencyDefault) {
    const q = R.latencyDefault.querywire?.medianMs, b = R.latencyDefault.baseline?.medianMs;
    add('latency', 'event → refetch start, default window (300 ms), ms', fmt(q, 1), fmt(b, 1), fmt(ratio(q, b)), 'context', '');
    const q0 = R.latencyZero.querywire?.medianMs, b0 = R.latencyZero.baseline?.medianMs;
    add('latency', 'event → refetch start, debounceMs 0, ms', fmt(q0, 2), fmt(b0, 2), fmt(ratio(q0, b0)), 'context', '');
  }
  if (R.memory) {
    const floor = R.memory['stream-only'];
    const last = (k) => R.memory[k]?.points.at(-1);
    for (const k of ['querywire', 'baseline']) if (!R.memory[k]) R.memory[k] = null;
    const heapDelta = (k) => (R.memory[k] ? last(k).heap - R.memory[k].heap0 : NaN);
    const ev = last('baseline')?.events;
    bars.push({ label: 'JS heap growth, 1M events', ratio: ratio(heapDelta('querywire'), heapDelta('baseline')), target: null, ok: null });
    add('memory', `JS heap growth after ${ev?.toLocaleString('en')} events (generator alone: ${mb(last('stream-only').heap - floor.heap0)})`, mb(heapDelta('querywire')), mb(heapDelta('baseline')), fmt(ratio(heapDelta('querywire'), heapDelta('baseline'))), 'bounded', '');
    for (const p of R.memory.baseline.points) {
      const qp = R.memory.querywire?.points.find((x) => x.events === p.events);
      add('memory', `  heap at ${p.events.toLocaleString('en')} events`, qp ? mb(qp.heap) : 'n/a', mb(p.heap), '', '', '');
    }
    if (R.memory.querywire) {
      const w = R.memory.querywire;
      add('memory', 'wasm linear memory: start → ' + w.points.map((p) => p.events.toLocaleString('en')).join(' → ') + ' events', w.wasm0 === null ? 'not exposed' : [w.wasm0, ...w.points.map((p) => p.wasm)].map(mb).join(' → '), '—', '', 'bounded', '');
      add('memory', `time for the ${ev?.toLocaleString('en')} events (incl. generating them), s`, fmt(w.ms / 1000, 1), fmt(R.memory.baseline.ms / 1000, 1), fmt(ratio(w.ms, R.memory.baseline.ms)), 'context', '');
    }
  }
  if (R.size) {
    const s = R.size;
    const shimRaw = s.shim.reduce((a, f) => a + f.raw, 0), shimGz = s.shim.reduce((a, f) => a + f.gzip, 0);
    const bRaw = s.baseline.reduce((a, f) => a + (f?.raw ?? 0), 0), bGz = s.baseline.reduce((a, f) => a + (f?.gzip ?? 0), 0);
    if (s.wasm) {
      const own = s.wasmInEntry ? { raw: 0, gzip: 0 } : s.wasm;
      const totRaw = own.raw + (s.glue?.raw ?? 0) + shimRaw, totGz = own.gzip + (s.glue?.gzip ?? 0) + shimGz;
      add('size', `wasm (pkg/querywire_bg.wasm${s.wasmInEntry ? `, inside ${s.shim[0]?.file}` : ''}) raw / gzip`, `${kb(s.wasm.raw)} / ${kb(s.wasm.gzip)}`, '', '', '', '');
      add('size', 'wasm-bindgen glue (pkg/querywire.js) raw / gzip', s.glue ? `${kb(s.glue.raw)} / ${kb(s.glue.gzip)}` : `in ${s.shim[0]?.file ?? 'n/a'}`, '', '', '', '');
      add('size', `shim (${s.shim.map((f) => f.file).join(', ')}) raw / gzip`, `${kb(shimRaw)} / ${kb(shimGz)}`, '', '', '', '');
      bars.push({ label: `size, gzip (${kb(totGz)})`, ratio: ratio(totGz, bGz), target: null, ok: totGz <= 40 * 1024 });
      add('size', '`querywire` entry (wasm + glue + shim), gzip (each file gzipped alone)', kb(totGz), `${kb(bGz)} (core.js+apply.js)`, fmt(ratio(totGz, bGz)), '≤ 40 KB gzip', verdict(totGz <= 40 * 1024));
      add('size', 'total, raw', kb(totRaw), kb(bRaw), fmt(ratio(totRaw, bRaw)), '', '');
    } else add('size', 'engine not built', 'n/a', `${kb(bRaw)} / ${kb(bGz)}`, '', '≤ 40 KB gzip', 'n/a');
  }
  if (R.plans) {
    for (const p of R.plans) {
      const summary = p.output.split('\n').filter((l) => /^(invalidate|patch):/.test(l)).map((l) => l.replace(/;.*$/, '')).join('; ');
      add('fairness', `same flush plans, stream ${p.args} (${summary})`, p.same ? 'identical' : 'DIFFER', '', '', 'identical', verdict(p.same));
    }
  }
  if (R.init) {
    const q = R.init.querywire?.medianMs, b = R.init.baseline?.medianMs;
    bars.push({ label: 'module init', ratio: ratio(q, b), target: 1.2, ok: ratio(q, b) <= 1.2 });
    add('init', 'import + create engine in a fresh page, ms', fmt(q, 1), fmt(b, 1), fmt(ratio(q, b)), '≤ 1.20×', verdict(has ? ratio(q, b) <= 1.2 : null));
  }

  const head = ['section', 'metric', 'querywire', 'JS baseline', 'ratio qw/js', 'target', 'verdict'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => c.padEnd(widths[i])).join(' | ');
  const sep = widths.map((w) => '-'.repeat(w)).join('-|-');
  const context = `${R.date} · ${R.host} · load avg ${R.loadavg.map((x) => x.toFixed(2)).join(' ')} · Chromium ${R.browser}${R.quick ? ' · QUICK run' : ''}` +
    `${R.hasGc ? '' : ' · no gc() exposed'}${R.engine?.ok ? '' : ' · ENGINE MISSING: ' + R.engine?.error.split('\n')[0]}`;
  const text = ['', 'querywire benchmark: wasm engine vs plain-JS baseline (medians; ratio < 1 means querywire is faster/smaller)', context, '', line(head), sep, ...rows.map(line), ''].join('\n');

  const mdRow = (r) => '| ' + r.map((c) => c.replace(/\|/g, '\\|')).join(' | ') + ' |';
  const md = [
    '# querywire benchmark results', '',
    'Generated by `npm run bench` (`node bench/run.mjs`): querywire (`js/index.js` + `pkg/`) and the plain-JS baseline',
    '(`bench/baseline/`) measured side by side in one headless Chromium run. Figures are medians of interleaved',
    'repetitions; the ratio column is querywire / baseline (below 1 = querywire faster or smaller). Absolute',
    'times are context only: they depend on the machine.', '',
    `Run: ${context}`, '',
    mdRow(head), '| ' + head.map(() => '---').join(' | ') + ' |', ...rows.map(mdRow), '',
    'Raw samples: `bench/results.json`. Chart: `bench/results.svg`.', '',
    '## Method', '',
    '- Stream: `bench/stream.js`, seeded supabase-js v2 `postgres_changes` payloads (4 tables, 4 tenants, 70% UPDATE /',
    '  20% INSERT / 10% DELETE, per-row versions; `work_orders` with REPLICA IDENTITY FULL, the others with only the',
    '  primary key in `old`). Both engines get `scope: { factoryId: \'f1\' }` and the same rules (`STREAM_RULES`).',
    '- Fairness: `bench/compare-plans.mjs` feeds the same stream to the wasm core and the baseline core and checks',
    '  that their flush plans are identical (the `fairness` rows). The baseline (`bench/baseline/core.js`) follows the',
    '  engine\'s reading of the contract where the contract leaves room (documented in the file).',
    '- Ingest: per event, timed over a synchronous loop (no timer fires inside it); fresh engine per repetition;',
    '  text path = querywire `WasmRealtime.ingestText` (what the Rust transports and `rt.ingest` use) vs baseline',
    '  `JSON.parse` + ingest; object path = `rt.ingest(\'supabase\', obj)` vs baseline `ingest(obj)`.',
    '- Flush: N inactive cached queries, M supabase DELETE events over distinct ids (M doc keys + 1 list head),',
    '  timed call of `flush()` including plan application to the QueryClient; fresh QueryClient per repetition.',
    '- Refetches: active `QueryObserver`s with a counting `queryFn` (20 ms); the minimum comes from an independent',
    '  oracle (`minimumRefetches` in `bench/page.mjs`); naive = `bench/baseline/naive.js`.',
    '- Latency: ingest of one INSERT to the start of the list head\'s `queryFn`.',
    '- Memory: `performance.memory.usedJSHeapSize` after `gc()` (`--enable-precise-memory-info --js-flags=--expose-gc`),',
    '  each engine in a fresh page; the wasm figure is `WebAssembly.Memory.buffer.byteLength` (a high-water mark:',
    '  linear memory never shrinks). Events are generated on the fly; `flush()` every 10,000 events.',
    '- Size: the `js/` and `pkg/` files the browser actually loaded, each gzipped alone at level 9.',
    '',
  ].join('\n');
  return { text, md, svg: svgChart(bars, context) };
}

function svgChart(bars, context) {
  const W = 820, rowH = 34, top = 58, left = 270, right = 70;
  const H = top + bars.length * rowH + 40;
  const max = Math.min(16, Math.max(2, ...bars.map((b) => (Number.isFinite(b.ratio) ? b.ratio : 0)), ...bars.map((b) => b.target || 0)) * 1.1);
  const x = (v) => left + ((W - left - right) * Math.min(v, max)) / max;
  const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
  let s = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12">\n`;
  s += `<rect width="100%" height="100%" fill="#fff"/>\n`;
  s += `<text x="12" y="22" font-size="15" font-weight="600">querywire / plain-JS baseline (time or size ratio; shorter is better)</text>\n`;
  s += `<text x="12" y="40" fill="#666" font-size="10">${esc(context)}</text>\n`;
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    s += `<text x="${left - 8}" y="${y + 18}" text-anchor="end">${esc(b.label)}</text>\n`;
    if (Number.isFinite(b.ratio)) {
      const fill = b.ok === null || b.ok === undefined ? '#8a8f98' : b.ok ? '#2e7d32' : '#d9534f';
      s += `<rect x="${left}" y="${y + 5}" width="${Math.max(1, x(b.ratio) - left)}" height="20" fill="${fill}"/>\n`;
      s += `<text x="${x(b.ratio) + 4}" y="${y + 19}">${b.ratio.toFixed(2)}×${b.ratio > max ? ' (clipped)' : ''}</text>\n`;
    } else s += `<text x="${left + 4}" y="${y + 19}" fill="#999">n/a (engine missing)</text>\n`;
    if (b.target) s += `<line x1="${x(b.target)}" x2="${x(b.target)}" y1="${y + 2}" y2="${y + 28}" stroke="#000" stroke-dasharray="3,2"/>\n`;
  });
  const y1 = top + bars.length * rowH + 6;
  s += `<line x1="${x(1)}" x2="${x(1)}" y1="${top}" y2="${y1}" stroke="#555"/>\n<text x="${x(1)}" y="${y1 + 14}" text-anchor="middle" fill="#555">1× (baseline)</text>\n`;
  s += `<text x="${W - 12}" y="${y1 + 28}" text-anchor="end" fill="#666" font-size="10">dashed: target ratio · green: target met · red: target missed · grey: no target</text>\n`;
  return s + '</svg>\n';
}

main().catch((e) => {
  console.error('bench failed:', e && e.stack ? e.stack : e);
  process.exit(1);
});
