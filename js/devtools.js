// querywire/devtools: <QuerywireDevtools />, a panel in the style of React Query Devtools, fed by
// `rt.inspect` (js/trace.js). A separate package entry: an app that never imports it loads none of
// this. Plain ESM with createElement (no JSX, no CSS file, no dependencies beyond React).
import { createElement as h, Fragment, useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react'
import { useRealtime } from './react.js'

export { replayTrace } from './replay.js'

const TRACE_VERSION = 1

// ---- the recorder ------------------------------------------------------------------------------

/** Keeps `rt.inspect`'s records (the `start` record and the newest `max - 1` others). */
function createRecorder(max) {
  let start = null
  let records = []
  let dropped = 0
  let version = 0
  let timer
  const listeners = new Set()
  const notify = () => {
    timer = undefined
    version++
    for (const l of listeners) l()
  }
  return {
    push(r) {
      if (r.kind === 'start' && !start) start = r
      else records.push(r)
      if (records.length > max) {
        const cut = records.length - max + Math.ceil(max / 10)
        records = records.slice(cut)
        dropped += cut
      }
      // Re-render at most every 100 ms: a burst of a thousand events is one update.
      timer ??= setTimeout(notify, 100)
    },
    clear() {
      records = []
      dropped = 0
      if (start) start = { ...start, t: Date.now() }
      notify()
    },
    trace() {
      return { version: TRACE_VERSION, options: start?.options ?? {}, truncated: dropped > 0, records: start ? [start, ...records] : records.slice() }
    },
    subscribe(l) {
      listeners.add(l)
      return () => listeners.delete(l)
    },
    version: () => version,
    stop() { clearTimeout(timer) },
  }
}

// ---- what the records say ----------------------------------------------------------------------

const parsed = new WeakMap()
function parse(r) {
  if (!parsed.has(r)) {
    let v = null
    try { v = JSON.parse(r.text) } catch { /* shown as text */ }
    parsed.set(r, v)
  }
  return parsed.get(r)
}

const idOf = (row) => row && (row.id ?? row.uuid ?? row.code)

/** A one-line description of a payload. */
function describe(source, p) {
  if (!p || typeof p !== 'object') return String(p)
  switch (source) {
    case 'envelope': return `${p.action} ${p.entity} ${idOf(p.data) ?? ''}`
    case 'event': return `${p.action} ${p.type} ${p.id ?? ''}`
    case 'invalidate': return `invalidate ${JSON.stringify(p.queryKey)}`
    case 'centrifugo': return `${p.channel}: ${p.data?.event === 'invalidate' ? `invalidate ${JSON.stringify(p.data.queryKey)}` : describe(detect(p.data), p.data)}`
    case 'supabase':
      if (p.type === 'broadcast') return `broadcast ${describe('event', p.payload)}`
      return `${p.eventType} ${p.table} ${idOf(p.eventType === 'DELETE' ? p.old : p.new) ?? ''}`
    default: return JSON.stringify(p).slice(0, 120)
  }
}

function detect(p) {
  if (!p || typeof p !== 'object') return 'unknown'
  if ('eventType' in p || p.type === 'broadcast') return 'supabase'
  if ('entity' in p) return 'envelope'
  if ('queryKey' in p) return 'invalidate'
  if ('action' in p) return 'event'
  return 'unknown'
}

/**
 * What a trace (or the devtools' live records) says: status over time, channels with their last
 * `seq` and events, the event stream, each flush with its keys and refetches, refetches saved.
 */
export function summarizeTrace(trace) {
  const records = trace.records ?? []
  const start = records.find((r) => r.kind === 'start')
  const status = []
  const channels = new Map()
  const channel = (name) => {
    let c = channels.get(name)
    if (!c) channels.set(name, (c = { name, open: false, lastSeq: null, events: 0 }))
    return c
  }
  for (const name of start?.channels ?? []) channel(name).open = true
  if (start) status.push({ t: start.t, status: start.status })
  const events = []
  const flushes = []
  const errors = []
  // Pending mutations that hold keys (optimistic updates): their ops wait in the engine.
  const mutations = new Map()
  for (const m of start?.mutations ?? []) mutations.set(m.id, { id: m.id, t: start.t, keys: String(m.keys).split('\n').filter(Boolean) })
  // Distinct events (received − duplicates dropped) since the previous flush, from the stats the
  // plan records carry: what a handler refetching once per change would have refetched for.
  const distinct = (st) => (st ? st.received - st.dropped.duplicate : 0)
  let lastDistinct = distinct(start?.stats)
  let window = 0 // event records since the last flush (when a record has no stats)
  for (const r of records) {
    switch (r.kind) {
      case 'status': status.push({ t: r.t, status: r.status }); break
      case 'subscribe': case 'unsubscribe': case 'scope':
        // The channels the open views need after the change.
        if (Array.isArray(r.channels)) {
          for (const c of channels.values()) c.open = false
          for (const n of r.channels) channel(n).open = true
        }
        break
      case 'ingest': {
        const p = parse(r)
        events.push({ t: r.t, via: 'ingest', source: r.source, channel: r.source === 'centrifugo' ? p?.channel : undefined, text: describe(r.source, p), raw: r.text })
        if (r.source === 'centrifugo' && typeof p?.channel === 'string') {
          const c = channel(p.channel)
          c.events++
          if (typeof p.offset === 'number') c.lastSeq = p.offset
        }
        window++
        break
      }
      case 'frame': {
        const f = parse(r)
        if (f && typeof f === 'object' && !('payload' in f) && ['pong', 'recovered', 'error', 'ping'].includes(f.type)) {
          const text = f.type === 'recovered' ? `recovered ${f.channel} ${f.ok ? 'ok' : 'not ok'}` : f.type === 'error' ? `error ${f.code}: ${f.message}` : f.type
          events.push({ t: r.t, via: 'control', source: 'wire', channel: f.channel, text, raw: r.text })
          break
        }
        const payload = f && typeof f === 'object' && 'payload' in f ? f.payload : f
        const source = (f && f.source) || detect(payload)
        if (f && typeof f.channel === 'string') {
          const c = channel(f.channel)
          c.events++
          if (typeof f.seq === 'number') c.lastSeq = f.seq
        }
        events.push({ t: r.t, via: 'frame', source, channel: f?.channel, seq: f?.seq, text: describe(source, payload), raw: r.text })
        window++
        break
      }
      case 'plan': {
        const keys = [
          ...r.plan.invalidate.map((o) => ({ op: 'invalidate', hash: o.queryHash, detail: `${o.refetchType}${o.exact ? ', exact' : ''}` })),
          ...r.plan.patch.map((o) => ({ op: 'patch', hash: o.queryHash, detail: Object.keys(o.fields).join(', ') + (o.version !== null ? ` v${o.version}` : '') })),
          ...r.plan.refetch.map((o) => ({ op: 'refetch', hash: o.queryHash, detail: o.exact ? 'exact' : '' })),
        ]
        const events = r.stats ? distinct(r.stats) - lastDistinct : window
        if (r.stats) lastDistinct = distinct(r.stats)
        flushes.push({ t: r.t, keys, refetched: r.refetched ?? [], applied: r.applied, events, saved: Math.max(0, events - (r.refetched?.length ?? 0)), hold: (r.plan.hold ?? []).map((k) => JSON.stringify(k)) })
        window = 0
        break
      }
      case 'error': errors.push({ t: r.t, ...r.error }); break
      case 'mutation': mutations.set(r.id, { id: r.id, t: r.t, keys: String(r.keys).split('\n').filter(Boolean) }); break
      case 'settled': mutations.delete(r.id); break
      default: break
    }
  }
  const t0 = records[0]?.t ?? 0
  const t1 = records.length ? records[records.length - 1].t : t0
  return {
    t0, t1, status, events, flushes, errors, mutations: [...mutations.values()],
    channels: [...channels.values()].sort((a, b) => a.name.localeCompare(b.name)),
    refetches: flushes.reduce((n, f) => n + f.refetched.length, 0),
    saved: flushes.reduce((n, f) => n + f.saved, 0),
    eventsIn: flushes.reduce((n, f) => n + f.events, 0),
  }
}

// ---- the panel ---------------------------------------------------------------------------------

const C = {
  bg: '#0b1520', panel: '#132332', line: '#223a4f', text: '#e6edf3', muted: '#8aa0b4', accent: '#00b4a0',
  event: '#5aa9ff', flush: '#f5b942', refetch: '#ff6b6b', patch: '#a78bfa',
}
const STATUS_COLOR = { connected: '#2fbf71', connecting: '#f5b942', reconnecting: '#f59e42', polling: '#a78bfa', disconnected: '#6b7b8c', error: '#ff5c5c' }
const font = 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace'

const time = (t) => {
  const d = new Date(t)
  return `${d.toTimeString().slice(0, 8)}.${String(d.getMilliseconds()).padStart(3, '0')}`
}

function Badge({ status }) {
  return h('span', { 'data-testid': 'qw-status-now', style: { color: STATUS_COLOR[status] ?? C.text, fontWeight: 600 } }, `● ${status}`)
}

function Section({ title, children, style }) {
  return h('section', { style: { borderTop: `1px solid ${C.line}`, padding: '6px 10px', ...style } },
    h('div', { style: { color: C.muted, fontSize: 11, textTransform: 'uppercase', letterSpacing: 1, marginBottom: 4 } }, title),
    children)
}

function Timeline({ s }) {
  const W = 1000, H = 118
  // The last 60 s of the trace (all of it when shorter).
  const last = Math.max(s.t1, s.t0 + 1)
  const from = Math.max(s.t0, last - 60_000)
  const end = last + Math.max(100, (last - from) * 0.03) // a margin: the newest mark is not cut at the edge
  const x = (t) => ((t - from) / (end - from)) * (W - 70) + 65
  const inView = (t) => t >= from
  const bands = s.status.map((st, i) => ({ ...st, until: s.status[i + 1]?.t ?? end })).filter((b) => b.until >= from)
  const label = (y, text) => h('text', { x: 4, y, fill: C.muted, fontSize: 11, fontFamily: font }, text)
  return h('svg', { 'data-testid': 'qw-timeline', viewBox: `0 0 ${W} ${H}`, width: '100%', height: H, preserveAspectRatio: 'none', style: { display: 'block', background: C.bg } },
    label(16, 'status'), label(46, 'events'), label(76, 'flushes'), label(106, 'refetches'),
    bands.map((b, i) => h('rect', { key: `s${i}`, x: x(Math.max(b.t, from)), y: 6, width: Math.max(1, x(b.until) - x(Math.max(b.t, from))), height: 12, fill: STATUS_COLOR[b.status] ?? C.muted, opacity: 0.8 },
      h('title', null, `${b.status} from ${time(b.t)}`))),
    s.events.filter((e) => inView(e.t)).map((e, i) => h('line', { key: `e${i}`, x1: x(e.t), x2: x(e.t), y1: 34, y2: 54, stroke: e.via === 'control' ? C.muted : C.event, strokeWidth: 1 })),
    s.flushes.filter((f) => inView(f.t)).map((f, i) => h('circle', { key: `f${i}`, 'data-testid': 'qw-timeline-flush', cx: x(f.t), cy: 72, r: 3 + Math.min(8, Math.log2(1 + f.keys.length)), fill: C.flush },
      h('title', null, `flush at ${time(f.t)}: ${f.keys.length} keys, ${f.refetched.length} refetches, ${f.events} events`))),
    s.flushes.filter((f) => inView(f.t) && f.refetched.length).map((f, i) => {
      const hgt = Math.min(22, 4 + f.refetched.length * 2)
      return h('rect', { key: `r${i}`, x: x(f.t) - 2, y: 114 - hgt, width: 4, height: hgt, fill: C.refetch }, h('title', null, `${f.refetched.length} refetches`))
    }),
    h('text', { x: W - 4, y: 28, fill: C.muted, fontSize: 10, textAnchor: 'end', fontFamily: font }, `last ${((last - from) / 1000).toFixed(1)} s`))
}

function Flushes({ s }) {
  const [openIdx, setOpenIdx] = useState(null)
  const list = s.flushes.slice(-200).reverse()
  if (!list.length) return h('div', { style: { color: C.muted } }, 'No flush yet.')
  return h('ol', { style: { listStyle: 'none', margin: 0, padding: 0 } }, list.map((f, i) => {
    const open = openIdx === f.t + ':' + i || i === 0
    return h('li', { key: `${f.t}:${i}`, 'data-testid': 'qw-flush', 'data-keys': f.keys.length, 'data-refetches': f.refetched.length, style: { borderBottom: `1px solid ${C.line}`, padding: '3px 0' } },
      h('button', { onClick: () => setOpenIdx(open ? null : f.t + ':' + i), style: btn({ background: 'transparent', padding: 0, width: '100%', textAlign: 'left' }) },
        h('span', { style: { color: C.muted } }, time(f.t)), ' ',
        h('b', { style: { color: C.flush } }, `flush`), ` ${f.keys.length} key${f.keys.length === 1 ? '' : 's'} · `,
        h('span', { style: { color: C.refetch } }, `${f.refetched.length} refetch${f.refetched.length === 1 ? '' : 'es'}`),
        ` · from ${f.events} distinct event${f.events === 1 ? '' : 's'}`),
      open && h('ul', { style: { listStyle: 'none', margin: '2px 0 2px 12px', padding: 0 } },
        f.keys.map((k, j) => h('li', { key: j, 'data-testid': 'qw-flush-key' },
          h('span', { style: { color: k.op === 'patch' ? C.patch : k.op === 'refetch' ? C.refetch : C.flush, display: 'inline-block', width: 74 } }, k.op),
          h('code', null, k.hash), k.detail ? h('span', { style: { color: C.muted } }, `  ${k.detail}`) : null,
          f.refetched.includes(k.hash) ? h('span', { style: { color: C.refetch } }, '  ↻ refetched') : null)),
        f.refetched.filter((r) => !f.keys.some((k) => k.hash === r)).map((r) => h('li', { key: r },
          h('span', { style: { color: C.refetch, display: 'inline-block', width: 74 } }, '↻'), h('code', null, r), h('span', { style: { color: C.muted } }, '  refetched (under a key above)'))),
        f.hold.map((k) => h('li', { key: `hold${k}`, 'data-testid': 'qw-flush-hold' },
          h('span', { style: { color: C.patch, display: 'inline-block', width: 74 } }, 'held'), h('code', null, k), h('span', { style: { color: C.muted } }, '  left alone: a pending mutation holds it')))))
  }))
}

function Events({ s }) {
  const [filter, setFilter] = useState('')
  const [via, setVia] = useState('all')
  const f = filter.trim().toLowerCase()
  const list = s.events.filter((e) => (via === 'all' || e.via === via) &&
    (!f || e.text.toLowerCase().includes(f) || (e.channel ?? '').toLowerCase().includes(f) || e.source.includes(f))).slice(-300).reverse()
  return h(Fragment, null,
    h('div', { style: { display: 'flex', gap: 6, marginBottom: 4 } },
      h('input', { 'data-testid': 'qw-event-filter', placeholder: 'filter: table, id, channel, source…', value: filter, onChange: (e) => setFilter(e.target.value),
        style: { flex: 1, background: C.bg, color: C.text, border: `1px solid ${C.line}`, borderRadius: 4, padding: '2px 6px', font: 'inherit' } }),
      ['all', 'ingest', 'frame', 'control'].map((v) => h('button', { key: v, onClick: () => setVia(v), style: btn(via === v ? { background: C.accent, color: C.bg } : {}) }, v))),
    h('ol', { style: { listStyle: 'none', margin: 0, padding: 0 } },
      list.length === 0 ? h('li', { style: { color: C.muted } }, 'No events.') : list.map((e, i) => h('li', { key: i, 'data-testid': 'qw-event', title: e.raw, style: { whiteSpace: 'nowrap', overflow: 'hidden', textOverflow: 'ellipsis' } },
        h('span', { style: { color: C.muted } }, time(e.t)), ' ',
        h('span', { style: { color: C.event } }, e.source), ' ',
        e.channel ? h('span', { style: { color: C.muted } }, `${e.channel}${e.seq !== undefined ? `#${e.seq}` : ''} `) : null,
        e.text))))
}

function btn(extra) {
  return { background: C.line, color: C.text, border: 0, borderRadius: 4, padding: '2px 8px', cursor: 'pointer', font: 'inherit', ...extra }
}

const POSITIONS = {
  'bottom-right': { right: 12, bottom: 12 }, 'bottom-left': { left: 12, bottom: 12 },
  'top-right': { right: 12, top: 12 }, 'top-left': { left: 12, top: 12 },
}

/**
 * The querywire devtools panel: a toggle button (closed by default) that opens a panel with the
 * connection status over time, the channels and their last `seq`, the event stream, each flush with
 * its keys and the refetches it caused, refetches saved, drops by reason, and a timeline chart.
 */
export function QuerywireDevtools({ initialIsOpen = false, position = 'bottom-right', maxRecords = 10_000, rt: rtProp, onExport } = {}) {
  const fromContext = useRealtime()
  const rt = rtProp ?? fromContext
  const [open, setOpen] = useState(initialIsOpen)
  const [tab, setTab] = useState('flushes')
  const recorder = useMemo(() => createRecorder(Math.max(100, maxRecords)), [rt, maxRecords])
  useEffect(() => {
    if (!rt || typeof rt.inspect !== 'function') return undefined
    const stop = rt.inspect((r) => recorder.push(r))
    return () => { stop(); recorder.stop() }
  }, [rt, recorder])
  const noop = useCallback(() => () => {}, [])
  const version = useSyncExternalStore(open ? recorder.subscribe : noop, recorder.version, recorder.version)
  const s = useMemo(() => (open ? summarizeTrace(recorder.trace()) : null), [open, version, recorder])
  const exportTrace = () => {
    const trace = recorder.trace()
    if (onExport) onExport(trace)
    if (typeof document === 'undefined' || typeof URL?.createObjectURL !== 'function') return
    const url = URL.createObjectURL(new Blob([JSON.stringify(trace)], { type: 'application/json' }))
    const a = document.createElement('a')
    a.href = url
    a.download = `querywire-trace-${new Date().toISOString().replace(/[:.]/g, '-')}.json`
    document.body.appendChild(a)
    a.click()
    a.remove()
    setTimeout(() => URL.revokeObjectURL(url), 1000)
  }

  const corner = POSITIONS[position] ?? POSITIONS['bottom-right']
  if (!open) {
    return h('button', { 'data-testid': 'qw-devtools-toggle', 'aria-label': 'Open querywire devtools', onClick: () => setOpen(true),
      style: { position: 'fixed', zIndex: 99999, ...corner, ...btn({ background: C.bg, border: `1px solid ${C.accent}`, color: C.accent, padding: '6px 10px', fontFamily: font, fontSize: 12, boxShadow: '0 2px 8px rgba(0,0,0,.3)' }) } },
      '⇄ querywire')
  }
  const stats = rt ? rt.stats() : null
  const status = rt ? rt.status() : 'disconnected'
  return h('div', { 'data-testid': 'qw-devtools', role: 'dialog', 'aria-label': 'querywire devtools',
    style: { position: 'fixed', zIndex: 99999, left: 0, right: 0, bottom: 0, height: '46vh', minHeight: 260, display: 'flex', flexDirection: 'column',
      background: C.panel, color: C.text, fontFamily: font, fontSize: 12, borderTop: `2px solid ${C.accent}`, boxShadow: '0 -4px 16px rgba(0,0,0,.35)' } },
    h('header', { style: { display: 'flex', alignItems: 'center', gap: 12, padding: '6px 10px' } },
      h('b', { style: { color: C.accent } }, '⇄ querywire'), h(Badge, { status }),
      stats && h('span', { style: { color: C.muted } }, `${stats.received} received · ${stats.flushes} flushes · ${stats.invalidations} keys invalidated · ${stats.patches} patched`),
      h('span', { style: { flex: 1 } }),
      h('button', { 'data-testid': 'qw-export', onClick: exportTrace, style: btn() }, 'Export trace'),
      h('button', { onClick: () => recorder.clear(), style: btn() }, 'Clear'),
      h('button', { 'data-testid': 'qw-devtools-close', 'aria-label': 'Close querywire devtools', onClick: () => setOpen(false), style: btn() }, '×')),
    !rt ? h('div', { style: { padding: 10, color: C.muted } }, 'Waiting for the engine (render inside <RealtimeProvider> or pass rt).')
      : h(Fragment, null,
        h(Timeline, { s }),
        h('div', { style: { display: 'flex', flex: 1, minHeight: 0 } },
          h('div', { style: { width: 300, overflow: 'auto', borderRight: `1px solid ${C.line}` } },
            h(Section, { title: 'Refetches saved' },
              h('div', { 'data-testid': 'qw-saved', title: 'distinct events (received − duplicates dropped) minus the refetches the flushes started, flush by flush: what a handler refetching once per change would have cost more' },
                h('b', { style: { fontSize: 16 } }, s.saved), h('span', { style: { color: C.muted } }, ` = ${s.eventsIn} distinct events − ${s.refetches} refetches (${s.flushes.length} flushes)`))),
            h(Section, { title: 'Dropped' },
              stats && Object.entries(stats.dropped).map(([k, v]) => h('div', { key: k, 'data-testid': `qw-drop-${k}` }, h('span', { style: { color: v ? C.refetch : C.muted, display: 'inline-block', width: 90 } }, k), v))),
            h(Section, { title: 'Channels (last seq · events)' },
              s.channels.length === 0 ? h('div', { style: { color: C.muted } }, 'No channel.') : s.channels.map((c) => h('div', { key: c.name, 'data-testid': 'qw-channel', 'data-channel': c.name, 'data-seq': c.lastSeq ?? '', style: { color: c.open ? C.text : C.muted } },
                c.open ? '● ' : '○ ', c.name, h('span', { style: { color: C.muted } }, `  ${c.lastSeq ?? '–'} · ${c.events}`)))),
            s.mutations.length > 0 && h(Section, { title: `Optimistic holds (${s.mutations.length})` },
              s.mutations.map((m) => h('div', { key: m.id, 'data-testid': 'qw-hold' }, h('span', { style: { color: C.muted } }, `#${m.id} `), m.keys.map((k) => h('code', { key: k, style: { marginRight: 6 } }, k))))),
            h(Section, { title: 'Status' },
              s.status.slice(-12).reverse().map((st, i) => h('div', { key: i, 'data-testid': 'qw-status' }, h('span', { style: { color: C.muted } }, time(st.t)), ' ', h('span', { style: { color: STATUS_COLOR[st.status] } }, st.status)))),
            s.errors.length > 0 && h(Section, { title: `Errors (${s.errors.length})` },
              s.errors.slice(-10).reverse().map((e, i) => h('div', { key: i, style: { color: C.refetch } }, `${e.code}: ${e.message}`)))),
          h('div', { style: { flex: 1, display: 'flex', flexDirection: 'column', minWidth: 0 } },
            h('nav', { style: { display: 'flex', gap: 6, padding: '6px 10px' } },
              [['flushes', `Flushes (${s.flushes.length})`], ['events', `Events (${s.events.length})`]].map(([id, label]) => h('button', { key: id, 'data-testid': `qw-tab-${id}`, onClick: () => setTab(id), style: btn(tab === id ? { background: C.accent, color: C.bg } : {}) }, label))),
            h('div', { style: { flex: 1, overflow: 'auto', padding: '0 10px 8px' } }, tab === 'flushes' ? h(Flushes, { s }) : h(Events, { s })))))) 
}
