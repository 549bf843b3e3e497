// A burst of realtime events through querywire in Node, with a real TanStack QueryClient:
// prints what the burst turned into (flushes, refetches) next to what a naive handler would do.
//   node examples/node-burst.mjs        (after `bash scripts/build.sh`)
import { QueryClient, QueryObserver } from '@tanstack/query-core'
import { createRealtime } from '../js/index.js'

const queryClient = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity } } })
const fetches = new Map()
function watch(queryKey) {
  const name = JSON.stringify(queryKey)
  const observer = new QueryObserver(queryClient, {
    queryKey,
    queryFn: async () => {
      fetches.set(name, (fetches.get(name) ?? 0) + 1)
      return { id: queryKey[2], status: 'open', version: 1 }
    },
  })
  observer.subscribe(() => {})
  return observer
}

const views = [['doc', 'work_orders', '1'], ['doc', 'work_orders', '2'], ['list', 'work_orders', 'f1', { page: 1 }],
  ['list', 'work_orders', 'f1', { page: 2 }], ['dashboard', 'f1']]
views.forEach(watch)
await new Promise((r) => setTimeout(r, 20))
fetches.clear()

const errors = []
const rt = await createRealtime({
  queryClient,
  debounceMs: 100,
  scope: { factoryId: 'f1' },
  rules: [{ table: 'work_order_lines', invalidate: [['dashboard', '{factory_id}']] }],
  onError: (e) => errors.push(e),
})

const change = (eventType, table, row, old = { id: row.id }) => ({
  schema: 'public', table, commit_timestamp: new Date().toISOString(), eventType,
  new: eventType === 'DELETE' ? {} : row, old: eventType === 'INSERT' ? {} : old, errors: null,
})
const burst = []
for (let v = 2; v <= 41; v++) {
  const row = { id: 1, factory_id: 'f1', status: v % 2 ? 'open' : 'done', version: v }
  burst.push(change('UPDATE', 'work_orders', row, { ...row, status: 'x', version: v - 1 }))
}
burst.push(change('DELETE', 'work_orders', {}, { id: 7, factory_id: 'f1' }))
burst.push(change('INSERT', 'work_orders', { id: 8, factory_id: 'f1', version: 1 }))
for (let i = 0; i < 20; i++) burst.push(change('INSERT', 'work_order_lines', { id: 100 + i, factory_id: 'f1' }))
burst.push(change('UPDATE', 'work_orders', { id: 9, factory_id: 'f2', version: 1 })) // another tenant
burst.push(change('UPDATE', 'work_orders', { id: 1, factory_id: 'f1', version: 3 }, { id: 1, version: 2, status: 'x' })) // stale
burst.push({ table: 'work_orders' }) // malformed

for (const p of burst) rt.ingest('supabase', p)
await new Promise((r) => setTimeout(r, 300))

const s = rt.stats()
console.log(`events in:           ${s.received} (in one burst)`)
console.log(`flushes:             ${s.flushes}`)
console.log(`keys invalidated:    ${s.invalidations}, docs patched: ${s.patches} (no refetch for a patch)`)
console.log(`dropped:             ${JSON.stringify(s.dropped)}`)
console.log(`errors reported:     ${errors.map((e) => e.code).join(', ')}`)
console.log('refetches per query:')
for (const k of views) console.log(`  ${JSON.stringify(k).padEnd(42)} ${fetches.get(JSON.stringify(k)) ?? 0}`)
const total = [...fetches.values()].reduce((a, b) => a + b, 0)
console.log(`total refetches:     ${total} (a naive per-event invalidateQueries would start about ${burst.length - 4})`)
console.log(`doc 1 in the cache:  ${JSON.stringify(queryClient.getQueryData(['doc', 'work_orders', '1']))}`)
rt.dispose()
