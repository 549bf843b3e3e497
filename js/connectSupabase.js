// supabase-js v2 connector: one realtime channel per view channel the engine needs, opened and
// closed as views come and go; payloads go to `rt.ingest('supabase', …)`, channel statuses to the
// engine's status, a channel that comes back (SUBSCRIBED after an error) to one refetch of its views.
//
// Options (all optional):
//   schema  'public'
//   tables  ['work_orders', …]: one postgres_changes binding per table. Absent: one binding on the
//           whole schema (no table), which delivers every change of the schema on every channel:
//           pass `tables` in real apps.
//   filter  a realtime filter string ('factory_id=eq.f1') used on every binding, or a function
//           `(channelName, table) => string | undefined` whose answer is used as is (undefined,
//           null or '' = no filter). Default (no `filter` option):
//             doc:<table>:<id>       → `id=eq.<id>` on the binding of <table> when <table> is in
//                                      `tables` (other tables' bindings get no filter)
//             list:<table>:<factory> → `factory_id=eq.<factory>`
//             factory:<factory>      → `factory_id=eq.<factory>`
//             anything else          → no filter
//           The default filters only apply when `tables` is given (a filter needs a table).
//
// Channel names: the engine's channel name is the supabase-js topic (supabase-js prefixes
// `realtime:`), so broadcasts sent to `doc:work_orders:12` reach the channel of that view.
// `client.channel(topic)` hands back an existing channel of the same topic, even one still
// leaving after `removeChannel` (a React StrictMode remount, supabase-js#1440): a name whose
// previous channel is still leaving is reopened only once that channel is gone, and a topic held
// by a channel this connector did not create is reported (`channel_conflict`) and left alone.
//
// Token freshness (supabase-js#2613, realtime-js#274, supabase#16684): on `visibilitychange` →
// visible and on `online`, the session is read with `auth.getSession()` (which refreshes an expired
// token) and handed to `realtime.setAuth(token)` BEFORE any channel may rejoin: a dead socket is
// held closed (phoenix would otherwise reconnect at once with the stale token) and reconnected
// with `realtime.connect()` only after the token is set.

const DOC = /^doc:([^:]+):(.+)$/
const LIST = /^list:([^:]+):(.+)$/
const FACTORY = /^factory:(.+)$/

import { channelSync, RETURN_SETTLE_MS } from './channelSync.js'

export function connectSupabase(rt, supabase, opts = {}) {
  if (!supabase || typeof supabase.channel !== 'function' || typeof supabase.removeChannel !== 'function') {
    throw new TypeError('connectSupabase: expected a supabase-js v2 client (createClient(...))')
  }
  const engine = rt._engine
  const report = (code, message) => rt._report({ code, message, source: 'supabase' })
  const schema = opts.schema ?? 'public'
  const tables = Array.isArray(opts.tables) && opts.tables.length ? [...opts.tables] : null

  let signedOut = false
  let everConnected = false
  let lastToken
  // entries: name → { name, ch, state: 'joining'|'subscribed'|'down', everSubscribed, closing }
  const sync = channelSync(rt, {
    open: (name) => open(name, false),
    close,
    wanted: () => (signedOut ? [] : engine.channels()),
    // While other channels are still down, wait longer so that they come back in the same batch.
    settleMs: () => ([...sync.entries.values()].some((e) => e.everSubscribed && e.state !== 'subscribed')
      ? RETURN_SETTLE_MS * 4 : RETURN_SETTLE_MS),
    afterReconcile: () => updateStatus(),
  })
  const { entries, schedule } = sync
  // name → Promise that settles when our previous channel of that name is gone
  const leaving = new Map()
  const offs = []

  // ---- channels ---------------------------------------------------------------------------

  function filterFor(name, table) {
    const f = opts.filter
    if (typeof f === 'function') {
      try {
        const v = f(name, table)
        return v ? String(v) : undefined
      } catch (e) {
        report('filter_failed', `filter(${name}) threw: ${e?.message ?? e}`)
        return undefined
      }
    }
    if (typeof f === 'string') return f || undefined
    if (!table) return undefined
    let m
    if ((m = DOC.exec(name))) return m[1] === table ? `id=eq.${m[2]}` : undefined
    if ((m = LIST.exec(name))) return `factory_id=eq.${m[2]}`
    if ((m = FACTORY.exec(name))) return `factory_id=eq.${m[1]}`
    return undefined
  }

  function bindings(name) {
    if (!tables) {
      const filter = filterFor(name, undefined)
      return [{ event: '*', schema, ...(filter ? { filter } : {}) }]
    }
    return tables.map((table) => {
      const filter = filterFor(name, table)
      return { event: '*', schema, table, ...(filter ? { filter } : {}) }
    })
  }

  function existingTopic(name) {
    try {
      const list = typeof supabase.getChannels === 'function' ? supabase.getChannels() : []
      return (list ?? []).find((c) => c && c.topic === `realtime:${name}`)
    } catch {
      return undefined
    }
  }

  function open(name, carried) {
    if (leaving.has(name)) {
      // Our previous channel of this name is still leaving: `channel(name)` would return it.
      leaving.get(name).then(schedule, schedule)
      return
    }
    const other = existingTopic(name)
    if (other) {
      const state = other.state
      if (state === 'leaving' || state === 'closed') {
        // Someone's channel on its way out: retry once it is gone.
        setTimeout(schedule, 50)
        return
      }
      report('channel_conflict', `a supabase-js channel with topic realtime:${name} already exists (state ${state}); querywire does not share it`)
      return
    }
    let ch
    try {
      ch = supabase.channel(name)
      for (const b of bindings(name)) {
        ch.on('postgres_changes', b, (payload) => rt.ingest('supabase', payload))
      }
      ch.on('broadcast', { event: '*' }, (msg) =>
        rt.ingest('supabase', { type: 'broadcast', event: msg?.event, payload: msg?.payload }))
    } catch (e) {
      report('channel_failed', `could not create channel ${name}: ${e?.message ?? e}`)
      return
    }
    const entry = { name, ch, state: 'joining', everSubscribed: !!carried, closing: false }
    entries.set(name, entry)
    try {
      ch.subscribe((status, err) => onChannelStatus(entry, status, err))
    } catch (e) {
      entries.delete(name)
      report('channel_failed', `could not subscribe ${name}: ${e?.message ?? e}`)
    }
    updateStatus()
  }

  function close(entry) {
    entry.closing = true
    const p = Promise.resolve()
      .then(() => supabase.removeChannel(entry.ch))
      .catch((e) => report('channel_failed', `removeChannel(${entry.name}) failed: ${e?.message ?? e}`))
      .finally(() => {
        if (leaving.get(entry.name) === p) leaving.delete(entry.name)
      })
    leaving.set(entry.name, p)
  }

  function onChannelStatus(entry, status, err) {
    if (sync.stopped || entry.closing || entries.get(entry.name) !== entry) return
    if (status === 'SUBSCRIBED') {
      const wasReturn = entry.everSubscribed && entry.state !== 'subscribed'
      entry.state = 'subscribed'
      entry.everSubscribed = true
      everConnected = true
      if (wasReturn) sync.noteReturn(entry.name)
    } else if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT') {
      // supabase-js rejoins by itself (socket reconnect, rejoin timer).
      entry.state = 'down'
      if (status === 'CHANNEL_ERROR' && err && err.message && !/heartbeat|close|socket/i.test(String(err.message))) {
        report('channel_error', `${entry.name}: ${err.message}`)
      }
    } else if (status === 'CLOSED') {
      // Not caused by us (ours are marked closing): the server closed it, and supabase-js drops a
      // closed channel for good. Open a new one; its SUBSCRIBED counts as a return.
      entry.state = 'down'
      entries.delete(entry.name)
      const carried = entry.everSubscribed
      setTimeout(() => {
        if (sync.stopped || signedOut || entries.has(entry.name)) return
        if (new Set(engine.channels()).has(entry.name)) open(entry.name, carried)
        updateStatus()
      }, 1000)
    }
    updateStatus()
  }

  let status
  function updateStatus() {
    if (sync.stopped) return
    let s
    if (signedOut) s = 'disconnected'
    else {
      const list = [...entries.values()]
      if (list.some((e) => e.state === 'down')) s = everConnected ? 'reconnecting' : 'connecting'
      else if (list.some((e) => e.state === 'joining') && !everConnected) s = 'connecting'
      else s = 'connected'
    }
    if (s !== status) {
      status = s
      engine.setStatus(s)
    }
  }

  // ---- auth ---------------------------------------------------------------------------------

  async function setAuthOnce(token) {
    if (!token || token === lastToken) return
    lastToken = token
    try {
      await supabase.realtime?.setAuth?.(token)
    } catch (e) {
      report('auth_failed', `realtime.setAuth failed: ${e?.message ?? e}`)
    }
  }

  // One ordered listener: each event is handled after the previous one finished.
  let authQueue = Promise.resolve()
  function onAuth(event, session) {
    authQueue = authQueue.then(async () => {
      if (sync.stopped) return
      if (event === 'SIGNED_OUT') {
        signedOut = true
        lastToken = undefined
        for (const entry of [...entries.values()]) sync.drop(entry)
        updateStatus()
        return
      }
      const token = session?.access_token
      if (event === 'TOKEN_REFRESHED' || event === 'SIGNED_IN' || (event === 'INITIAL_SESSION' && token)) {
        await setAuthOnce(token)
        if (signedOut && token) {
          signedOut = false
          everConnected = false
          schedule()
        }
      }
    }).catch((e) => report('auth_failed', String(e?.message ?? e)))
  }

  let auth
  try {
    auth = supabase.auth // a Proxy that throws when the client uses the `accessToken` option
    if (auth && typeof auth.onAuthStateChange === 'function') {
      const res = auth.onAuthStateChange(onAuth)
      const sub = res?.data?.subscription ?? res?.subscription
      offs.push(() => { try { sub?.unsubscribe?.() } catch { /* ignore */ } })
    }
  } catch {
    auth = undefined
  }

  async function freshToken() {
    if (auth && typeof auth.getSession === 'function') {
      const { data } = await auth.getSession() // refreshes an expired session first
      return data?.session?.access_token
    }
    return undefined
  }

  // ---- page lifecycle -------------------------------------------------------------------------

  let waking = null
  function wake() {
    if (sync.stopped || signedOut || entries.size === 0 || waking) return
    const realtime = supabase.realtime
    if (!realtime) return
    const dead = typeof realtime.isConnected === 'function' && !realtime.isConnected()
    if (dead) {
      // Hold the socket closed: phoenix's own visibility handler (which runs after ours) would
      // reconnect right now and rejoin every channel with the token it had when the tab slept.
      try { realtime.disconnect?.() } catch { /* ignore */ }
    }
    waking = (async () => {
      try {
        const token = await freshToken()
        if (token) await setAuthOnce(token)
        else if (!auth) await realtime.setAuth?.() // the client's accessToken callback
      } catch (e) {
        report('auth_failed', `could not refresh the session before rejoining: ${e?.message ?? e}`)
      }
      if (!sync.stopped && !signedOut && entries.size > 0 && typeof realtime.isConnected === 'function' && !realtime.isConnected()) {
        try { realtime.connect() } catch (e) { report('connect_failed', String(e?.message ?? e)) }
      }
    })().finally(() => { waking = null })
  }

  const doc = typeof document !== 'undefined' ? document : undefined
  const win = typeof window !== 'undefined' ? window : undefined
  if (doc && typeof doc.addEventListener === 'function') {
    const onVisibility = () => { if (doc.visibilityState === 'visible') wake() }
    // Capture on window: runs before phoenix's bubbling `visibilitychange` listener on window.
    const target = win && typeof win.addEventListener === 'function' ? win : doc
    target.addEventListener('visibilitychange', onVisibility, true)
    offs.push(() => target.removeEventListener('visibilitychange', onVisibility, true))
  }
  if (win && typeof win.addEventListener === 'function') {
    const onOnline = () => wake()
    win.addEventListener('online', onOnline)
    offs.push(() => win.removeEventListener('online', onOnline))
  }

  // ---- start ----------------------------------------------------------------------------------

  status = undefined
  engine.setStatus('connecting')
  status = 'connecting'
  return sync.start(offs)
}
