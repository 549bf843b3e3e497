// The page script of one tab of the shareConnection browser tests (share.html, share-supabase.html):
// a real QueryClient whose queryFns fetch the demo server and count their calls, an engine with
// `shareConnection`, driven through page.evaluate(() => qws.…). Each page passes how it connects
// (`connect(rt, startArgs)`, after the views are open) and what it adds to `qws.state()`.
import { QueryClient, QueryObserver } from '@tanstack/query-core'
import { createRealtime } from '/js/index.js'

export function installSharePage({ connect, state = () => ({}) }) {
  // A WebSocket spy: connect attempts and sent frames of this tab.
  const sockets = []
  const sent = []
  const NativeWebSocket = window.WebSocket
  window.WebSocket = class SpyWebSocket extends NativeWebSocket {
    constructor(url, protocols) {
      super(url, protocols)
      sockets.push(String(url))
    }
    send(data) {
      sent.push(String(data))
      return super.send(data)
    }
  }

  // Page visibility under test control (dispatching visibilitychange like the browser does).
  let visibility = 'visible'
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => visibility })
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => visibility === 'hidden' })

  let client, rt, api
  const counts = {}
  const observers = {}
  const statuses = []
  const errors = []
  // When each query's data last changed, and to what version (the change → cache latency).
  const changes = []

  window.qws = {
    async start(args) {
      const { apiBase, options = {}, views = [] } = args
      api = apiBase
      client = new QueryClient({ defaultOptions: { queries: { retry: false, gcTime: Infinity, staleTime: 0, refetchOnWindowFocus: false, refetchOnReconnect: false } } })
      client.getQueryCache().subscribe((e) => {
        if (e.type === 'updated' && e.action.type === 'success') {
          changes.push({ hash: e.query.queryHash, version: e.query.state.data?.version ?? null, t: performance.timeOrigin + performance.now() })
        }
      })
      rt = await createRealtime({ queryClient: client, debounceMs: 0, maxWaitMs: 50, patch: false, onError: (e) => errors.push(e), ...options })
      statuses.push(rt.status())
      rt.onStatus((s) => statuses.push(s))
      for (const v of views) this.view(v)
      await connect(rt, args)
      window.rt = rt
      return rt.status()
    },
    /** An active query for `view` (doc or list head) plus the view itself. */
    view(v) {
      const key = v.kind === 'doc' ? ['doc', v.type, String(v.id)] : ['list', v.type, v.factoryId, { page: 1 }]
      const name = v.kind === 'doc' ? `doc:${v.id}` : `list:${v.factoryId}`
      counts[name] = 0
      const path = v.kind === 'doc' ? `/api/work_orders/${v.id}` : `/api/work_orders?factory_id=${v.factoryId}&page=1&pageSize=10`
      const observer = new QueryObserver(client, {
        queryKey: key,
        queryFn: async () => {
          counts[name]++
          const res = await fetch(api + path)
          if (!res.ok) throw new Error(`${res.status}`)
          return res.json()
        },
      })
      const off = observer.subscribe(() => {})
      const unsub = rt.subscribe(v.kind === 'doc' ? { kind: 'doc', type: v.type, id: v.id } : { kind: 'list', type: v.type })
      observers[name] = { observer, key, off: () => { off(); unsub() } }
    },
    setScope(scope) {
      rt.setScope(scope)
    },
    setVisibility(v) {
      visibility = v
      document.dispatchEvent(new Event('visibilitychange'))
    },
    data(name) {
      return observers[name] ? client.getQueryData(observers[name].key) ?? null : null
    },
    dispose() {
      rt.dispose()
    },
    state() {
      return {
        status: rt.status(),
        role: rt.shareRole(),
        statuses: statuses.slice(),
        counts: { ...counts },
        sockets: sockets.length,
        sent: sent.flatMap((s) => s.split('\n').filter(Boolean).map((line) => JSON.parse(line))), // centrifuge-js batches by line
        errors: errors.map((e) => `${e.code}: ${e.message}`),
        stats: rt.stats(),
        fetching: client.isFetching(),
        ...state(),
      }
    },
    changes() {
      return changes.slice()
    },
  }
  window.qwsReady = true
}
