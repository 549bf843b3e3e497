// The observation feed behind `rt.inspect(listener)` (docs/API.md "rt.inspect"): what the shim
// already sees, as records `{ t, kind, ... }`. Nothing is recorded, copied or listened to until a
// listener is attached, so an app that never inspects pays one boolean test per call.

const now = () => Date.now()

export function createTap() {
  const listeners = new Set()
  const tap = {
    on: false,
    emit(record) {
      record.t ??= now()
      for (const l of listeners) {
        try { l(record) } catch { /* an inspector must not break the engine */ }
      }
    },
    /** Adds a listener; `attach()` runs when the first one arrives, `detach()` after the last. */
    add(listener, attach, detach) {
      listeners.add(listener)
      if (!tap.on) {
        tap.on = true
        attach()
      }
      let done = false
      return () => {
        if (done) return
        done = true
        listeners.delete(listener)
        if (listeners.size === 0 && tap.on) {
          tap.on = false
          detach()
        }
      }
    },
    clear() {
      listeners.clear()
      tap.on = false
    },
  }
  return tap
}

export function isVisible() {
  return typeof document === 'undefined' || document.visibilityState !== 'hidden'
}

/** Each query's current fetch (its promise), so the fetches a plan starts can be told apart. */
export function fetchSnapshot(queryClient) {
  const m = new Map()
  for (const q of queryClient.getQueryCache().getAll()) m.set(q, q.promise)
  return m
}

/** The query hashes whose fetch started since `before` (a new fetch, or a restarted one). */
export function startedSince(queryClient, before) {
  const out = []
  for (const q of queryClient.getQueryCache().getAll()) {
    if (q.state.fetchStatus === 'fetching' && q.promise !== undefined && before.get(q) !== q.promise) out.push(q.queryHash)
  }
  return out
}
