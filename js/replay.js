// replayTrace: a trace that `rt.inspect` recorded (the devtools' "Export trace") replayed into a
// fresh engine on the trace's own clock, and its plans compared with the plans the live engine
// applied. The fresh engine is the ordinary `WasmRealtime` every app loads, driven through its
// ordinary exports: the replay adds nothing to the WebAssembly module (docs/SIZE.md). Needs no
// QueryClient; works in Node and browsers.
//
// The clock: the glue reads time only through `Date.now()`, and its one deadline is armed with the
// global `setTimeout` by the `timer` handler (src/clock.rs, src/driver.rs, js/loadWasm.js
// `engineTimer`). For the replay, which runs synchronously from first record to last, both are
// replaced by a virtual clock that stands at each record's time; the engine's timer fires where the
// live one did: at each recorded `plan` (the live engine applied a plan there). The real globals
// are put back before anything else can run (try/finally).
import { loadWasm, engineTimer } from './loadWasm.js'
import { createPlanDecoder } from './applyPlan.js'

/** JSON with object keys sorted: two plans are the same when these strings are equal. */
export function canonical(value) {
  return JSON.stringify(value, (_, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]]))
      : v)
}

/**
 * Replays `trace` (an object or its JSON text); `options` override the trace's engine options
 * (to try a fix: `{ debounceMs: 50 }`). Resolves `{ plans, recorded, same, firstDifference, errors, stats }`.
 */
export async function replayTrace(trace, options = {}) {
  const parsed = typeof trace === 'string' ? JSON.parse(trace) : trace
  if (!parsed || !Array.isArray(parsed.records)) {
    throw Object.assign(new TypeError('replayTrace: a trace is { version, options, records: [...] }'), { code: 'bad_trace', source: 'replay' })
  }
  const { WasmRealtime, writeText } = await loadWasm()
  const out = replay(WasmRealtime, writeText, parsed, options)
  const recorded = parsed.records.filter((r) => r?.kind === 'plan').map((r) => ({ t: r.t, plan: r.plan }))
  let firstDifference = -1
  const n = Math.max(out.plans.length, recorded.length)
  for (let i = 0; i < n; i++) {
    if (!out.plans[i] || !recorded[i] || canonical(out.plans[i].plan) !== canonical(recorded[i].plan)) {
      firstDifference = i
      break
    }
  }
  return { plans: out.plans, recorded, same: firstDifference === -1, firstDifference, errors: out.errors, stats: out.stats }
}

/** A record's time: a non-negative number, floored as the glue floors `Date.now()`. */
const timeOf = (r) => (typeof r?.t === 'number' && r.t >= 0 ? Math.floor(r.t) : undefined)
const str = (v) => (typeof v === 'string' ? v : '')
const id = (v) => (typeof v === 'number' && v >= 0 ? v : 0)

/**
 * The engine's options plus overrides, and the records, driven through a fresh `WasmRealtime`.
 * Replayed: `ingest`, `frame` (our own WebSocket / SSE frames), `subscribe`, `unsubscribe`, `scope`,
 * `flush`, `dispose`, `visible`, `mutation` / `settled`, and the `start` record's views, visibility
 * and pending mutations. Connection events are not in a trace (the transport's opens and closes),
 * so refetches that a reconnect or a `seq` gap caused live show up as a difference.
 */
function replay(WasmRealtime, writeText, trace, overrides) {
  const records = trace.records
  const engineOptions = { ...(trace.options && typeof trace.options === 'object' ? trace.options : {}), ...(overrides ?? {}) }
  let now = timeOf(records[0]) ?? 0
  const clock = virtualClock(() => now)
  const plans = []
  let errors = 0
  let engine
  clock.install()
  try {
    engine = new WasmRealtime(engineOptions)
    // A fresh engine's key table starts empty: one fresh decoder reads its plans in order. The
    // bytes are a view of wasm memory, so each plan is decoded at once.
    const decode = createPlanDecoder()
    engine.setHandlers({ plan: (bytes) => plans.push({ t: now, plan: decode(bytes) }), error: () => { errors++ }, timer: engineTimer(engine) })
    // A fresh engine starts visible (createRealtime passes the page's state; here the trace decides).
    engine.setVisible(true)
    // A frame crosses as our own transport's do (source 5 of `ingestInput`): its UTF-8 text is
    // written into the engine's input buffer in wasm memory (js/loadWasm.js writeText, as
    // js/createRealtime.js does).
    const frame = (text) => {
      const at = engine.inputBuffer(Math.max(text.length * 3, 1))
      engine.ingestInput(5, writeText(text, at), Date.now()) // the virtual clock's
    }
    const handles = new Map() // recorded view handle -> this engine's
    const open = (r) => {
      let h
      try { h = engine.subscribe(r?.view) } catch { return } // a malformed view opens nothing
      if (r?.handle !== undefined) handles.set(r.handle, h)
    }
    for (const r of records) {
      // Recorded times never go backwards for the engine (a clock step back would move deadlines).
      now = Math.max(now, timeOf(r) ?? now)
      switch (r?.kind) {
        case 'start':
          if (typeof r.visible === 'boolean') engine.setVisible(r.visible)
          for (const v of Array.isArray(r.views) ? r.views : []) open(v)
          for (const m of Array.isArray(r.mutations) ? r.mutations : []) engine.mutationStarted(id(m?.id), str(m?.keys))
          break
        case 'ingest': engine.ingestText(str(r.source), str(r.text)); break
        case 'frame': frame(str(r.text)); break
        case 'subscribe': open(r); break
        case 'unsubscribe':
          if (handles.has(r.handle)) {
            engine.unsubscribe(handles.get(r.handle))
            handles.delete(r.handle)
          }
          break
        case 'scope':
          try { engine.setScope(r.scope ?? null) } catch { errors++ }
          break
        // `rt.dispose()` flushes before it stops (the rest is the transport's business).
        case 'flush': case 'dispose': engine.flush(); break
        case 'visible': engine.setVisible(r.visible !== false); break
        // Optimistic updates: a mutation went pending (`keys`: its key hashes) / settled.
        case 'mutation': engine.mutationStarted(id(r.id), str(r.keys)); break
        case 'settled': engine.mutationSettled(id(r.id)); break
        // The live engine's timer fired here and applied a plan.
        case 'plan': clock.fire(); break
        default: break
      }
    }
    const stats = engine.stats()
    return { plans, errors, stats }
  } finally {
    if (engine) {
      // Nothing more is collected: the dispose's own flush is not part of the replay.
      try { engine.setHandlers({}); engine.dispose(); engine.free() } catch { /* restore the clock regardless */ }
    }
    clock.restore()
  }
}

/**
 * `Date.now`, `setTimeout` and `clearTimeout` on the virtual time `time()`. Timers armed while
 * installed only fire through `fire()`; none survives `restore()` (the engine is disposed by then).
 */
function virtualClock(time) {
  const g = globalThis
  const saved = { setTimeout: g.setTimeout, clearTimeout: g.clearTimeout, now: Date.now }
  const timers = new Map()
  let seq = 0
  return {
    install() {
      g.setTimeout = (fn, ms) => { const n = ++seq; timers.set(n, { at: time() + Math.max(0, Number(ms) | 0), fn }); return n }
      g.clearTimeout = (n) => { timers.delete(n) }
      Date.now = () => time()
    },
    /** Runs the earliest armed timer now (the glue keeps one; its callback re-arms as needed). */
    fire() {
      let next
      for (const e of timers) if (!next || e[1].at < next[1].at) next = e
      if (!next) return
      timers.delete(next[0])
      if (typeof next[1].fn === 'function') next[1].fn()
    },
    restore() {
      g.setTimeout = saved.setTimeout
      g.clearTimeout = saved.clearTimeout
      Date.now = saved.now
      timers.clear()
    },
  }
}
