// Optimistic updates (docs/API.md, "Optimistic updates"): the shim only watches the QueryClient's
// MutationCache and tells the engine which mutations are pending and which query keys each names
// (its `mutationKey` and `meta.querywire.keys`, both prefixes). Which operations wait and when they
// are released is the core's decision (crates/core/src/hold.rs).
//
// MutationCache listeners run synchronously inside the mutation's dispatch: `pending` is reported
// before `onMutate` runs (so the optimistic `setQueryData` is already protected), and settled after
// `onSuccess` / `onError` / `onSettled` (so a rollback has happened before anything is released).
import { hashKey } from '@tanstack/query-core'

/** The key prefixes a mutation names: its `mutationKey` and `meta.querywire.keys`. */
export function mutationKeys(mutation) {
  const out = []
  const key = mutation.options?.mutationKey
  if (Array.isArray(key) && key.length > 0) out.push(key)
  const extra = mutation.options?.meta?.querywire?.keys
  if (Array.isArray(extra)) for (const k of extra) if (Array.isArray(k) && k.length > 0) out.push(k)
  return out
}

/** Reports pending mutations to `engine` until the returned function is called. */
export function watchMutations(queryClient, engine) {
  // The engine compares keys as TanStack's hashes, one per line (a hash never holds a raw newline).
  const cache = typeof queryClient.getMutationCache === 'function' ? queryClient.getMutationCache() : null
  if (!cache || typeof engine.mutationStarted !== 'function') return () => {}
  const held = new Set() // mutationIds reported as started
  const started = (m) => {
    const keys = mutationKeys(m)
    if (keys.length === 0) return
    held.add(m.mutationId)
    engine.mutationStarted(m.mutationId, keys.map((k) => hashKey(k)).join('\n'))
  }
  const settled = (id) => {
    if (held.delete(id)) engine.mutationSettled(id)
  }
  const check = (m) => {
    const pending = m.state.status === 'pending'
    if (pending && !held.has(m.mutationId)) started(m)
    else if (!pending) settled(m.mutationId)
  }
  for (const m of cache.getAll()) check(m)
  const off = cache.subscribe((event) => {
    if (event.type === 'removed') settled(event.mutation.mutationId)
    else if (event.mutation) check(event.mutation)
  })
  return () => {
    off()
    for (const id of [...held]) settled(id)
  }
}
