import { useEffect } from 'react'
import { createRoot } from 'react-dom/client'
import { QueryClient, QueryClientProvider, useQuery } from '@tanstack/react-query'
import { RealtimeProvider, useRealtime, useRealtimeSubscription, useRealtimeStatus } from 'querywire/react'

const queryClient = new QueryClient()
let fetches = 0

function Doc() {
  const rt = useRealtime()
  useRealtimeSubscription({ kind: 'doc', type: 'work_orders', id: '12' })
  const status = useRealtimeStatus()
  const { data } = useQuery({ queryKey: ['doc', 'work_orders', '12'], queryFn: async () => ({ title: 'fetch ' + ++fetches, version: 1 }) })
  useEffect(() => {
    if (!rt) return
    window.rt = rt
    rt.ingest('event', { type: 'work_orders', id: '12', action: 'update', version: 2, changedKeys: ['title'], data: { title: 'patched' } })
    rt.flush()
  }, [rt])
  return <p id="out">{data?.title} | {status} | channels {rt ? rt._engine.channels().join(',') : '-'}</p>
}

createRoot(document.getElementById('root')).render(
  <QueryClientProvider client={queryClient}>
    <RealtimeProvider options={{ queryClient, scope: { factoryId: 'f1' } }}><Doc /></RealtimeProvider>
  </QueryClientProvider>,
)
