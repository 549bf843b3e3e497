// First: modules are evaluated in import order, and loadWasm.js starts the wasm's compile when it is
// evaluated (the first module of dist/index.js to run, so the compile starts earlier).
import { loadWasm, engineTimer } from './loadWasm.js'
import { applyPlan, createPlanDecoder } from './applyPlan.js'
import { attachConnector, connectorHandlers } from './channelSync.js'
import { devChecks, watchKeyTypes } from './keys.js'
import { createTap, fetchSnapshot, isVisible, startedSince } from './trace.js'
import { watchMutations } from './mutations.js'
import { sharingAvailable, shareOptions, startShare } from './share.js'
import { ownTransport } from './transport.js'

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

// ---- the object path: a supabase-js payload as the typed slots the core reads ---------------------
// crates/core/src/columns.rs names, per table, the columns the core reads from `new` / `old`;
// crates/core/src/slots.rs defines the layout `writeSlots` (in createRealtime) fills, checks it and
// makes every decision about the values. This side only copies them.
// A row JSON.stringify writes as its own members (or null / left out), not through a toJSON.
function plainRow(o) {
  if (o === undefined || o === null) return true
  if (typeof o !== 'object') return false
  const proto = Object.getPrototypeOf(o)
  return (proto === Object.prototype || proto === null) && typeof o.toJSON !== 'function'
}
// `WasmRealtime.columns()`: [epoch, rowChoices, defaultColumns, defaultKeys, table, columns, keys, ...]
function decodeNeeds(text) {
  const a = JSON.parse(text)
  const tables = new Map()
  for (let i = 4; i + 2 < a.length; i += 3) tables.set(a[i], table(a[i + 1], a[i + 2]))
  return { epoch: a[0], rows: a[1], def: [a[2], a[3]], tables }
}
// A table's needs, with the shapes of its rows seen so far (`shapeOf`) and the last one seen per
// event and row (`new` or `old`), the guess for the next.
function table(cols, keys) {
  const none = { keys: [], pos: cols.map(() => -1), ids: keys.map(() => -1) }
  return { cols, keys, shapes: [[none]], guess: [none, none, none, none, none, none] }
}
// Whether Object.prototype has no enumerable property, so every key `for...in` gives of a plain
// object is its own (what JSON.stringify writes).
function protoClean() {
  for (const k in Object.prototype) return false // eslint-disable-line no-unreachable-loop
  return true
}
const WHOLE = new Error('sent whole') // thrown where JSON.stringify would throw: the text path reports it

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
  const { WasmRealtime, memory, writeText } = await loadWasm()
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
    ingest: (source, payload, channel, seq) => {
      if (!share || channel === undefined) return rt.ingest(source, payload)
      if (disposed) return
      let text
      try { text = JSON.stringify(payload) } catch { return rt.ingest(source, payload) } // reported there
      if (tap.on) tap.emit({ kind: 'ingest', source: String(source), text: text ?? 'null' })
      engine.connectorIngest(String(channel), String(source), text ?? 'null', typeof seq === 'number' ? seq : undefined)
    },
    // A connector that shares (`share: true`, supabase-js, centrifuge-js) attached: with
    // `shareConnection` only the leader tab's opens channels, every tab's (`client`: and only the
    // leader tab's client connects); or detached.
    attached: (id, client) => {
      if (!share) return
      engine.shareConnector(id, client === true)
      share.connect()
    },
    detached: () => { if (!disposed) share?.disconnect() },
    onDispose: (off) => cleanups.push(off),
    get disposed() { return disposed },
  }

  // Every callback below may call back into `rt`: the engine calls them with nothing borrowed and
  // applies what they call in order (src/driver.rs).
  const decodePlan = createPlanDecoder()
  const connectorCalls = connectorHandlers(host)

  // Payload text is written straight into a buffer in wasm memory (js/loadWasm.js writeText) and
  // crosses as a length: no per-payload allocation or copy by the binding. The buffer's address
  // stays valid until a longer payload asks for a bigger one.
  const SOURCE_INDEX = { supabase: 0, event: 1, envelope: 2, centrifugo: 3, invalidate: 4 }
  let inputAt = 0
  let inputCap = 0
  let inputView = null
  function passText(source, text) {
    const index = SOURCE_INDEX[source]
    if (busy || index === undefined || !memory || text.length > 1048576) {
      // called from inside the object path (passSlots), an unknown source or an oversized text (the
      // engine reports it): by the binding's copy
      engine.ingestText(source, text)
      return
    }
    engine.ingestInput(index, inputText(text), Date.now()) // the core's clock, read here
  }
  // Writes `text` into the input buffer; returns its byte length. UTF-8 of a UTF-16 string is at most
  // three bytes a unit.
  function inputText(text) {
    inputBytes(text.length * 3)
    return writeText(text, inputAt)
  }
  // The input buffer's view, at least `min` bytes; growing it keeps what was written.
  function inputBytes(min) {
    if (min > inputCap) {
      inputCap = Math.max(min, inputCap * 2, 8192)
      inputAt = engine.inputBuffer(inputCap)
      inputView = null
    }
    if (inputView === null || inputView.byteLength === 0) inputView = new Uint8Array(memory.buffer, inputAt, inputCap)
    return inputView
  }

  // The object path (crates/core/src/slots.rs): a supabase-js payload crosses as the values of the
  // columns the core reads, written as typed slots (a word per value in the slot buffer, the
  // value's JSON literal in the input buffer), not as JSON text. Anything this does not handle
  // (broadcasts, rows that are not plain objects, values JSON.stringify throws on, strings that need
  // an escape, an inspector listening) and anything the core refuses crosses whole as text, so
  // every error stays the text path's.
  let needs = null // the core's needs per table, read again when it says they changed
  let words = null // the slot buffer's view
  let wordsAt = 0
  let wordsCap = 0
  let out = null // the input buffer's view
  let at = 0 // bytes written
  let bound = 0 // an upper bound of the payload's JSON text in UTF-8 bytes
  // The payload's rows as JSON.stringify writes them, member by member in for-in order: `new`'s
  // from 0, then `old`'s (reused; `passSlots` lets go of the values once the payload has crossed).
  const names = []
  const values = []
  let nNew = 0
  let nOld = 0
  let shapeNew = null // their shapes (`shapeOf`)
  let shapeOld = null
  let held = 0 // values[0 .. held) may hold the payload's values
  // The members the core reads (adapt/supabase.rs) as they were read: type, table, eventType,
  // payload, new, old; `stage` what of the payload was read: 0 nothing, 1 its members, 2 its rows too.
  const read = [undefined, undefined, undefined, undefined, undefined, undefined]
  let stage = 0
  const texts = new Map() // the JSON text of each object value read (`sizeOf`), for the rows-as-text fallback
  let bothRows = false // both rows are objects
  // Both buffers, each at least this large (growing one may move the other's view; memory growth
  // detaches the views' buffer, which their zero length shows).
  function slotViews(bytes, nWords) {
    if (nWords > wordsCap) {
      wordsCap = Math.max(nWords, 64)
      wordsAt = engine.slotBuffer(wordsCap)
      words = null
    }
    out = inputBytes(bytes)
    if (words === null || words.byteLength === 0) words = new Uint32Array(memory.buffer, wordsAt, wordsCap)
  }
  // Row `o`'s members, kept in names and values from `j`; returns how many, `guessed` set when
  // they are `guess`'s keys in its order.
  let guessed = false
  function row(o, j, guess) {
    const first = j
    const keys = guess.keys
    let same = true
    for (const k in o) {
      const v = o[k]
      const b = sizeOf(v)
      if (b < 0) continue
      bound += 6 * (k.length + b) + 29
      if (keys[j - first] !== k) same = false
      names[j] = k
      values[j++] = v
    }
    if (j > held) held = j
    guessed = same && j - first === keys.length
    return j - first
  }
  // The UTF-16 units that bound value `v`'s JSON text (a unit is at most 3 bytes there, an
  // escape at most 6), or -1 when JSON.stringify leaves the member out.
  function sizeOf(v) {
    switch (typeof v) {
      case 'string': return v.length
      case 'number': case 'boolean': return 0
      case 'object': {
        if (v === null) return 0
        const t = JSON.stringify(v) // throws on a cycle or a BigInt: sent whole, reported there
        texts.set(v, t)
        return t === undefined ? -1 : (t.length + 1) >> 1 // JSON text: 3 bytes a unit at most, half a string's 6
      }
      case 'bigint': throw WHOLE
      default: return -1 // undefined, a function, a symbol: left out
    }
  }
  // Where table `t`'s needed columns (`pos`) and id columns (`ids`) are among a row's members
  // names[j .. j+n] (-1: not a member): worked out once per key sequence, the last four of each
  // length up to 64 kept (wider rows work it out each time).
  function shapeOf(t, j, n) {
    const kept = n <= 64 ? (t.shapes[n] ??= []) : []
    for (let h = 0; h < kept.length; h++) {
      const s = kept[h]
      const keys = s.keys
      let i = 0
      while (i < n && keys[i] === names[j + i]) i++
      if (i === n) return s
    }
    const find = (c) => {
      for (let i = 0; i < n; i++) if (names[j + i] === c) return i
      return -1
    }
    const s = { keys: names.slice(j, j + n), pos: t.cols.map(find), ids: t.keys.map((c) => find(t.cols[c])) }
    if (kept.unshift(s) > 4) kept.pop()
    return s
  }
  // Writes string `s` as JSON at `at`; false when it needs an escape or holds a surrogate.
  function putStr(s) {
    const n = s.length
    let p = at
    out[p++] = 34
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c < 0x20 || c === 34 || c === 92) return false
      if (c >= 0x80) return putWide(s, i, p)
      out[p++] = c
    }
    out[p++] = 34
    at = p
    return true
  }
  // The rest of `s` from unit `i`, the first that is not ASCII, by writeText (`out` starts at inputAt).
  function putWide(s, i, p) {
    for (let j = i; j < s.length; j++) {
      const c = s.charCodeAt(j)
      if (c < 0x20 || c === 34 || c === 92 || (c >= 0xd800 && c <= 0xdfff)) return false
    }
    p += writeText(s.slice(i), inputAt + p)
    out[p++] = 34
    at = p
    return true
  }
  // A finite number as JSON.stringify writes it.
  function putNum(v) {
    if (v >= 0 && v <= 0x7fffffff && (v | 0) === v) {
      let len = 1
      for (let x = v; x >= 10; x = (x / 10) | 0) len++
      let p = at + len
      let x = v
      do {
        out[--p] = 48 + (x % 10)
        x = (x / 10) | 0
      } while (x > 0)
      at += len
      return
    }
    putText('' + v)
  }
  function putText(t) {
    for (let i = 0; i < t.length; i++) out[at++] = t.charCodeAt(i)
  }
  // A needed column's value: its slot word (slots.rs "The layout"), its text written; -1: send
  // whole. In the rows (`lit`), null, true and false are written out too.
  function slot(v, lit) {
    switch (typeof v) {
      case 'string': return putStr(v) ? (at << 3) | 5 : -1
      case 'number':
        if (v - v !== 0) { // NaN, ±Infinity: written as null
          if (lit) putText('null')
          return (at << 3) | 1
        }
        putNum(v)
        return (at << 3) | 4
      case 'boolean':
        if (lit) putText(v ? 'true' : 'false')
        return (at << 3) | (v ? 2 : 3)
      case 'object':
        if (v !== null) return -1
        if (lit) putText('null')
        return (at << 3) | 1
      case 'bigint': return -1
      default: return at << 3 // not a member
    }
  }
  // A table the core reads no column of its own for: the default needs, with shapes of its own
  // (a few hundred tables at most; past that, they share one).
  function tableNeeds(name) {
    const [cols, keys] = needs.def
    if (needs.tables.size >= 256) return (needs.shared ??= table(cols, keys))
    const t = table(cols, keys)
    needs.tables.set(name, t)
    return t
  }
  // Writes payload `p` as slots; returns the number of words, or -1: send it whole.
  function writeSlots(p) {
    if (p === null || typeof p !== 'object') return -1
    const proto = Object.getPrototypeOf(p)
    if ((proto !== Object.prototype && proto !== null) || typeof p.toJSON === 'function' || !protoClean()) return -1
    // The payload's members as JSON.stringify reads them (each once: a getter is called once, a
    // member for-in does not give is not there), and an upper bound of the bytes it writes for
    // them but the rows (left to `row`): a unit is at most 6 bytes (an escape), a member's name,
    // quotes, colon, comma and any number or literal at most 29 more. The 1 MiB limit is the
    // whole payload's: one that might pass it crosses whole and is measured.
    let table, ev, nw, old, type, pl
    bound = 2
    for (const k in p) {
      const v = p[k]
      if (k === 'new') nw = v
      else if (k === 'old') old = v
      else {
        if (k === 'table') table = v
        else if (k === 'eventType') ev = v
        else if (k === 'type') type = v
        else if (k === 'payload') pl = v
        const b = sizeOf(v)
        if (b >= 0) bound += 6 * (k.length + b) + 29
      }
    }
    read[0] = type
    read[1] = table
    read[2] = ev
    read[3] = pl
    read[4] = nw
    read[5] = old
    stage = 1
    const code = ev === 'INSERT' ? 0 : ev === 'UPDATE' ? 1 : ev === 'DELETE' ? 2 : -1
    if (type != null || typeof table !== 'string' || code < 0 || !plainRow(nw) || !plainRow(old)) return -1
    const t = needs.tables.get(table) ?? tableNeeds(table)
    // Each row's members, and where the needed columns are among them: the same keys as the last
    // row of this table, event and side (`guess`) are most often what comes.
    const guess = t.guess
    const none = t.shapes[0][0]
    shapeNew = none
    nNew = 0
    if (nw != null) {
      nNew = row(nw, 0, guess[code * 2])
      shapeNew = guessed ? guess[code * 2] : (guess[code * 2] = shapeOf(t, 0, nNew))
    }
    shapeOld = none
    nOld = 0
    if (old != null) {
      nOld = row(old, nNew, guess[code * 2 + 1])
      shapeOld = guessed ? guess[code * 2 + 1] : (guess[code * 2 + 1] = shapeOf(t, nNew, nOld))
    }
    bothRows = nw != null && old != null
    stage = 2
    if (bound > 1048576) return -1
    const n = t.cols.length
    const k = t.keys.length
    slotViews(bound, 3 + n + k)
    at = 0
    if (!putStr(table)) return -1
    const w = words
    w[0] = code
    w[1] = nOld
    w[2] = at
    // The row the core reads (its choice, by the event and which rows have members), then old's ids.
    const inOld = needs.rows[code * 4 + (nNew === 0 ? 2 : 0) + (nOld === 0 ? 1 : 0)] === 1
    const first = inOld ? nNew : 0
    const pos = (inOld ? shapeOld : shapeNew).pos
    let j = 3
    for (let i = 0; i < n; i++) {
      const s = pos[i] < 0 ? at << 3 : slot(values[first + pos[i]], false)
      if (s < 0) return -1
      w[j++] = s
    }
    const ids = shapeOld.ids
    for (let i = 0; i < k; i++) {
      const s = ids[i] < 0 ? at << 3 : slot(values[nNew + ids[i]], false)
      if (s < 0) return -1
      w[j++] = s
    }
    return j
  }
  // After slots of `n` words the core answered 3 (an UPDATE diffed from its whole rows): adds the
  // rows (slots.rs "The layout"); returns the words in all, or -1 when they cannot be written so.
  function writeRows(n) {
    if (!bothRows) return -1
    slotViews(at + bound, n + 2 + 2 * (nNew + nOld)) // the rows are part of the payload's text
    const w = words
    w[0] |= 4
    w[n] = nNew
    const j = rowWords(n + 1, 0, nNew)
    if (j < 0) return -1
    w[j] = nOld
    return rowWords(j + 1, nNew, nNew + nOld)
  }
  // Members names/values[i .. end] as name and value words from word `j`; the next word, or -1.
  function rowWords(j, i, end) {
    const w = words
    for (; i < end; i++) {
      if (!putStr(names[i])) return -1
      w[j++] = (at << 3) | 5
      const s = slot(values[i], true)
      if (s < 0) return -1
      w[j++] = s
    }
    return j
  }
  // A value read by the walk as JSON text: an object's is the one `sizeOf` made (no getter or toJSON
  // runs again).
  const valueText = (v) => (typeof v === 'object' && v !== null && texts.has(v) ? texts.get(v) : JSON.stringify(v))
  // Members names/values[i .. end] as a JSON object's text, each value as it was read.
  function rowText(i, end) {
    let s = ''
    for (; i < end; i++) s += `${s === '' ? '{' : ','}${JSON.stringify(names[i])}:${valueText(values[i])}`
    return s === '' ? '{}' : `${s}}`
  }
  const READ = ['type', 'table', 'eventType', 'payload', 'new', 'old']
  // The payload as JSON text, from what was read (`read`, the rows' members): what the core reads
  // of JSON.stringify's text, with no getter or toJSON called again. May throw (a row not read yet).
  function readText() {
    let s = ''
    for (let i = 0; i < 6; i++) {
      const v = read[i]
      const t = stage === 2 && i >= 4 && v != null ? (i === 4 ? rowText(0, nNew) : rowText(nNew, nNew + nOld)) : valueText(v)
      if (t !== undefined) s += `${s === '' ? '{' : ','}"${READ[i]}":${t}`
    }
    return s === '' ? '{}' : `${s}}`
  }
  // True when the payload crossed as slots (or as the rows the core asked for); otherwise its text
  // as it was read, or false when nothing was (the caller writes it whole).
  // Reading it runs app code (a getter, a toJSON), which may call rt (CONTRACT: callbacks may call
  // back): while `busy`, such a call takes the text path and crosses by a copy of its own
  // (`passText`), so nothing this call is filling (names, values, needs, both buffers) changes
  // under it. Each value is read before any is written: no app code runs between the writes and
  // the crossing.
  let busy = false
  function passSlots(payload) {
    if (!memory || tap.on || busy) return false // an inspector records payloads as they came
    needs ??= decodeNeeds(engine.columns())
    busy = true
    let sent
    stage = 0
    try {
      sent = sendSlots(payload)
      if (!sent && stage !== 0) {
        // thrown: JSON.stringify reports it; one that might be near the 1 MiB limit is measured whole
        try { sent = readText() } catch { sent = false }
        if (sent !== false && 3 * sent.length + bound > 1048576) sent = false
      }
    } finally { busy = false }
    // The payload's values are not kept until the next one (a loop: `fill` cost more here).
    for (let i = 0; i < held; i++) values[i] = undefined
    held = 0
    if (texts.size !== 0) texts.clear()
    read[1] = read[3] = read[4] = read[5] = undefined
    return sent
  }
  function sendSlots(payload) {
    let n
    try { n = writeSlots(payload) } catch {
      held = values.length // thrown in the middle of a row
      stage = 0 // JSON.stringify throws the same: it reports it
      return false
    }
    if (n < 0) return false
    const now = Date.now() // the core's clock, read here: no import call from the wasm
    const r = engine.ingestSlots(n, at, needs.epoch, now)
    if (r === 0) return true
    if (r === 3) {
      // Diffed from its whole rows: they cross as typed values too, or as text (the core checked
      // the rest of the payload).
      const m = writeRows(n)
      if (m >= 0) {
        const r2 = engine.ingestSlots(m, at, needs.epoch, now)
        if (r2 === 0) return true
        if (r2 === 2) needs = null
        return false
      }
      return false // as the rows were read
    }
    if (r === 2) needs = null // the options changed what is read
    return false
  }
  let own = null // our own transport (js/transport.js, connectOwn below)
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
      // `channels`: this tab's channel set changed (announce it); `connection`: connect or
      // disconnect a connector's client (its role); anything else is for the other tabs.
      if (message?.t === 'channels') share?.channels()
      else if (message?.t === 'connection') connectorCalls.connection(message.id, message.up)
      else share?.send(message)
    },
    // Our own transport's connect / close / send (js/transport.js).
    transport: (op, text) => own?.run(op, text),
    timer: engineTimer(engine), // the core's next deadline, carried by setTimeout
    ...connectorCalls,
  }
  engine.setHandlers(handlers)
  const views = new Map() // handle -> view, for an inspector's start record
  let scope = options.scope
  const channelsNow = () => ({ channels: engine.channels() })

  const rt = {
    ingest(source, payload) {
      if (disposed) return
      let text = source === 'supabase' && passSlots(payload)
      if (text === true) return
      if (text === false) try {
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
      own?.close()
      own = null
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
      return connectOwn(0, url, opts)
    },
    connectEventSource(url, opts = {}) {
      return connectOwn(1, url, opts)
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
    // returned function is called.
    inspect(listener) {
      if (disposed || typeof listener !== 'function') return () => {}
      const start = { t: Date.now(), kind: 'start', options: { ...engineOptions(options), scope }, status: engine.status(), stats: engine.stats(),
        channels: engine.channels(), views: [...views].map(([handle, view]) => ({ handle, view })), visible: isVisible(),
        mutations: [...mutations].map(([id, keys]) => ({ id, keys })) }
      try { listener(start) } catch { /* as in emit */ }
      return tap.add(listener, () => {}, () => {})
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

  // Our own transports: the core's link decides (connect, close, send, what a close means), the
  // socket handles are js/transport.js's. One at a time: a new connect replaces the previous one,
  // and the returned function disconnects only its own.
  let connection = 0
  // A frame of our own transport crosses as replayTrace's do: source 5 of the input buffer.
  const frame = (text) => {
    if (tap.on) tap.emit({ kind: 'frame', text })
    engine.ingestInput(5, inputText(text), Date.now())
  }
  function connectOwn(kind, url, opts) {
    if (disposed) return () => {}
    const { token, ...rest } = opts ?? {}
    const tokenFn = typeof token === 'function' ? token : typeof token === 'string' ? () => token : undefined
    const prev = own
    own = ownTransport(kind === 1, String(url), tokenFn, engine, frame)
    try {
      engine.connect(kind, engineOptions(rest))
    } finally {
      prev?.close()
    }
    share?.connect()
    const mine = ++connection
    return () => {
      if (mine !== connection || disposed) return
      share?.disconnect()
      engine.disconnect()
      own?.close()
      own = null
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
