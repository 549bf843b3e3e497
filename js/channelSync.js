// What the JS-held connectors (supabase-js, centrifuge-js) share: one client channel per channel the
// engine's views need, changes applied one task later (React StrictMode's same-tick unmount/remount
// never reaches the client), and channels that came back without a replay reported to the engine,
// batched so that channels returning together (one socket drop) refetch each view once.

const RETURN_SETTLE_MS = 150
const FACTORY = /^factory:/

/**
 * @param rt the engine returned by createRealtime
 * @param {{ open(name: string): void, close(entry: { name: string }): void,
 *           wanted?(): Iterable<string>, settleMs?(): number, afterReconcile?(): void }} hooks
 *   `open` creates a client channel and puts its entry (`{ name, … }`) in `sync.entries`;
 *   `close` releases an entry's client channel (the entry has already left `sync.entries`).
 */
export function channelSync(rt, { open, close, wanted, settleMs, afterReconcile }) {
  const engine = rt._engine
  const entries = new Map()
  const returned = new Set()
  let stopped = false
  let reconcileTimer = null
  let returnTimer = null

  function reconcile() {
    reconcileTimer = null
    if (stopped) return
    const want = new Set(wanted ? wanted() : engine.channels())
    for (const entry of [...entries.values()]) if (!want.has(entry.name)) drop(entry)
    for (const name of want) if (!entries.has(name)) open(name)
    afterReconcile?.()
  }

  function schedule() {
    if (stopped || reconcileTimer !== null) return
    reconcileTimer = setTimeout(reconcile, 0)
  }

  function drop(entry) {
    entries.delete(entry.name)
    returned.delete(entry.name)
    close(entry)
  }

  function noteReturn(name) {
    returned.add(name)
    clearTimeout(returnTimer)
    returnTimer = setTimeout(flushReturns, settleMs ? settleMs() : RETURN_SETTLE_MS)
  }

  function flushReturns() {
    returnTimer = null
    if (stopped || returned.size === 0) return
    const names = [...returned]
    returned.clear()
    const all = [...entries.keys()]
    if (names.some((n) => FACTORY.test(n)) || (all.length > 0 && all.every((n) => names.includes(n)))) {
      engine.recover(undefined)
    } else {
      for (const n of names) engine.recover(n)
    }
  }

  const offChannels = rt._onChannels(schedule)

  function stop() {
    if (stopped) return
    for (const entry of [...entries.values()]) drop(entry)
    stopped = true
    clearTimeout(reconcileTimer)
    clearTimeout(returnTimer)
    offChannels()
  }

  /**
   * Opens what the views need now and returns the connector's disconnect function: idempotent, it
   * closes every channel, runs the connector's own `offs`, reports `disconnected`, and runs on
   * `rt.dispose()` too.
   */
  function start(offs) {
    reconcile()
    const disconnect = () => {
      if (stopped) return
      stop()
      for (const off of offs.splice(0)) {
        try { off() } catch { /* a listener already gone */ }
      }
      try { engine.setStatus('disconnected') } catch { /* the engine was disposed */ }
    }
    rt._cleanup(disconnect)
    return disconnect
  }

  return {
    entries,
    start,
    reconcile,
    schedule,
    drop,
    noteReturn,
    stop,
    get stopped() { return stopped },
  }
}

export { RETURN_SETTLE_MS }
