// centrifuge-js v5 connector: one Subscription per view channel the engine needs, created and
// removed as views come and go; publications go to `rt.ingest('centrifugo', ctx)` (the engine
// dedupes by `offset` per channel), the client's connection state to the engine's status.
//
// Options (all optional):
//   recoverable  passed to `newSubscription` (stream recovery from Centrifugo's history)
//   positioned   passed to `newSubscription`
//   subscription extra SubscriptionOptions (an object, or `(channelName) => object`), e.g. getToken
//
// The app owns the client: it calls `centrifuge.connect()` itself (before or after this), and its
// tokens. With `shareConnection` (docs/SHARING.md) the core holds the connection instead: it tells
// this connector to connect the client in the leader tab only (`connection(true)`), and to keep it
// disconnected in the others, which get the leader's publications and status; the app then does
// not call `connect()` (a follower's client that connects anyway is disconnected again). A new
// leader's subscriptions are created with `since` (the stream position every tab kept), so
// Centrifugo replays what the handover missed. Tokens: centrifuge-js calls the app's `getToken` on connect, after `token expired` (error 109) and
// before the token's `ttl` runs out (a `refresh` on the open connection), so nothing here refreshes.
// Client state: `connecting` / `connected` / `disconnected` as the client says; a `disconnected` the
// app did not ask for (code != 0: 3500 invalid token, 1 unauthorized from getToken, other 35xx/45xx
// codes) is final in centrifuge-js (it does not reconnect): reported as `failed` (status `error`) with
// `onError({ code: 'unauthorized' | 'forbidden' | 'disconnected', … })`.
// Recovery: a subscription that comes back (`subscribed` after it had been subscribed) refetches
// its views once, unless Centrifugo recovered what it missed (`wasRecovering && recovered`):
// `wasRecovering && !recovered` (history too short, epoch changed), a stream whose epoch changed
// (reported `lost` whatever its flags say) and a non-recoverable
// subscription that returns both refetch. Subscriptions that return together (one reconnect) are
// recovered together, so a view under two channels (its own and `factory:`) is refetched once.
// A subscription already registered on the client (`getSubscription(name)`) is shared: our
// listeners are added, and on close only removed; it is neither unsubscribed nor removed.

// `early`: client events that happened before this ran ([event, ctx] pairs, in order; createRealtime
// records them while this module loads), handled as if this had been listening.
export function connectCentrifuge(rt, centrifuge, opts = {}, early = []) {
  if (!centrifuge || typeof centrifuge.newSubscription !== 'function' || typeof centrifuge.on !== 'function') {
    throw new TypeError('connectCentrifuge: expected a centrifuge-js v5 Centrifuge client')
  }
  const offs = []
  // entries: name → { name, sub, own, offs }
  const entries = new Map()
  // The connector interface (docs/CONNECTORS.md): the core decides, this holds the subscriptions.
  const port = rt.attachConnector({
    source: 'centrifugo',
    share: true, // with shareConnection, only the leader tab's client connects and subscribes
    connection(up) {
      if (up) centrifuge.connect()
      else centrifuge.disconnect()
    },
    open: ({ name, since }) => open(name, since),
    close: (name) => {
      const entry = entries.get(name)
      entries.delete(name)
      if (entry) close(entry)
      port.left(name)
    },
    stop() {
      for (const entry of [...entries.values()]) close(entry)
      entries.clear()
      for (const off of offs.splice(0)) {
        try { off() } catch { /* a listener already gone */ }
      }
    },
  })
  const report = (code, message) => port.error(code, message)

  function subOptions(name, since) {
    const o = since ? { since: { offset: since.offset, epoch: since.epoch } } : {}
    if (opts.recoverable !== undefined) o.recoverable = !!opts.recoverable
    if (opts.positioned !== undefined) o.positioned = !!opts.positioned
    const extra = typeof opts.subscription === 'function' ? opts.subscription(name) : opts.subscription
    return { ...o, ...(extra ?? {}) }
  }

  function listen(target, event, fn) {
    target.on(event, fn)
    return () => {
      if (typeof target.removeListener === 'function') target.removeListener(event, fn)
      else if (typeof target.off === 'function') target.off(event, fn)
    }
  }

  function open(name, since) {
    let sub
    let own = false
    try {
      sub = typeof centrifuge.getSubscription === 'function' ? centrifuge.getSubscription(name) : null
      if (!sub) {
        sub = centrifuge.newSubscription(name, subOptions(name, since))
        own = true
      }
    } catch (e) {
      report('subscription_failed', `could not create subscription ${name}: ${e?.message ?? e}`)
      return
    }
    const entry = { name, sub, own, epoch: (own && since?.epoch) || null, offs: [] }
    entry.offs.push(listen(sub, 'publication', (ctx) => port.ingest(ctx, name, ctx?.offset)))
    // Subscribing again for any reason but our own subscribe() call (code 0): it is down.
    entry.offs.push(listen(sub, 'subscribing', (ctx) => {
      if (entries.get(name) === entry && ctx && ctx.code !== 0) port.down(name)
    }))
    entry.offs.push(listen(sub, 'subscribed', (ctx) => {
      if (entries.get(name) !== entry) return
      // A stream whose epoch changed was reset: what was missed is gone, whatever the flags say.
      const epoch = ctx?.streamPosition?.epoch ?? null
      const reset = entry.epoch !== null && epoch !== null && epoch !== entry.epoch
      if (epoch !== null) entry.epoch = epoch
      const position = ctx?.streamPosition
      if (reset) return port.joined(name, 'lost', position)
      port.joined(name, ctx && ctx.wasRecovering ? (ctx.recovered ? 'replayed' : 'lost') : undefined, position)
    }))
    entry.offs.push(listen(sub, 'error', (ctx) => {
      report('subscription_error', `${name}: ${ctx?.type ?? 'error'} ${ctx?.error?.code ?? ''} ${ctx?.error?.message ?? ''}`.trim())
    }))
    entry.offs.push(listen(sub, 'unsubscribed', (ctx) => {
      // Code 0 is a client-side unsubscribe (ours or the app's); others come from the server.
      if (entries.get(name) === entry && ctx && ctx.code !== 0) {
        report('unsubscribed', `${name}: ${ctx.code} ${ctx.reason ?? ''}`.trim())
      }
    }))
    entries.set(name, entry)
    if (sub.state === 'subscribed') port.joined(name) // a shared subscription already joined
    if (own || sub.state === 'unsubscribed') {
      try { sub.subscribe() } catch (e) { report('subscription_failed', `${name}: ${e?.message ?? e}`) }
    }
  }

  function close(entry) {
    for (const off of entry.offs.splice(0)) off()
    if (!entry.own) return
    try {
      entry.sub.unsubscribe()
      centrifuge.removeSubscription(entry.sub)
    } catch (e) {
      report('subscription_failed', `could not remove subscription ${entry.name}: ${e?.message ?? e}`)
    }
  }

  const onClient = {
    connecting: () => port.client('connecting'),
    connected: () => port.client('connected'),
    disconnected: (ctx) => {
      const code = ctx?.code ?? 0
      if (code === 0) return port.client('disconnected') // centrifuge.disconnect()
      report(disconnectCode(code), `centrifugo disconnected the client: ${code} ${ctx.reason ?? ''}`.trim())
      port.client('failed')
    },
    error: (ctx) => {
      // getToken failed (centrifuge-js retries it with backoff). Transport errors of a reconnect in
      // progress are not reported: the status says it.
      if (ctx?.type === 'connectToken' || ctx?.type === 'refreshToken') {
        report('token', `centrifuge-js getToken failed (${ctx.type}): ${ctx.error?.message ?? ''}`.trim())
      }
    },
  }
  for (const [event, fn] of Object.entries(onClient)) offs.push(listen(centrifuge, event, fn))
  const state = centrifuge.state ?? 'disconnected'
  const before = Array.isArray(early) ? early.filter(([event]) => onClient[event]) : []
  if (before.length === 0) port.client(state === 'connected' || state === 'connecting' ? state : 'disconnected')
  // What happened before we listened, in order; the last state event leaves the client's state.
  for (const [event, ctx] of before) onClient[event](ctx)
  return port.detach
}

/** A final Centrifugo disconnect code as querywire's error code. */
function disconnectCode(code) {
  if (code === 1 || code === 3500) return 'unauthorized' // getToken's UnauthorizedError, invalid token
  if (code === 3507) return 'forbidden' // permission denied
  return 'disconnected'
}
