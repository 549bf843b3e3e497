// The connector interface (docs/CONNECTORS.md): how a client the app owns (supabase-js,
// centrifuge-js, or any other that subscribes per channel) is attached to the engine. The
// connector holds its client's handles and does what it is told (`open`, `close`); it reports
// what happens (a channel joined, went down, was closed, is gone; the client's state) through the
// port. Which channels to open, when to reopen, when a channel that came back refetches its views,
// and the status are decided in the core (crates/core/src/connector.rs).

/**
 * Attaches `connector` to `engine` (replacing the one attached before) and returns its port.
 * @param engine the WasmRealtime
 * @param {{ report(e: object): void, ingest(source: string, payload: unknown): void,
 *           connectors: Map<number, object>, onDispose(fn: () => void): void }} host
 * @param connector `{ source, share?, tables?, filter?, open(channel), close(name), connection?(up), stop?() }`
 */
export function attachConnector(engine, host, connector) {
  const { source = 'connector' } = connector
  const id = (host.nextId = (host.nextId ?? 0) + 1)
  let detached = false
  const alive = () => !detached && host.connectors.get(id) === entry

  const fact = (name, f) => { if (alive()) engine.channelFact(id, String(name), f) }
  const port = {
    /** The channel is subscribed; `replay`: 'replayed' (the server resent what it missed) or
     *  'lost' (it tried and could not); omit it when the client cannot say. `position`: the
     *  stream position it joined at (`{ offset, epoch }`, centrifuge-js), kept for sharing. */
    joined: (name, replay, position) => {
      if (alive() && position && typeof position.epoch === 'string' && Number.isSafeInteger(position.offset)) {
        engine.sharePosition(String(name), position.offset, position.epoch)
      }
      fact(name, replay === 'replayed' || replay === 'lost' ? replay : 'joined')
    },
    /** Down; the client rejoins it by itself. */
    down: (name) => fact(name, 'down'),
    /** Closed by the server; the client will not rejoin it (the core reopens it). */
    closed: (name) => fact(name, 'closed'),
    /** The handle `close(name)` released is gone. */
    left: (name) => fact(name, 'left'),
    /** Cannot be opened (the connector reported why). */
    refused: (name) => fact(name, 'refused'),
    /** The client's state: 'connecting' | 'connected' | 'disconnected' | 'signedOut' | 'signedIn' | 'failed'. */
    client: (state) => { if (alive()) engine.clientState(id, String(state)) },
    /** A payload the client delivered; `channel`: the channel it came on (`shareConnection`
     *  forwards it to the other tabs, each applies what is on its own channels); `seq`: its
     *  offset in that channel's stream (a Centrifugo publication's), when it has one. */
    ingest: (payload, channel, seq) => { if (alive()) host.ingest(source, payload, channel, seq) },
    /** Something the app should know about (`onError`). */
    error: (code, message) => { if (alive()) host.report({ code, message, source }) },
    /** Detaches: every channel is closed through `close`, then `stop()`; idempotent. */
    detach,
    get detached() { return detached },
  }
  const entry = { connector, port }

  function detach() {
    if (detached) return
    if (host.connectors.get(id) === entry) engine.detachConnector(id) // `close` for each channel
    detached = true
    host.connectors.delete(id)
    if (connector.share === true) host.detached?.()
    try { connector.stop?.() } catch (e) { host.report({ code: 'connector_failed', message: String(e?.message ?? e), source }) }
  }

  if (host.disposed) {
    // A disposed engine opens nothing: the port is born detached.
    detached = true
    return port
  }
  for (const [other, e] of [...host.connectors]) if (other !== id) e.port.detach()
  host.connectors.set(id, entry)
  host.onDispose(detach)
  const tables = Array.isArray(connector.tables) && connector.tables.length ? connector.tables.map(String) : undefined
  engine.attachConnector(id, tables, typeof connector.filter === 'string' ? connector.filter : undefined)
  // `share: true` (supabase-js, centrifuge-js): with shareConnection only the leader tab's client
  // opens channels; a connector with `connection(up)` (centrifuge-js) has its client's connection
  // held by the core too: connected in the leader tab only.
  if (connector.share === true) host.attached?.(id, typeof connector.connection === 'function')
  return port
}

/** Routes the engine's `open`/`close` outputs to the connector they are for. */
export function connectorHandlers(host) {
  const call = (id, method, arg) => {
    const e = host.connectors.get(id)
    if (!e) return
    try {
      e.connector[method](arg)
    } catch (err) {
      host.report({ code: 'connector_failed', message: `${method}: ${err?.message ?? err}`, source: e.connector.source ?? 'connector' })
    }
  }
  return {
    open: (id, channel) => call(id, 'open', channel),
    close: (id, name) => call(id, 'close', name),
    /** `shareConnection`: connect (`true`) or disconnect the client of connector `id`. */
    connection: (id, up) => call(id, 'connection', up === true),
  }
}
