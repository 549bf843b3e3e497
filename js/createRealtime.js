import { applyPlan, createPlanDecoder } from './applyPlan.js'
import { loadWasm } from './loadWasm.js'
import { connectSupabase } from './connectSupabase.js'
import { connectCentrifuge } from './connectCentrifuge.js'
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

function toReport(e) {
  return { code: e?.code ?? 'internal', message: e?.message ?? String(e), source: e?.source ?? 'querywire' }
}

/**
 * Creates an engine bound to `options.queryClient`. Resolves once the WebAssembly module is loaded.
 * See CONTRACT.md "Creating an engine"; every option but queryClient is optional.
 */
export async function createRealtime(options = {}) {
  const { queryClient, onError } = options
  if (!queryClient || typeof queryClient.getQueryCache !== 'function') {
    throw new TypeError('createRealtime: options.queryClient must be a TanStack Query QueryClient')
  }
  const { WasmRealtime } = await loadWasm()
  const engine = new WasmRealtime(engineOptions(options))
  // One connection per browser (js/share.js); where Web Locks or BroadcastChannel are missing, the
  // option is off, or realtime is (`enabled: false`: each tab polls, there is nothing to share),
  // `share` stays null and nothing below changes.
  const shareOpts = options.enabled === false ? null : shareOptions(options.shareConnection)
  const share = shareOpts && sharingAvailable() ? await startShare(engine, shareOpts) : null

  const report = (e) => {
    const err = toReport(e)
    if (typeof onError === 'function') {
      try { onError(err) } catch { /* a throwing onError must not stop the engine */ }
    } else {
      console.warn(`[querywire] ${err.code} (${err.source}): ${err.message}`)
    }
  }

  let status = 'disconnected'
  const statusListeners = new Set()
  const channelListeners = new Set()
  let disposed = false

  const decodePlan = createPlanDecoder()
  engine.setHandlers({
    plan(bytes) {
      try {
        // Decoded in full first: the bytes are a view of wasm memory, valid until JS calls back.
        return applyPlan(queryClient, decodePlan(bytes))
      } catch (e) {
        report({ code: 'apply_failed', message: String(e?.message ?? e), source: 'queryClient' })
        return { invalidations: 0, patches: 0 }
      }
    },
    error: report,
    status(s) {
      if (s === status) return
      status = s
      for (const cb of statusListeners) {
        try { cb(s) } catch (e) { report({ code: 'listener_failed', message: String(e?.message ?? e), source: 'onStatus' }) }
      }
    },
    channels(diff) {
      share?.channels()
      for (const cb of channelListeners) cb(diff)
    },
    share(message) {
      share?.send(message)
    },
  })

  const rt = {
    ingest(source, payload) {
      if (disposed) return
      let text
      try {
        text = JSON.stringify(payload)
      } catch (e) {
        // A cyclic or BigInt payload cannot be read; it is reported and counted like any bad input.
        engine.recordInvalid()
        report({ code: 'not_object', message: `payload cannot be serialised: ${e?.message ?? e}`, source: String(source) })
        return
      }
      engine.ingestText(String(source), text ?? 'null')
    },
    ingestText(source, text) {
      if (disposed) return
      if (typeof text !== 'string') {
        engine.recordInvalid()
        report({ code: 'bad_json', message: 'ingestText expects a string of JSON text', source: String(source) })
        return
      }
      engine.ingestText(String(source), text)
    },
    flush() {
      if (!disposed) engine.flush()
    },
    dispose() {
      if (disposed) return
      disposed = true
      share?.dispose()
      engine.dispose()
      statusListeners.clear()
      for (const off of cleanups.splice(0)) off()
    },
    stats() {
      return engine.stats()
    },
    subscribe(view) {
      const handle = engine.subscribe(view)
      let done = false
      return () => {
        if (done) return
        done = true
        engine.unsubscribe(handle)
      }
    },
    setScope(scope) {
      engine.setScope(scope)
    },
    status() {
      return status
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
      return connectSupabase(rt, supabase, opts)
    },
    connectCentrifuge(centrifuge, opts = {}) {
      return connectCentrifuge(rt, centrifuge, opts)
    },
    shareRole() {
      return share && !disposed ? share.role() : 'off'
    },
  }

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
  const cleanups = []
  // Internal hooks for the connectors (supabase-js, centrifuge-js): not part of the public API.
  Object.defineProperty(rt, '_engine', { value: engine })
  Object.defineProperty(rt, '_onChannels', {
    value(cb) {
      channelListeners.add(cb)
      return () => channelListeners.delete(cb)
    },
  })
  Object.defineProperty(rt, '_report', { value: report })
  Object.defineProperty(rt, '_cleanup', { value: (off) => cleanups.push(off) })
  return rt
}
