// One connection per browser (`shareConnection`): the tabs of an origin elect one leader with Web
// Locks, and their engines talk over a BroadcastChannel (docs/SHARING.md). This file reads the
// option and says whether a page can share; the session itself (election, messages) is
// js/shareSession.js, loaded by `startShare` on first use, so an app that never shares never
// loads it (it is a chunk of its own in dist/).

/** How long a leader may stay hidden before a visible tab takes over (ms). */
export const HIDDEN_HANDOVER_MS = 30_000

/** Web Locks and BroadcastChannel in a page (not Node, not SSR, not a worker). */
export function sharingAvailable(g = globalThis) {
  return (
    typeof g.window !== 'undefined' &&
    typeof g.document !== 'undefined' &&
    typeof g.navigator?.locks?.request === 'function' &&
    typeof g.BroadcastChannel === 'function'
  )
}

/** The `shareConnection` option as `{ name, hiddenHandoverMs }`, or null when sharing is off. */
export function shareOptions(opt) {
  if (opt === true) return { name: 'default', hiddenHandoverMs: HIDDEN_HANDOVER_MS }
  if (opt && typeof opt === 'object') {
    const name = typeof opt.name === 'string' && opt.name !== '' ? opt.name : 'default'
    const ms = Number.isFinite(opt.hiddenHandoverMs) && opt.hiddenHandoverMs >= 0 ? opt.hiddenHandoverMs : HIDDEN_HANDOVER_MS
    return { name, hiddenHandoverMs: ms }
  }
  return null
}

/**
 * Joins the tabs of `opts.name` (js/shareSession.js, loaded now). Resolves once this engine holds
 * its own tab lock; the returned object is driven by createRealtime.
 */
export async function startShare(engine, opts) {
  const session = await import('./shareSession.js')
  return session.startShare(engine, opts)
}
