import { applyPlan, createPlanDecoder } from './applyPlan.js'
import { loadWasm } from './loadWasm.js'
import { attachConnector, connectorHandlers } from './channelSync.js'
import { devChecks, watchKeyTypes } from './keys.js'
import { createTap, fetchSnapshot, isVisible, startedSince } from './trace.js'
import { watchMutations } from './mutations.js'
import { sharingAvailable, shareOptions, startShare } from './share.js'

// Options the engine reads as JSON. Functions and the QueryClient stay on this side.
function engineOptions(options) {
  const out = {}
  for (const [k, v] of Object.entries(options)) {
    if (k === 'queryClient' || k === 'onError' || k === 'shareConnection' || typeof v === 'function' || v === undefined) continue
    out[k] = v
  }
  return out
}

// The supabase-js and centrifuge-js connectors are loaded on their first use (import()), so an app
// that never calls `rt.connectSupabase` / `rt.connectCentrifuge` never loads them (a bundler puts each
// in a chunk of its own). Once a module has arrived, later calls attach synchronously.
const CONNECTORS = {
  connectSupabase: { source: 'supabase', load: () => import('./connectSupabase.js') },
  // The client events its connector reads, recorded while the module loads: an app calls
  // `centrifuge.connect()` right after `rt.connectCentrifuge`, and a final disconnect (a bad token)
  // or the first 'connecting' must not be missed because the connector was not listening yet.
  connectCentrifuge: { source: 'centrifugo', load: () => import('./connectCentrifuge.js'), early: ['connecting', 'connected', 'disconnected', 'error'] },
}
const connectorLoaded = {} // name -> the module's connect function
const connectorLoading = {} // name -> Promise of it
function loadConnector(name) {
  connectorLoading[name] ??= CONNECTORS[name].load().then(
    (m) => (connectorLoaded[name] = m[name]),
    (e) => { delete connectorLoading[name]; throw e }, // a failed load may be retried
  )
  return connectorLoading[name]
}

// Listens to `events` of an event-emitter client until stop(), which returns what it saw, in order,
// as [event, ctx] pairs (none for a client without `on`, or a connector that reads no such events).
function recordEarly(client, events = []) {
  const seen = []
  const offs = []
  if (client && typeof client.on === 'function') {
    for (const ev of events) {
      const fn = (ctx) => seen.push([ev, ctx])
      client.on(ev, fn)
      offs.push(() => (typeof client.removeListener === 'function' ? client.removeListener(ev, fn) : client.off?.(ev, fn)))
    }
  }
  return {
    stop() {
      for (const off of offs.splice(0)) {
        try { off() } catch { /* a client that cannot remove listeners */ }
      }
      return seen
    },
  }
}

// ---- the object path's data: what the core reads from a supabase-js payload ------------------------
// crates/core/src/columns.rs decides which columns of `new` / `old` each table's events need and
// defines the picked payload that `createRealtime` below writes; this side only copies them.
const enumerable = Object.prototype.propertyIsEnumerable
// A value JSON.stringify writes as an object member (the rest it leaves out).
function isMember(v) {
  const t = typeof v
  if (t === 'undefined' || t === 'function' || t === 'symbol') return false
  return t !== 'object' || v === null || typeof v.toJSON !== 'function' || JSON.stringify(v) !== undefined
}
// An object with a member whose name is not among `keys` (for `old`: a whole row, not the key alone).
function wholeRow(o, keys) {
  if (o === undefined || o === null) return false
  for (const k in o) if (enumerable.call(o, k) && keys.indexOf(k) < 0 && isMember(o[k])) return true
  return false
}
// An upper bound of the UTF-8 bytes JSON.stringify writes for `v` (a unit is at most 6 bytes, as an escape).
function sizeBound(v) {
  switch (typeof v) {
    case 'string': return 6 * v.length + 2
    case 'number': return 25
    case 'boolean': return 5
    case 'object': {
      if (v === null) return 4
      const t = JSON.stringify(v)
      return t === undefined ? 0 : 3 * t.length
    }
    default: return 0
  }
}
// The same for a row, or for the payload without its rows (`top`).
function membersBound(o, top) {
  let n = 2
  for (const k in o) n += 6 * k.length + 4 + (top && (k === 'new' || k === 'old') ? 0 : sizeBound(o[k]))
  return n
}
function hasMembers(o) {
  for (const k in o) if (enumerable.call(o, k) && isMember(o[k])) return true
  return false
}
// A row JSON.stringify writes as its own members (or null / left out), not through a toJSON.
function plainRow(o) {
  if (o === undefined || o === null) return true
  if (typeof o !== 'object') return false
  const proto = Object.getPrototypeOf(o)
  return (proto === Object.prototype || proto === null) && typeof o.toJSON !== 'function'
}
// `WasmRealtime.columns()`: [epoch, filler, keys, defaultColumns, defaultUpdateDiff, table, columns, updateDiff, ...]
function decodeNeeds(text, encoder) {
  const a = JSON.parse(text)
  const need = (cols, diff) => ({ cols, heads: cols.map((c) => encoder.encode(JSON.stringify(c) + ':')), diff: diff === 1 })
  const tables = new Map()
  for (let i = 5; i + 2 < a.length; i += 3) tables.set(a[i], need(a[i + 1], a[i + 2]))
  return { epoch: a[0], filler: encoder.encode(JSON.stringify(a[1]) + ':0'), keys: a[2], def: need(a[3], a[4]), tables }
}
const TOO_BIG = new Error('picked payload over 1 MiB')

function toReport(e) {
  return { code: e?.code ?? 'internal', message: e?.message ?? String(e), source: e?.source ?? 'querywire' }
}

/**
 * Creates an engine bound to `options.queryClient`. Resolves once the WebAssembly module is loaded.
 * See docs/API.md ("createRealtime"); every option but queryClient is optional.
 */
export async function createRealtime(options = {}) {
  const { queryClient, onError } = options
  if (!queryClient || typeof queryClient.getQueryCache !== 'function') {
    throw new TypeError('createRealtime: options.queryClient must be a TanStack Query QueryClient')
  }
  const { WasmRealtime, memory } = await loadWasm()
  const engine = new WasmRealtime(engineOptions(options))
  engine.setVisible(isVisible()) // once at creation; later changes come from the listener below
  // One connection per browser (js/share.js); where Web Locks or BroadcastChannel are missing, the
  // option is off, or realtime is (`enabled: false`: each tab polls, there is nothing to share),
  // `share` stays null and nothing below changes.
  const shareOpts = options.enabled === false ? null : shareOptions(options.shareConnection)
  const share = shareOpts && sharingAvailable() ? await startShare(engine, shareOpts) : null

  // rt.inspect's feed; every `tap.on &&` below is the whole cost while nothing inspects.
  const tap = createTap()
  const report = (e) => {
    const err = toReport(e)
    if (tap.on) tap.emit({ kind: 'error', error: err })
    if (typeof onError === 'function') {
      try { onError(err) } catch { /* a throwing onError must not stop the engine */ }
    } else {
      console.warn(`[querywire] ${err.code} (${err.source}): ${err.message}`)
    }
  }

  const statusListeners = new Set()
  const cleanups = []
  let disposed = false
  // The page's visibility and the window's `online` event reach the engine from here: the glue
  // holds no DOM listener, and the core decides what each means (a flush on visible, a reconnect
  // intent). Node and SSR have neither target; the engine then stays an always-visible page.
  listen(typeof document === 'undefined' ? undefined : document, 'visibilitychange', () => {
    const visible = isVisible()
    if (tap.on) tap.emit({ kind: 'visible', visible })
    engine.setVisible(visible)
  })
  listen(typeof window === 'undefined' ? undefined : window, 'online', () => engine.online())
  function listen(target, type, on) {
    if (typeof target?.addEventListener !== 'function') return
    const listener = () => { if (!disposed) on() }
    target.addEventListener(type, listener)
    cleanups.push(() => target.removeEventListener(type, listener))
  }
  // What the connectors (supabase-js, centrifuge-js, any other) share with the engine.
  const host = {
    connectors: new Map(),
    report,
    // Shared (`shareConnection`), a payload goes with its channel: the core forwards it to the other
    // tabs (leader) and applies it only on this tab's channels.
    ingest: (source, payload, channel) => {
      if (!share || channel === undefined) return rt.ingest(source, payload)
      if (disposed) return
      let text
      try { text = JSON.stringify(payload) } catch { return rt.ingest(source, payload) } // reported there
      if (tap.on) tap.emit({ kind: 'ingest', source: String(source), text: text ?? 'null' })
      engine.connectorIngest(String(channel), String(source), text ?? 'null')
    },
    // A connector that shares (`share: true`, supabase-js) attached: with `shareConnection` only
    // the leader tab's opens channels, every tab's; or detached.
    attached: (id) => {
      if (!share) return
      engine.shareConnector(id)
      share.connect()
    },
    detached: () => { if (!disposed) share?.disconnect() },
    onDispose: (off) => cleanups.push(off),
    get disposed() { return disposed },
  }

  // Every callback below may call back into `rt`: the engine calls them with nothing borrowed and
  // applies what they call in order (src/driver.rs).
  const decodePlan = createPlanDecoder()

  // Payload text is written straight into a buffer in wasm memory (TextEncoder.encodeInto) and
  // crosses as a length: no per-payload allocation or copy by the binding. The buffer's address
  // stays valid until a longer payload asks for a bigger one; memory growth only swaps the
  // ArrayBuffer, which the view below follows.
  const SOURCE_INDEX = { supabase: 0, event: 1, envelope: 2, centrifugo: 3, invalidate: 4 }
  const encoder = new TextEncoder()
  let inputAt = 0
  let inputCap = 0
  let inputView = null
  function passText(source, text) {
    const index = SOURCE_INDEX[source]
    if (index === undefined || !memory || text.length > 1048576) {
      engine.ingestText(source, text) // an unknown source or an oversized text: the engine reports it
      return
    }
    // UTF-8 of a UTF-16 string is at most three bytes per unit
    engine.ingestInput(index, encodeAt(text, inputBytes(text.length * 3), 0))
  }
  // Writes `text` as UTF-8 at `at` of `view`; returns the end. ASCII goes by a loop (in Chromium
  // several times faster than encodeInto for payload-sized strings), the rest from the first other
  // unit by encodeInto.
  function encodeAt(text, view, at) {
    const n = text.length
    let k = 0
    for (; k < n; k++) {
      const c = text.charCodeAt(k)
      if (c >= 0x80) break
      view[at + k] = c
    }
    if (k === n) return at + n
    return at + k + encoder.encodeInto(k === 0 ? text : text.slice(k), view.subarray(at + k)).written
  }
  // The input buffer's view, at least `min` bytes; growing it keeps what was written.
  function inputBytes(min) {
    if (min > inputCap) {
      inputCap = Math.max(min, inputCap * 2, 8192)
      inputAt = engine.inputBuffer(inputCap)
      inputView = null
    }
    if (inputView === null || inputView.buffer !== memory.buffer) inputView = new Uint8Array(memory.buffer, inputAt, inputCap)
    return inputView
  }

  // The object path (crates/core/src/columns.rs "The picked payload"): a supabase-js payload is
  // written as the columns the core reads, byte by byte into the input buffer. Anything this does
  // not handle (broadcasts, rows that are not plain objects, values JSON.stringify throws on, an
  // inspector listening) crosses whole, so every error stays the text path's.
  let needs = null // the core's needs per table, read again when it says they changed
  let out = null // the input buffer being written
  let at = 0
  const HEAD = encoder.encode('{"table":')
  const EVENTS = { INSERT: encoder.encode(',"eventType":"INSERT"'), UPDATE: encoder.encode(',"eventType":"UPDATE"'), DELETE: encoder.encode(',"eventType":"DELETE"') }
  const NEW = encoder.encode(',"new":')
  const OLD = encoder.encode(',"old":')
  const TRUE = encoder.encode('true')
  const FALSE = encoder.encode('false')
  const NULL = encoder.encode('null')
  function room(n) {
    if (at + n <= out.length) return
    if (at + n > 1048576) throw TOO_BIG // the whole payload reports it
    out = inputBytes(Math.max(at + n, out.length * 2))
  }
  function put(bytes) {
    room(bytes.length)
    for (let i = 0; i < bytes.length; i++) out[at++] = bytes[i]
  }
  function putByte(b) {
    room(1)
    out[at++] = b
  }
  function putText(t) { // any string, as UTF-8
    room(t.length * 3)
    at = encodeAt(t, out, at)
  }
  function putString(s) { // as JSON.stringify writes it
    const n = s.length
    room(n + 2)
    const start = at
    out[at++] = 34
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c < 0x20 || c === 34 || c === 92 || c >= 0x80) {
        at = start
        return putText(JSON.stringify(s))
      }
      out[at++] = c
    }
    out[at++] = 34
  }
  function putNumber(v) {
    if (v >= 0 && v <= 0x7fffffff && (v | 0) === v) {
      let len = 1
      for (let x = v; x >= 10; x = (x / 10) | 0) len++
      room(len)
      let p = at + len
      let x = v
      do {
        out[--p] = 48 + (x % 10)
        x = (x / 10) | 0
      } while (x > 0)
      at += len
    } else putText(Number.isFinite(v) ? '' + v : 'null')
  }
  // A member's value as JSON.stringify writes it; false (nothing written) where it leaves the member out.
  function putValue(v) {
    switch (typeof v) {
      case 'string': putString(v); return true
      case 'number': putNumber(v); return true
      case 'boolean': put(v ? TRUE : FALSE); return true
      case 'object': {
        if (v === null) { put(NULL); return true }
        const t = JSON.stringify(v)
        if (t === undefined) return false
        putText(t)
        return true
      }
      case 'bigint': throw new TypeError('BigInt') // as JSON.stringify does
      default: return false
    }
  }
  function putMember(head, v, first) { // head: `"name":` as bytes; nothing written when left out
    const mark = at
    if (at !== first) putByte(44)
    put(head)
    if (!putValue(v)) at = mark
  }
  // Pick: `o`'s members among the needed columns.
  function putPicked(o, need) {
    putByte(123)
    const first = at
    const { cols, heads } = need
    for (let i = 0; i < cols.length; i++) {
      const v = o[cols[i]]
      if (v === undefined || (typeof v === 'object' && v !== null && !enumerable.call(o, cols[i]))) continue
      putMember(heads[i], v, first)
    }
    if (at === first && hasMembers(o)) put(needs.filler)
    putByte(125)
  }
  function putRow(head, row, need) {
    if (row === undefined) return
    put(head)
    if (row === null) put(NULL)
    else putPicked(row, need)
  }
  // The picked payload's length in the input buffer, or -1: send it whole.
  function writePicked(p) {
    if (p === null || typeof p !== 'object' || p.type != null) return -1
    const proto = Object.getPrototypeOf(p)
    if ((proto !== Object.prototype && proto !== null) || typeof p.toJSON === 'function') return -1
    const table = p.table
    const ev = p.eventType
    if (typeof table !== 'string' || (ev !== 'INSERT' && ev !== 'UPDATE' && ev !== 'DELETE')) return -1
    const nw = p.new
    const old = p.old
    if (!plainRow(nw) || !plainRow(old)) return -1
    // The 1 MiB limit is the whole payload's: one that might pass it crosses whole and is measured.
    let bound = membersBound(p, true)
    if (nw !== undefined && nw !== null) bound += membersBound(nw)
    if (old !== undefined && old !== null) bound += membersBound(old)
    if (bound > 1048576) return -1
    const need = needs.tables.get(table) ?? needs.def
    if (ev === 'UPDATE' && need.diff && wholeRow(old, needs.keys)) {
      // Its changed columns matter and can be known: both rows as they are (columns.rs "Whole rows").
      const text = JSON.stringify({ table, eventType: ev, new: nw, old })
      return encodeAt(text, inputBytes(text.length * 3), 0)
    }
    out = inputBytes(1024)
    at = 0
    put(HEAD)
    putString(table)
    put(EVENTS[ev])
    putRow(NEW, nw, need)
    putRow(OLD, old, need)
    putByte(125)
    return at
  }
  // True when the payload crossed picked.
  function passPicked(payload) {
    if (!memory || tap.on) return false // an inspector records payloads as they came
    needs ??= decodeNeeds(engine.columns(), encoder)
    let len
    try { len = writePicked(payload) } catch { return false }
    if (len < 0) return false
    if (engine.ingestPicked(len, needs.epoch)) return true
    needs = null // the options changed what is read
    return false
  }
  const handlers = {
    plan(bytes) {
      let applied
      try {
        // Decoded in full first: the bytes are a view of wasm memory, valid until JS calls back.
        const plan = decodePlan(bytes)
        if (!tap.on) applied = applyPlan(queryClient, plan)
        else {
          const before = fetchSnapshot(queryClient)
          applied = applyPlan(queryClient, plan)
          tap.emit({ kind: 'plan', plan, applied, refetched: startedSince(queryClient, before), stats: engine.stats() })
        }
      } catch (e) {
        report({ code: 'apply_failed', message: String(e?.message ?? e), source: 'queryClient' })
        return
      }
      engine.recordApplied(applied.invalidations, applied.patches)
    },
    error: report,
    status(s) {
      if (tap.on) tap.emit({ kind: 'status', status: s })
      for (const cb of [...statusListeners]) {
        try { cb(s) } catch (e) { report({ code: 'listener_failed', message: String(e?.message ?? e), source: 'onStatus' }) }
      }
    },
    share(message) {
      // `channels`: this tab's channel set changed (announce it); anything else is for the other tabs.
      if (message?.t === 'channels') share?.channels()
      else share?.send(message)
    },
    ...connectorHandlers(host),
  }
  engine.setHandlers(handlers)
  const views = new Map() // handle -> view, for an inspector's start record
  let scope = options.scope
  const channelsNow = () => ({ channels: engine.channels() })

  const rt = {
    ingest(source, payload) {
      if (disposed) return
      if (source === 'supabase' && passPicked(payload)) return
      let text
      try {
        text = JSON.stringify(payload)
      } catch (e) {
        // A cyclic or BigInt payload cannot be read; it is reported and counted like any bad input.
        engine.recordInvalid(String(source), `payload cannot be serialised: ${e?.message ?? e}`)
        return
      }
      if (tap.on) tap.emit({ kind: 'ingest', source: String(source), text: text ?? 'null' })
      passText(String(source), text ?? 'null')
    },
    ingestText(source, text) {
      if (disposed) return
      // Anything but a string is read as the text String() makes of it (bad_json, counted).
      const t = typeof text === 'string' ? text : String(text)
      if (tap.on) tap.emit({ kind: 'ingest', source: String(source), text: t })
      passText(String(source), t)
    },
    flush() {
      if (disposed) return
      if (tap.on) tap.emit({ kind: 'flush' })
      engine.flush()
    },
    dispose() {
      if (disposed) return
      disposed = true
      share?.dispose() // hands the lead (and the connection) to another tab first
      if (tap.on) tap.emit({ kind: 'dispose' })
      engine.dispose() // flushes, closes the connector's channels, reports 'disconnected'
      statusListeners.clear()
      tap.clear()
      for (const off of cleanups.splice(0)) off()
    },
    stats() {
      return engine.stats()
    },
    subscribe(view) {
      if (disposed) return () => {}
      const handle = engine.subscribe(view)
      const closeCheck = keyCheck ? keyCheck.opened(view) : undefined
      views.set(handle, view)
      if (tap.on) tap.emit({ kind: 'subscribe', handle, view, ...channelsNow() })
      let done = false
      return () => {
        if (done) return
        done = true
        views.delete(handle)
        engine.unsubscribe(handle)
        if (tap.on) tap.emit({ kind: 'unsubscribe', handle, ...channelsNow() })
        closeCheck?.()
      }
    },
    setScope(next) {
      if (disposed) return
      engine.setScope(next)
      scope = next
      if (tap.on) tap.emit({ kind: 'scope', scope: next, ...channelsNow() })
    },
    status() {
      return engine.status()
    },
    onStatus(cb) {
      statusListeners.add(cb)
      return () => statusListeners.delete(cb)
    },
    connectWebSocket(url, opts = {}) {
      return connectOwn('connectWebSocket', url, opts)
    },
    connectEventSource(url, opts = {}) {
      return connectOwn('connectEventSource', url, opts)
    },
    connectSupabase(supabase, opts = {}) {
      return connectLazy('connectSupabase', supabase, opts)
    },
    connectCentrifuge(centrifuge, opts = {}) {
      return connectLazy('connectCentrifuge', centrifuge, opts)
    },
    shareRole() {
      return share && !disposed ? share.role() : 'off'
    },
    /** Attaches a JS-held connector (docs/CONNECTORS.md); returns its port. */
    attachConnector(connector) {
      attachments++
      return attachConnector(engine, host, connector)
    },
    // Observation (docs/API.md): a `start` record with the state now, then every record until the
    // returned function is called. The frame handler crosses from wasm only while someone listens.
    inspect(listener) {
      if (disposed || typeof listener !== 'function') return () => {}
      const start = { t: Date.now(), kind: 'start', options: { ...engineOptions(options), scope }, status: engine.status(), stats: engine.stats(),
        channels: engine.channels(), views: [...views].map(([handle, view]) => ({ handle, view })), visible: isVisible(),
        mutations: [...mutations].map(([id, keys]) => ({ id, keys })) }
      try { listener(start) } catch { /* as in emit */ }
      return tap.add(listener,
        () => engine.setHandlers({ ...handlers, frame: (text) => tap.emit({ kind: 'frame', text }) }),
        () => { if (!disposed) engine.setHandlers(handlers) })
    },
  }
  // Development only: one warning for a view whose doc query is cached under another id type.
  const keyCheck = devChecks() ? watchKeyTypes(queryClient) : undefined
  if (keyCheck) cleanups.push(keyCheck.stop)
  // Optimistic updates: pending mutations and the keys they name (the core decides what waits).
  const mutations = new Map() // id -> keys (JSON text), for an inspector's start record
  cleanups.push(watchMutations(queryClient, {
    mutationStarted(id, keys) {
      mutations.set(id, keys)
      if (tap.on) tap.emit({ kind: 'mutation', id, keys })
      engine.mutationStarted(id, keys)
    },
    mutationSettled(id) {
      mutations.delete(id)
      if (tap.on) tap.emit({ kind: 'settled', id })
      engine.mutationSettled(id)
    },
  }))

  // Our own transports live in Rust; only the token function stays here. One at a time: a new
  // connect replaces the previous one, and the returned function disconnects only its own.
  let connection = 0
  function connectOwn(method, url, opts) {
    if (disposed) return () => {}
    const { token, ...rest } = opts ?? {}
    const tokenFn = typeof token === 'function' ? token : typeof token === 'string' ? () => token : undefined
    engine[method](String(url), engineOptions(rest), tokenFn)
    share?.connect()
    const mine = ++connection
    return () => {
      if (mine !== connection || disposed) return
      share?.disconnect()
      engine.disconnect()
    }
  }
  // A connector whose module is still loading attaches when it arrives, unless it was cancelled
  // first: by its disconnect function, by dispose, or by a connector attached after the call (as
  // a later connect replaces an earlier one). Views opened meanwhile are the engine's: it opens
  // their channels on attach. The disconnect function is returned at once, as the contract says.
  let attachments = 0 // rt.attachConnector calls and lazy connects so far
  let loads = Promise.resolve() // settles when every connector load begun so far has attached or given up
  function connectLazy(name, client, opts) {
    if (disposed) return () => {}
    const connect = connectorLoaded[name]
    if (connect) return connect(rt, client, opts)
    const mine = ++attachments
    let cancelled = false
    let off
    const early = recordEarly(client, CONNECTORS[name].early)
    const load = loadConnector(name).then((connect) => {
      const seen = early.stop()
      if (cancelled || disposed || mine !== attachments) return
      try {
        off = connect(rt, client, opts, seen)
      } catch (e) {
        report({ code: 'connector_failed', message: String(e?.message ?? e), source: CONNECTORS[name].source })
      }
    }, (e) => {
      if (cancelled || disposed) return
      report({ code: 'load_failed', message: `${name}: could not load its module: ${e?.message ?? e}`, source: CONNECTORS[name].source })
    })
    loads = Promise.all([loads, load]).then(() => {})
    return () => {
      if (cancelled) return
      cancelled = true
      early.stop()
      off?.()
    }
  }

  // Tests and the benchmark read the wasm engine directly (`rt._engine.channels()`); the shim does not.
  Object.defineProperty(rt, '_engine', { value: engine })
  // Tests await the connector modules a connect call is loading (resolved at once when none is).
  Object.defineProperty(rt, '_connectorsLoaded', { get: () => loads })
  return rt
}
