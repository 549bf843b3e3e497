// The policy's query keys, built in one place (docs/API.md, "Keys"). The core builds the same keys for
// its doc/list policy and for views (crates/core/src/views.rs, engine.rs): ids and factory ids are
// text there, `String(id)`, so a numeric id and its string meet.

/** `['doc', type, String(id)]`: a document's query key, as the policy invalidates and patches it. */
export function docKey(type, id) {
  return ['doc', type, String(id)]
}

/** `['list', type, String(factoryId), { page }]`: a list page; the policy invalidates page 1 (the head). */
export function listKey(type, factoryId, page = 1) {
  return ['list', type, String(factoryId), { page }]
}

/** `['list', type, String(factoryId)]`: every page of a list (what a list view refetches on recovery). */
export function listPrefix(type, factoryId) {
  return ['list', type, String(factoryId)]
}

// ---- development check -------------------------------------------------------------------------
// A view whose doc query is cached under another id type (`['doc', t, 12]` where the policy and
// the view use `['doc', t, '12']`) is never refreshed; in development one console warning says so.
// `process.env.NODE_ENV` is what bundlers replace (and what @tanstack/query-core itself reads), so
// a production build folds the check to `false`; a page without `process` gets no warnings.

export function devChecks() {
  try {
    return process.env.NODE_ENV !== 'production'
  } catch {
    return false
  }
}

/**
 * Watches one engine's views against its QueryClient's cache: warns once per view whose doc key
 * matches no cached query while a query differing only in the id's type does. Returns a stop function.
 */
export function watchKeyTypes(queryClient, warn = (m) => console.warn(m)) {
  const cache = queryClient.getQueryCache()
  const open = new Map() // queryHash of an open doc view -> { type, id, count }
  const warned = new Set()
  const check = (hash) => {
    const v = open.get(hash)
    if (!v || warned.has(hash)) return
    if (cache.get(hash)) return
    const id = String(v.id)
    const other = cache.getAll().find((q) => {
      const k = q.queryKey
      return Array.isArray(k) && k.length === 3 && k[0] === 'doc' && k[1] === v.type && typeof k[2] !== 'string' && String(k[2]) === id
    })
    if (!other) return
    warned.add(hash)
    warn(`[querywire] the view { kind: 'doc', type: ${JSON.stringify(v.type)}, id: ${JSON.stringify(v.id)} } refreshes `
      + `the query ${hash}, but the cached query is ${other.queryHash} (id ${typeof other.queryKey[2]}), which querywire `
      + `never invalidates. Build the query key with docKey(${JSON.stringify(v.type)}, id) from 'querywire'.`)
  }
  const offCache = cache.subscribe((event) => {
    if (event.type !== 'added') return
    const k = event.query.queryKey
    if (Array.isArray(k) && k[0] === 'doc' && k.length === 3) check(JSON.stringify(docKey(k[1], k[2])))
  })
  return {
    opened(view) {
      if (view?.kind !== 'doc' || typeof view.type !== 'string' || view.id === undefined || view.id === null) return () => {}
      const hash = JSON.stringify(docKey(view.type, view.id))
      const v = open.get(hash) ?? { type: view.type, id: view.id, count: 0 }
      v.count++
      open.set(hash, v)
      check(hash)
      return () => {
        if (--v.count === 0) open.delete(hash)
      }
    },
    stop: offCache,
  }
}
