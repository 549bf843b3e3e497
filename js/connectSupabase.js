// supabase-js v2 connector: holds one realtime channel per channel the engine tells it to open,
// and reports what supabase-js says about each (docs/CONNECTORS.md). Which channels, their
// default filters, when a CLOSED channel reopens, when a channel that came back refetches its
// views, and the status are the core's (crates/core/src/connector.rs).
//
// Options (all optional):
//   schema  'public'
//   tables  ['work_orders', …]: one postgres_changes binding per table. Absent: one binding on the
//           whole schema (no table), which delivers every change of the schema on every channel:
//           pass `tables` in real apps.
//   filter  a realtime filter string ('factory_id=eq.f1') used on every binding, or a function
//           `(channelName, table) => string | undefined` whose answer is used as is (undefined,
//           null or '' = no filter). Default: a doc channel filters its own table on its id, list
//           and factory channels on the scope column (`factory_id=eq.<factoryId>`); the default
//           filters need `tables`.
//
// The engine's channel name is the supabase-js topic (supabase-js prefixes `realtime:`), so
// broadcasts sent to `doc:work_orders:12` reach the channel of that view. A topic held by a
// channel this connector did not create is reported (`channel_conflict`) and left alone.
//
// Token freshness (supabase-js#2613, realtime-js#274, supabase#16684): on `visibilitychange` →
// visible and on `online`, the session is read with `auth.getSession()` (which refreshes an expired
// token) and handed to `realtime.setAuth(token)` BEFORE any channel may rejoin: a dead socket is
// held closed (phoenix would otherwise reconnect at once with the stale token) and reconnected
// with `realtime.connect()` only after the token is set.

export function connectSupabase(rt, supabase, opts = {}) {
  if (!supabase || typeof supabase.channel !== 'function' || typeof supabase.removeChannel !== 'function') {
    throw new TypeError('connectSupabase: expected a supabase-js v2 client (createClient(...))')
  }
  const schema = opts.schema ?? 'public'
  const filterFn = typeof opts.filter === 'function' ? opts.filter : undefined
  const channels = new Map() // name → RealtimeChannel we created and have not released
  const offs = []
  let lastToken

  const port = rt.attachConnector({
    source: 'supabase',
    share: true, // with shareConnection, only the leader tab's client opens channels (docs/SHARING.md)
    tables: opts.tables,
    filter: typeof opts.filter === 'string' ? opts.filter : undefined,
    open,
    close,
    stop,
  })

  // ---- channels ---------------------------------------------------------------------------

  function filterOf(name, binding) {
    if (!filterFn) return binding.filter
    try {
      const v = filterFn(name, binding.table)
      return v ? String(v) : undefined
    } catch (e) {
      port.error('filter_failed', `filter(${name}) threw: ${e?.message ?? e}`)
      return undefined
    }
  }

  function foreignTopic(name) {
    try {
      const list = typeof supabase.getChannels === 'function' ? supabase.getChannels() : []
      return (list ?? []).find((c) => c && c.topic === `realtime:${name}` && ![...channels.values()].includes(c))
    } catch {
      return undefined
    }
  }

  function open({ name, bindings }) {
    const other = foreignTopic(name)
    if (other) {
      if (other.state === 'leaving' || other.state === 'closed') {
        port.closed(name) // someone's channel on its way out: the core opens ours again later
      } else {
        port.error('channel_conflict', `a supabase-js channel with topic realtime:${name} already exists (state ${other.state}); querywire does not share it`)
        port.refused(name)
      }
      return
    }
    let ch
    try {
      ch = supabase.channel(name)
      for (const b of bindings) {
        const filter = filterOf(name, b)
        ch.on('postgres_changes', { event: '*', schema, ...(b.table ? { table: b.table } : {}), ...(filter ? { filter } : {}) },
          (payload) => port.ingest(payload, name))
      }
      ch.on('broadcast', { event: '*' }, (msg) => port.ingest({ type: 'broadcast', event: msg?.event, payload: msg?.payload }, name))
    } catch (e) {
      port.error('channel_failed', `could not create channel ${name}: ${e?.message ?? e}`)
      port.refused(name)
      return
    }
    channels.set(name, ch)
    try {
      ch.subscribe((status, err) => onChannelStatus(name, ch, status, err))
    } catch (e) {
      channels.delete(name)
      port.error('channel_failed', `could not subscribe ${name}: ${e?.message ?? e}`)
      port.refused(name)
    }
  }

  function close(name) {
    const ch = channels.get(name)
    channels.delete(name)
    release(name, ch)
  }

  // `client.channel(topic)` hands back a channel still leaving (supabase-js#1440): the core opens
  // this name again only after `left`, once removeChannel is done.
  function release(name, ch) {
    if (!ch) return port.left(name)
    Promise.resolve()
      .then(() => supabase.removeChannel(ch))
      .catch((e) => port.error('channel_failed', `removeChannel(${name}) failed: ${e?.message ?? e}`))
      .finally(() => port.left(name))
  }

  function onChannelStatus(name, ch, status, err) {
    if (channels.get(name) !== ch) return // one we are releasing
    if (status === 'SUBSCRIBED') port.joined(name)
    else if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT') {
      // supabase-js rejoins by itself (socket reconnect, rejoin timer).
      if (status === 'CHANNEL_ERROR' && err && err.message && !/heartbeat|close|socket/i.test(String(err.message))) {
        port.error('channel_error', `${name}: ${err.message}`)
      }
      port.down(name)
    } else if (status === 'CLOSED') {
      // Not caused by us: supabase-js drops a closed channel for good.
      channels.delete(name)
      port.closed(name)
    }
  }

  function stop() {
    for (const [name, ch] of [...channels]) {
      channels.delete(name)
      release(name, ch)
    }
    for (const off of offs.splice(0)) {
      try { off() } catch { /* a listener already gone */ }
    }
  }

  // ---- auth ---------------------------------------------------------------------------------

  async function setAuthOnce(token) {
    if (!token || token === lastToken) return
    lastToken = token
    try {
      await supabase.realtime?.setAuth?.(token)
    } catch (e) {
      port.error('auth_failed', `realtime.setAuth failed: ${e?.message ?? e}`)
    }
  }

  // One ordered listener: each event is handled after the previous one finished.
  let signedOut = false
  let authQueue = Promise.resolve()
  function onAuth(event, session) {
    authQueue = authQueue.then(async () => {
      if (port.detached) return
      if (event === 'SIGNED_OUT') {
        signedOut = true
        lastToken = undefined
        port.client('signedOut')
        return
      }
      const token = session?.access_token
      if (event === 'TOKEN_REFRESHED' || event === 'SIGNED_IN' || (event === 'INITIAL_SESSION' && token)) {
        await setAuthOnce(token)
        if (signedOut && token) {
          signedOut = false
          port.client('signedIn')
        }
      }
    }).catch((e) => port.error('auth_failed', String(e?.message ?? e)))
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
    if (port.detached || signedOut || channels.size === 0 || waking) return
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
        port.error('auth_failed', `could not refresh the session before rejoining: ${e?.message ?? e}`)
      }
      if (!port.detached && !signedOut && channels.size > 0 && typeof realtime.isConnected === 'function' && !realtime.isConnected()) {
        try { realtime.connect() } catch (e) { port.error('connect_failed', String(e?.message ?? e)) }
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

  return port.detach
}
