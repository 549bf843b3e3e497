// Type-checked, never run: `npx tsc --noEmit -p tests/types`. It imports the package by its
// own name, so the `exports` map and its `types` conditions are what is checked.
import { QueryClient as CoreQueryClient } from '@tanstack/query-core'
import { QueryClient, QueryClientProvider, useQuery } from '@tanstack/react-query'
import { createClient } from '@supabase/supabase-js'
import { Centrifuge } from 'centrifuge'
import { createElement, type ReactNode } from 'react'
import {
  createRealtime,
  docKey,
  listKey,
  listPrefix,
  type DocKey,
  type KeyTemplate,
  type ListKey,
  type Realtime,
  type RealtimeError,
  type RealtimeOptions,
  type Rule,
  type Stats,
  type Status,
  type View,
} from 'querywire'
import { RealtimeProvider, useRealtime, useRealtimeQuery, useRealtimeStatus, useRealtimeSubscription, type RealtimeQueryOptions } from 'querywire/react'
import type { UseQueryResult } from '@tanstack/react-query'

const queryClient = new QueryClient()

const linesKey: KeyTemplate = ['doc', 'work_orders', '{work_order_id}']
const rules: Rule[] = [
  { table: 'work_order_lines', events: ['INSERT', 'DELETE'], invalidate: [linesKey] },
  {
    table: 'audit',
    invalidate: [
      { queryKey: ['audit', { factory: '{factory_id}' }], exact: false, refetchType: 'none' },
      ['label', 'wo-{id}', 3, true, null],
    ],
  },
]

const options: RealtimeOptions = {
  queryClient,
  debounceMs: 300,
  maxWaitMs: 1000,
  scope: { factoryId: 'f1' },
  rules,
  primaryKey: ['id', 'uuid', 'code'],
  patch: true,
  onError: (e: RealtimeError) => console.warn(e.code, e.message, e.source),
}

async function main(): Promise<void> {
  const rt: Realtime = await createRealtime(options)
  // A query-core client is as good as a react-query one.
  await createRealtime({ queryClient: new CoreQueryClient() })
  // One connection per browser.
  const shared = await createRealtime({ queryClient: new CoreQueryClient(), shareConnection: { name: 'orders', hiddenHandoverMs: 30_000 } })
  const role: 'leader' | 'follower' | 'off' = shared.shareRole()
  await createRealtime({ queryClient: new CoreQueryClient(), shareConnection: true })
  // @ts-expect-error: a name is a string
  await createRealtime({ queryClient: new CoreQueryClient(), shareConnection: { name: 1 } })
  // @ts-expect-error: the package's internal wiring (dist/index.js answers a registered symbol, for
  // querywire/replay and querywire/devtools) is not public API: createRealtime takes options only
  createRealtime(Symbol.for('querywire.internal'))
  console.log(role)

  rt.ingest('event', { type: 'work_orders', id: 12, action: 'approve', changedKeys: ['status'], version: 4, data: { status: 'approved' } })
  rt.ingest('envelope', { type: 'realtime', entity: 'work_orders', action: 'update', data: { id: 1 }, timestamp: '2026-01-01T00:00:00Z', id: 'chg-1' })
  rt.ingest('invalidate', { queryKey: ['list', 'work_orders'], exact: false, refetchType: 'all' })
  rt.ingest('centrifugo', { channel: 'doc:work_orders:1', data: { event: 'invalidate', queryKey: ['doc', 'work_orders', '1'] }, offset: 7 })
  rt.ingest('supabase', {
    schema: 'public', table: 'work_orders', commit_timestamp: '2026-01-01T00:00:00Z', eventType: 'UPDATE',
    new: { id: 1, status: 'open' }, old: { id: 1 }, errors: null,
  })
  rt.ingest('supabase', { type: 'broadcast', event: 'change', payload: { type: 'work_orders', id: 1, action: 'update' } })
  // Raw socket text parsed by the app is `any`, and accepted as is.
  rt.ingest('envelope', JSON.parse('{}'))

  // @ts-expect-error: not a source
  rt.ingest('kafka', {})
  // @ts-expect-error: an event's action is one of five
  rt.ingest('event', { type: 'work_orders', id: 1, action: 'upsert' })

  // supabase-js's own callback payload fits `ingest('supabase', …)` without a cast.
  const supabase = createClient('http://127.0.0.1:54321', 'anon-key')
  supabase
    .channel('work_orders')
    .on('postgres_changes', { event: '*', schema: 'public', table: 'work_orders' }, (payload) => rt.ingest('supabase', payload))
    .subscribe()
  const stopSupabase: () => void = rt.connectSupabase(supabase, { schema: 'public', tables: ['work_orders'], filter: 'factory_id=eq.f1' })

  const centrifuge = new Centrifuge('ws://127.0.0.1:8000/connection/websocket')
  const stopCentrifuge: () => void = rt.connectCentrifuge(centrifuge)

  const stopWs = rt.connectWebSocket('ws://127.0.0.1:8787/ws', {
    token: async () => 'jwt',
    backoff: { initialMs: 1000, maxMs: 30000, maxAttempts: 10 },
    heartbeat: { intervalMs: 30000, timeoutMs: 10000 },
  })
  const stopSse = rt.connectEventSource('/sse', { token: () => 'jwt' })

  const views: View[] = [{ kind: 'doc', type: 'work_orders', id: 12 }, { kind: 'list', type: 'work_orders' }]
  const offs = views.map((view) => rt.subscribe(view))
  // @ts-expect-error: a doc view needs an id
  rt.subscribe({ kind: 'doc', type: 'work_orders' })

  rt.setScope({ factoryId: 'f2' })
  const status: Status = rt.status()
  const offStatus = rt.onStatus((s: Status) => console.log(s))
  const stats: Stats = rt.stats()
  const total: number = stats.received + stats.flushes + stats.invalidations + stats.patches +
    stats.dropped.invalid + stats.dropped.stale + stats.dropped.duplicate + stats.dropped.outOfScope

  rt.flush()
  for (const off of [...offs, offStatus, stopSupabase, stopCentrifuge, stopWs, stopSse]) off()
  rt.dispose()
  console.log(status, total)
}

// @ts-expect-error: queryClient is required
createRealtime({ debounceMs: 100 })

function WorkOrder({ id }: { id: number }): ReactNode {
  useRealtimeSubscription({ kind: 'doc', type: 'work_orders', id })
  useRealtimeSubscription(null)
  const rt: Realtime | null = useRealtime()
  const status: Status = useRealtimeStatus()
  const { data } = useQuery({ queryKey: ['doc', 'work_orders', String(id)], queryFn: async () => ({ title: 'x' }) })
  return `${data?.title ?? ''} ${status} ${rt ? 'ready' : 'loading'}`
}

export const app = createElement(
  QueryClientProvider,
  { client: queryClient },
  createElement(RealtimeProvider, { options: { queryClient, scope: { factoryId: 'f1' } } }, createElement(WorkOrder, { id: 1 })),
)

void main

// Keys: an app's own union of type names flows through; docKey is a readonly tuple.
type DocType = 'work_orders' | 'invoices'
const docType: DocType = 'invoices'
const k1: readonly ['doc', 'invoices', string] = docKey(docType === 'invoices' ? 'invoices' : 'invoices', 7)
const k2: DocKey<DocType> = docKey(docType, 'a-uuid')
const k3: ListKey<'work_orders'> = listKey('work_orders', 'f1', 2)
const k4: readonly ['list', 'work_orders', string] = listPrefix('work_orders', 7)
// @ts-expect-error: a doc key is readonly
k1.push('x')
// @ts-expect-error: ids are strings or numbers
docKey('work_orders', { id: 1 })
// @ts-expect-error: the type names narrow: 'invoices' is not 'work_orders'
const k5: DocKey<'work_orders'> = docKey('invoices', 1)
queryClient.invalidateQueries({ queryKey: listPrefix('work_orders', 'f1') })
void [k1, k2, k3, k4, k5]

// useRealtimeQuery is typed like useQuery: data from queryFn, select, the default key in the queryFn.
interface Wo { id: number; title: string }
function RealtimeWorkOrder({ id }: { id: number }): ReactNode {
  const q: UseQueryResult<Wo, Error> = useRealtimeQuery({
    view: { kind: 'doc', type: 'work_orders', id },
    queryFn: async ({ queryKey }) => {
      const key: readonly ['doc', 'work_orders', string] = queryKey
      return { id: Number(key[2]), title: 'x' }
    },
    staleTime: 1000,
  })
  const title: UseQueryResult<string, Error> = useRealtimeQuery({
    view: { kind: 'doc', type: 'work_orders', id },
    queryFn: async (): Promise<Wo> => ({ id, title: 'x' }),
    select: (w) => w.title,
  })
  const page = useRealtimeQuery({
    view: { kind: 'list', type: 'work_orders' },
    queryKey: listKey('work_orders', 'f1', 2),
    queryFn: async ({ queryKey }) => ({ page: queryKey[3].page, items: [] as Wo[] }),
  })
  const n: number | undefined = page.data?.page
  // null view: no subscription, and a queryKey is then required
  useRealtimeQuery({ view: null, queryKey: ['dashboard'], queryFn: async () => 1 })
  // @ts-expect-error: without a view, a queryKey is required
  useRealtimeQuery({ view: null, queryFn: async () => 1 })
  // @ts-expect-error: data is typed: title is a string
  const wrong: number | undefined = q.data?.title
  const opts: RealtimeQueryOptions<Wo> = { view: { kind: 'doc', type: 'work_orders', id: 1 }, queryFn: async () => ({ id: 1, title: 'x' }) }
  void [opts, wrong, n]
  return `${q.data?.title ?? ''} ${title.data ?? ''}`
}
void RealtimeWorkOrder
