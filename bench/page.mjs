// In-browser half of the benchmark (loaded by bench/page.html, driven by bench/run.mjs through
// window.bench). Each function measures querywire (the real package, /js/index.js) and the plain-JS
// baseline (bench/baseline/) side by side on the same inputs, in the same page, interleaved.
import { QueryClient, QueryObserver, partialMatchKey, hashKey } from '@tanstack/query-core';
import { applyPlan as baselineApply, BaselineRealtime } from './baseline/apply.js';
import { createNaiveHandler } from './baseline/naive.js';
import { createStream, generate, STREAM_RULES } from './stream.js';

const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const gc = () => { if (typeof window.gc === 'function') window.gc(); };
const median = (xs) => { const s = xs.slice().sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const noop = () => {};

let qw = null;
let qwError = null;

async function loadEngine() {
  try {
    qw = await import('/js/index.js');
    if (typeof qw.createRealtime !== 'function') throw new Error('/js/index.js has no createRealtime export');
    // smoke test: the wasm module must load
    const rt = await qw.createRealtime({ queryClient: new QueryClient() });
    const api = ['ingest', 'ingestText', 'flush', 'dispose', 'stats'].filter((m) => typeof rt[m] === 'function');
    if (typeof rt.ingestText !== 'function' && rt._engine && typeof rt._engine.ingestText === 'function') api.push('_engine.ingestText');
    await rt.dispose?.();
    return { ok: true, api, wasmMemory: (await wasmMemoryBytes(rt)) !== null };
  } catch (e) {
    qw = null;
    qwError = String((e && e.stack) || e);
    return { ok: false, error: qwError };
  }
}

/** WebAssembly.Memory size, when the engine exposes it (rt.wasmMemory(), or the wasm-bindgen module's exports). */
async function wasmMemoryBytes(rt) {
  try {
    if (rt && typeof rt.wasmMemory === 'function') {
      const m = rt.wasmMemory();
      if (typeof m === 'number') return m;
      if (m && m.buffer) return m.buffer.byteLength;
    }
    if (qw && typeof qw.wasmMemory === 'function') {
      const m = qw.wasmMemory();
      if (typeof m === 'number') return m;
      if (m && m.buffer) return m.buffer.byteLength;
    }
    // wasm-bindgen --target web: calling the default init again returns the already-initialised exports
    const glue = await import('/pkg/querywire.js');
    if (glue.__wasm?.memory) return glue.__wasm.memory.buffer.byteLength;
    const exports = await glue.default({ module_or_path: '/pkg/querywire_bg.wasm' });
    if (exports && exports.memory instanceof WebAssembly.Memory) return exports.memory.buffer.byteLength;
  } catch (e) {
    /* not exposed */
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Engines behind one interface

const ENGINE_KINDS = ['querywire', 'baseline'];

async function makeEngine(kind, opts) {
  if (kind === 'querywire') {
    if (!qw) throw new Error('querywire engine not loaded: ' + qwError);
    const rt = await qw.createRealtime(opts);
    return {
      rt,
      ingest: (s, p) => rt.ingest(s, p),
      // the text path: rt.ingestText when public, else the wasm engine's ingestText (what the Rust
      // WebSocket/EventSource transports feed; rt.ingest itself JSON.stringifies and calls it)
      ingestText: typeof rt.ingestText === 'function' ? (s, t) => rt.ingestText(s, t)
        : rt._engine && typeof rt._engine.ingestText === 'function' ? (s, t) => rt._engine.ingestText(s, t) : null,
      flush: () => rt.flush(),
      dispose: () => rt.dispose(),
      stats: () => rt.stats(),
    };
  }
  if (kind === 'baseline') {
    const b = new BaselineRealtime(opts);
    return {
      rt: b,
      ingest: (s, p) => b.ingest(s, p),
      ingestText: (s, t) => b.ingestText(s, t),
      flush: () => b.flush(),
      dispose: () => b.dispose(),
      stats: () => b.stats(),
    };
  }
  if (kind === 'naive') {
    const n = createNaiveHandler(opts);
    return { rt: n, ingest: (s, p) => n.ingest(s, p), ingestText: (s, t) => n.ingestText(s, t), flush: noop, dispose: noop, stats: () => n.stats };
  }
  throw new Error('unknown engine ' + kind);
}

const STREAM_OPTS = { scope: { factoryId: 'f1' }, rules: STREAM_RULES, onError: noop };

// ---------------------------------------------------------------------------------------------
// 1. Ingest cost per event

async function ingest({ n = 20000, reps = 7, seed = 42, engines = ENGINE_KINDS } = {}) {
  const { objects, texts } = generate(n, { seed });
  const avgBytes = texts.reduce((a, t) => a + t.length, 0) / n;
  const cases = [['parse', null]];
  for (const k of engines) cases.push([k + ':text', k], [k + ':object', k]);
  const times = Object.fromEntries(cases.map(([c]) => [c, []]));
  let sink = 0;
  // Each case's timed loop is a function of its own (`new Function`: its own code and feedback),
  // so a call site in it sees one engine only. One loop shared by every case made its calls
  // polymorphic and cost the engine measured after another (issue 10, 2026-12-02: the baseline's
  // object path 565-610 ns/event in a page of its own, 675-710 ns beside querywire; its text path
  // 1,575-1,655 vs 1,705-1,765), which flattered querywire's ratios.
  const loops = new Map();
  const loopOf = (name) => {
    let f = loops.get(name);
    if (!f) {
      f = name === 'parse'
        ? new Function('texts', 'n', `/* ${name} */ let s = 0; for (let i = 0; i < n; i++) s += JSON.parse(texts[i]).errors === null ? 1 : 0; return s;`)
        : new Function('f', 'items', 'n', `/* ${name} */ for (let i = 0; i < n; i++) f('supabase', items[i]); return 0;`);
      loops.set(name, f);
    }
    return f;
  };
  const runCase = async (name, kind) => {
    if (name === 'parse') {
      const loop = loopOf(name);
      gc();
      const t0 = now();
      sink += loop(texts, n);
      return now() - t0;
    }
    const eng = await makeEngine(kind, { queryClient: new QueryClient(), ...STREAM_OPTS });
    const loop = loopOf(name);
    let dt;
    gc();
    if (name.endsWith(':text')) {
      if (!eng.ingestText) throw new Error(kind + ' has no ingestText');
      const t0 = now();
      loop(eng.ingestText, texts, n);
      dt = now() - t0;
    } else {
      const t0 = now();
      loop(eng.ingest, objects, n);
      dt = now() - t0;
    }
    const st = eng.stats();
    await eng.dispose();
    if (st.received !== n) throw new Error(`${name}: received ${st.received} != ${n}`);
    return dt;
  };
  // warm-up, then interleaved repetitions with a rotating order
  for (const [name, kind] of cases) await runCase(name, kind);
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < cases.length; i++) {
      const [name, kind] = cases[(i + r) % cases.length];
      times[name].push(await runCase(name, kind));
      await sleep(0);
    }
  }
  const out = { n, avgBytes, reps, nsPerEvent: {}, samplesMs: times, sink };
  for (const [name] of cases) out.nsPerEvent[name] = (median(times[name]) * 1e6) / n;
  // what each engine did with the stream (drops etc.), for the notes
  out.stats = {};
  for (const k of engines) {
    const eng = await makeEngine(k, { queryClient: new QueryClient(), ...STREAM_OPTS });
    for (let i = 0; i < n; i++) eng.ingest('supabase', objects[i]);
    out.stats[k] = eng.stats();
    await eng.dispose();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// 2. Flush cost vs cache size and ops per flush

function populate(qc, size) {
  // 80% work order docs (ids 0..), 10% list pages, 10% other docs
  const docs = Math.floor(size * 0.8);
  const lists = Math.floor(size * 0.1);
  let i = 0;
  for (; i < docs; i++) qc.setQueryData(['doc', 'work_orders', String(i)], { id: i, version: 1 });
  for (let p = 1; p <= lists; p++, i++) qc.setQueryData(['list', 'work_orders', 'f' + (1 + (p % 4)), { page: p }], { items: [] });
  for (let j = 0; i < size; i++, j++) qc.setQueryData(['doc', 'machines', String(j)], { id: j });
}

function deletePayload(id) {
  return {
    schema: 'public', table: 'work_orders', commit_timestamp: '2025-11-25T09:00:00.000+00:00', eventType: 'DELETE',
    new: {}, old: { id, factory_id: 'f1', title: 'x', status: 'open', qty: 1, version: 2 }, errors: null,
  };
}

let shim = null;

async function flushOnce(kind, cacheSize, ops) {
  const qc = new QueryClient();
  populate(qc, cacheSize);
  if (kind === 'querywire-phases') {
    // diagnostic: querywire's flush split where the shim takes over. The engine (WasmRealtime, as
    // createRealtime drives it) builds and encodes the plan; its plan handler, as createRealtime's,
    // decodes the binary plan and applies it (js/applyPlan.js createPlanDecoder + applyPlan).
    shim ??= { ...(await import('/js/applyPlan.js')), ...(await (await import('/js/loadWasm.js')).loadWasm()) };
    const e = new shim.WasmRealtime({ scope: { factoryId: 'f1' }, debounceMs: 600000, maxWaitMs: 600000 });
    const decode = shim.createPlanDecoder();
    let t1 = 0, t2 = 0, res = null;
    e.setHandlers({ plan: (bytes) => { t1 = now(); res = shim.applyPlan(qc, decode(bytes)); t2 = now(); }, error: noop });
    for (let j = 0; j < ops; j++) e.ingestText('supabase', JSON.stringify(deletePayload(j)));
    gc();
    const t0 = now();
    e.flush();
    e.dispose();
    e.free();
    qc.clear();
    return { ms: t2 - t0, coreMs: t1 - t0, applyMs: t2 - t1, invalidations: res?.invalidations, invalidated: NaN };
  }
  if (kind === 'baseline-phases') {
    const b = new BaselineRealtime({ queryClient: qc, scope: { factoryId: 'f1' }, debounceMs: 600000, maxWaitMs: 600000, onError: noop });
    for (let j = 0; j < ops; j++) b.ingest('supabase', deletePayload(j));
    gc();
    const t0 = now();
    const plan = b.core.flush(now());
    const t1 = now();
    const res = baselineApply(qc, plan);
    const t2 = now();
    b.dispose();
    qc.clear();
    return { ms: t2 - t0, coreMs: t1 - t0, applyMs: t2 - t1, invalidations: res.invalidations, invalidated: NaN };
  }
  const eng = await makeEngine(kind, { queryClient: qc, scope: { factoryId: 'f1' }, debounceMs: 600000, maxWaitMs: 600000, onError: noop });
  for (let j = 0; j < ops; j++) eng.ingest('supabase', deletePayload(j));
  gc();
  const t0 = now();
  const r = eng.flush();
  const tSync = now() - t0;
  if (r && typeof r.then === 'function') await r;
  const st = eng.stats();
  await eng.dispose();
  const invalidated = qc.getQueryCache().getAll().filter((q) => q.state.isInvalidated).length;
  qc.clear();
  return { ms: tSync, invalidations: st.invalidations, invalidated };
}

async function flushSweep({ reps = 5, points, engines = ENGINE_KINDS } = {}) {
  points = points || [
    [100, 1000], [1000, 1000], [5000, 1000], [20000, 1000],
    [5000, 10], [5000, 100], [5000, 5000], [5000, 15000], [5000, 20000], [20000, 5000],
  ];
  const out = [];
  for (const [cache, ops] of points) {
    const ms = Object.fromEntries(engines.map((k) => [k, []]));
    // phase split at the target point: baseline core vs baseline apply, querywire's engine vs its shim
    if (cache === 5000 && ops === 15000) {
      const ph = { 'baseline-phases': [], 'querywire-phases': [] };
      const kinds = engines.includes('querywire') ? Object.keys(ph) : ['baseline-phases'];
      for (let r = 0; r < reps; r++) for (const k of kinds) ph[k].push(await flushOnce(k, cache, ops));
      out.phases = {};
      for (const k of kinds) out.phases[k] = { coreMs: median(ph[k].map((x) => x.coreMs)), applyMs: median(ph[k].map((x) => x.applyMs)) };
    }
    const info = {};
    for (const k of engines) await flushOnce(k, Math.min(cache, 1000), Math.min(ops, 100)); // warm-up
    for (let r = 0; r < reps; r++) {
      for (let i = 0; i < engines.length; i++) {
        const k = engines[(i + r) % engines.length];
        const res = await flushOnce(k, cache, ops);
        ms[k].push(res.ms);
        info[k] = { invalidations: res.invalidations, invalidated: res.invalidated };
      }
    }
    out.push({ cache, ops, keys: ops + (ops > 0 ? 1 : 0), ms: Object.fromEntries(engines.map((k) => [k, median(ms[k])])), samples: ms, info });
  }
  return { points: out, phases: out.phases };
}

// ---------------------------------------------------------------------------------------------
// 3. Refetches: queryFn runs vs the minimum and vs the naive handler

const SEED002_RULES = [
  { table: 'daily_motivations', invalidate: [['daily-motivations', 'today']] },
  { table: 'check_ins', invalidate: [['goals'], ['dashboard'], ['analytics'], ['partners']] },
  { table: 'goals', invalidate: [['goals'], ['dashboard'], ['analytics']] },
  { table: 'daily_summaries', invalidate: [['dashboard'], ['analytics']] },
];

function sbPayload(eventType, table, row, old) {
  return {
    schema: 'public', table, commit_timestamp: '2025-11-25T09:00:00.000+00:00', eventType,
    new: eventType === 'DELETE' ? {} : row, old: old ?? (eventType === 'DELETE' ? row : eventType === 'UPDATE' ? { id: row.id } : {}), errors: null,
  };
}

function streamQueries() {
  const qs = [];
  for (const t of ['work_orders', 'work_order_items', 'machines', 'inspections']) qs.push(['list', t, 'f1', { page: 1 }]);
  qs.push(['list', 'work_orders', 'f1', { page: 2 }], ['list', 'work_orders', 'f2', { page: 1 }]);
  for (let i = 1; i <= 60; i++) qs.push(['doc', 'work_orders', String(i)]);
  for (let i = 1; i <= 20; i++) qs.push(['doc', 'machines', String(i)]);
  for (let i = 1; i <= 30; i++) qs.push(['work_orders', 'items', i], ['work_orders', 'inspections', i]);
  for (let i = 1; i <= 10; i++) qs.push(['inspection', i]);
  return qs;
}

function scenarios() {
  const tight = generate(2000, { seed: 7 }).objects;
  const paced = generate(500, { seed: 8 }).objects;
  return [
    {
      name: 'seed002 regenerate (DELETE+INSERT)', rules: SEED002_RULES, scope: {},
      queries: [['daily-motivations', 'today'], ['daily-motivations', 'history']],
      events: [sbPayload('DELETE', 'daily_motivations', { id: 10 }), sbPayload('INSERT', 'daily_motivations', { id: 11, text: 'Go' })],
    },
    {
      name: 'seed002 check-in cascade', rules: SEED002_RULES, scope: {},
      queries: [['goals', 'list'], ['goals', 'detail', 'g1'], ['dashboard'], ['analytics', 'weekly'], ['analytics', 'monthly'], ['partners'], ['profile']],
      events: [
        sbPayload('INSERT', 'check_ins', { id: 1, goal_id: 'g1' }), sbPayload('UPDATE', 'goals', { id: 'g1', progress: 3, version: 2 }),
        sbPayload('INSERT', 'daily_summaries', { id: 5 }), sbPayload('UPDATE', 'goals', { id: 'g1', progress: 4, version: 3 }),
      ],
    },
    { name: 'burst: 2,000 stream events in one tick', rules: STREAM_RULES, scope: { factoryId: 'f1' }, queries: streamQueries(), events: tight },
    { name: 'burst: 500 stream events over ~500 ms', rules: STREAM_RULES, scope: { factoryId: 'f1' }, queries: streamQueries(), events: paced, paced: true },
  ];
}

/** Independent oracle: the distinct active queries the events must refetch (updates of cached docs are patched). */
function minimumRefetches(sc) {
  const keys = [];
  const fill = (tpl, row) => {
    const walk = (t) => {
      if (typeof t === 'string') {
        const m = /^\{(\w+)\}$/.exec(t);
        if (m) { const v = row[m[1]]; if (v === undefined || v === null) throw 0; return v; }
        return t.replace(/\{(\w+)\}/g, (_, c) => { const v = row[c]; if (v === undefined || v === null) throw 0; return String(v); });
      }
      if (Array.isArray(t)) return t.map(walk);
      if (t && typeof t === 'object') return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, walk(v)]));
      return t;
    };
    try { return walk(tpl); } catch { return null; }
  };
  for (const p of sc.events) {
    const row = p.eventType === 'DELETE' ? p.old : p.new;
    const f = row.factory_id;
    if (sc.scope.factoryId && f !== undefined && f !== sc.scope.factoryId) continue;
    const rules = sc.rules.filter((r) => r.table === p.table && (!r.events || r.events.includes(p.eventType)));
    if (rules.length) {
      for (const r of rules) for (const t of r.invalidate) {
        const spec = Array.isArray(t) ? { queryKey: t } : t;
        const k = fill(spec.queryKey, row);
        if (k) keys.push({ k, exact: !!spec.exact });
      }
      continue;
    }
    const factory = f ?? sc.scope.factoryId;
    const list = factory === undefined ? ['list', p.table] : ['list', p.table, factory, { page: 1 }];
    const doc = ['doc', p.table, String(row.id)];
    if (p.eventType === 'INSERT') keys.push({ k: list });
    if (p.eventType === 'DELETE') keys.push({ k: list }, { k: doc });
    // UPDATE: a cached doc is patched when the changed columns are known (old holds more than the
    // primary key, REPLICA IDENTITY FULL); otherwise it must be refetched
    if (p.eventType === 'UPDATE' && Object.keys(p.old || {}).every((c) => c === 'id')) keys.push({ k: doc });
  }
  let n = 0;
  for (const q of sc.queries) {
    const h = hashKey(q);
    if (keys.some(({ k, exact }) => (exact ? hashKey(k) === h : partialMatchKey(q, k)))) n++;
  }
  return n;
}

async function runScenario(kind, sc) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Infinity, gcTime: Infinity } } });
  let runs = 0;
  const perKey = {};
  const unsubs = [];
  for (const key of sc.queries) {
    const data = { key: hashKey(key), version: 1 };
    qc.setQueryData(key, data);
    const obs = new QueryObserver(qc, {
      queryKey: key,
      queryFn: async () => {
        runs++;
        perKey[hashKey(key)] = (perKey[hashKey(key)] || 0) + 1;
        await sleep(20);
        return { ...data };
      },
    });
    unsubs.push(obs.subscribe(noop));
  }
  const eng = await makeEngine(kind, { queryClient: qc, rules: sc.rules, scope: sc.scope, onError: noop });
  const t0 = now();
  if (sc.paced) {
    for (let i = 0; i < sc.events.length; i += 10) {
      for (let j = i; j < i + 10 && j < sc.events.length; j++) eng.ingest('supabase', sc.events[j]);
      await sleep(10);
    }
  } else {
    for (const e of sc.events) eng.ingest('supabase', e);
  }
  const feedMs = now() - t0;
  await sleep(1200); // longer than maxWaitMs: the window has closed
  while (qc.isFetching() > 0) await sleep(10);
  await sleep(50);
  while (qc.isFetching() > 0) await sleep(10);
  const st = eng.stats();
  await eng.dispose();
  for (const u of unsubs) u();
  qc.clear();
  return { runs, feedMs, flushes: st.flushes, perKey };
}

async function refetches({ engines = ENGINE_KINDS } = {}) {
  const out = [];
  for (const sc of scenarios()) {
    const row = { name: sc.name, events: sc.events.length, activeQueries: sc.queries.length, minimum: minimumRefetches(sc), runs: {}, flushes: {} };
    for (const k of [...engines, 'naive']) {
      const r = await runScenario(k, sc);
      row.runs[k] = r.runs;
      row.flushes[k] = r.flushes;
    }
    out.push(row);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// 4. Latency event -> invalidation (queryFn start of the affected active query)

async function latency({ debounceMs, reps = 7, engines = ENGINE_KINDS } = {}) {
  const out = {};
  for (const k of engines) {
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Infinity } } });
    const key = ['list', 'work_orders', 'f1', { page: 1 }];
    qc.setQueryData(key, { items: [] });
    let resolveStart = null;
    const obs = new QueryObserver(qc, {
      queryKey: key,
      queryFn: async () => { const t = now(); if (resolveStart) resolveStart(t); await sleep(1); return { items: [] }; },
    });
    const unsub = obs.subscribe(noop);
    const opts = { queryClient: qc, scope: { factoryId: 'f1' }, onError: noop };
    if (debounceMs !== undefined) opts.debounceMs = debounceMs;
    const eng = await makeEngine(k, opts);
    const samples = [];
    for (let r = 0; r < reps + 1; r++) {
      const started = new Promise((res) => { resolveStart = res; });
      const t0 = now();
      eng.ingest('supabase', sbPayload('INSERT', 'work_orders', { id: 100000 + r, factory_id: 'f1', title: 't', version: 1 }));
      const t1 = await Promise.race([started, sleep(5000).then(() => NaN)]);
      resolveStart = null;
      if (r > 0) samples.push(t1 - t0); // the first is warm-up
      await sleep(30);
      while (qc.isFetching() > 0) await sleep(5);
    }
    await eng.dispose();
    unsub();
    out[k] = { medianMs: median(samples), samples };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// 5. Memory after many events at full speed

async function memory({ total = 1000000, chunk = 10000, kinds = ['stream-only', ...ENGINE_KINDS], checkpoints = [100000, 500000, 1000000] } = {}) {
  const heap = () => (performance.memory ? performance.memory.usedJSHeapSize : NaN);
  const out = {};
  for (const k of kinds) {
    const qc = new QueryClient();
    populate(qc, 1000);
    const stream = createStream({ seed: 99, mix: { update: 0.7, insert: 0.15, delete: 0.15 } });
    const eng = k === 'stream-only' ? null : await makeEngine(k, { queryClient: qc, ...STREAM_OPTS });
    for (let i = 0; i < 1000; i++) stream.next();
    gc(); await sleep(0); gc();
    const h0 = heap();
    const w0 = k === 'querywire' ? await wasmMemoryBytes(eng.rt) : null;
    const points = [];
    const t0 = now();
    for (let n = chunk; n <= total; n += chunk) {
      if (eng) {
        for (let i = 0; i < chunk; i++) eng.ingest('supabase', stream.next());
        const r = eng.flush();
        if (r && typeof r.then === 'function') await r;
      } else {
        for (let i = 0; i < chunk; i++) stream.next();
      }
      if (checkpoints.includes(n)) {
        gc(); await sleep(0); gc();
        points.push({ events: n, heap: heap(), wasm: k === 'querywire' ? await wasmMemoryBytes(eng.rt) : null });
      }
      if (n % 100000 === 0) await sleep(0);
    }
    const ms = now() - t0;
    const st = eng ? eng.stats() : null;
    if (eng) await eng.dispose();
    qc.clear();
    out[k] = { heap0: h0, wasm0: w0, points, ms, stats: st };
  }
  return out;
}

window.bench = { loadEngine, ingest, flushSweep, refetches, latency, memory, ready: true, hasGc: typeof window.gc === 'function' };
document.getElementById('log').textContent += '\nready';
