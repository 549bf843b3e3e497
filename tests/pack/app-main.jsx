import { lazy, Suspense, useEffect, useState } from 'react'
import { createRoot } from 'react-dom/client'
import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { RealtimeProvider, useRealtime, useRealtimeQuery, useRealtimeStatus } from 'querywire/react'

// The devtools entry, loaded only when the button asks for it (its own chunk).
const Devtools = lazy(() => import('./devtools.jsx'))

const queryClient = new QueryClient()
let fetches = 0

function Doc() {
  const rt = useRealtime()
  const status = useRealtimeStatus()
  // A numeric id and no queryKey: the key is docKey('work_orders', 12) = ['doc', 'work_orders', '12'].
  const { data } = useRealtimeQuery({ view: { kind: 'doc', type: 'work_orders', id: 12 }, queryFn: async () => ({ title: 'fetch ' + ++fetches, version: 1 }) })
  useEffect(() => {
    if (!rt || !data) return
    window.rt = rt
    rt.ingest('event', { type: 'work_orders', id: 12, action: 'update', version: 2, changedKeys: ['title'], data: { title: 'patched' } })
    rt.flush()
  }, [rt, !data])
  return <p id="out">{data?.title} | {status} | channels {rt ? rt._engine.channels().join(',') : '-'} | fetches {fetches}</p>
}

function App() {
  const [devtools, setDevtools] = useState(false)
  return (
    <QueryClientProvider client={queryClient}>
      <RealtimeProvider options={{ queryClient, scope: { factoryId: 'f1' } }}>
        <Doc />
        <button id="load-devtools" onClick={() => setDevtools(true)}>devtools</button>
        {devtools && <Suspense fallback={null}><Devtools /></Suspense>}
      </RealtimeProvider>
    </QueryClientProvider>
  )
}

createRoot(document.getElementById('root')).render(<App />)
