// React bindings. No JSX (the package ships plain ESM) and nothing touches window or
// document at import time or during render, so server rendering imports this safely.
import { createContext, createElement, useCallback, useContext, useEffect, useRef, useState, useSyncExternalStore } from 'react'
import { hashKey } from '@tanstack/query-core'
import { useQuery } from '@tanstack/react-query'
import { createRealtime } from './index.js'
import { docKey, listKey } from './keys.js'

const RealtimeContext = createContext(null)
// The provider's scope `factoryId`: what a list view's default query key names.
const FactoryContext = createContext(undefined)

export function RealtimeProvider({ options, children }) {
  const queryClient = options.queryClient
  const [engine, setEngine] = useState(null)
  const latest = useRef(options)
  const slot = useRef(null)
  const scopeKey = scopeHash(options.scope)

  useEffect(() => {
    latest.current = options
  })

  useEffect(() => {
    let entry = slot.current
    if (entry && entry.queryClient === queryClient && !entry.disposed) {
      // StrictMode unmounts and remounts at once: the pending dispose is called off
      // and the same engine is kept, so a double mount never leaves two alive (and
      // never opens the same supabase-js channel twice, supabase-js#1440).
      clearTimeout(entry.disposeTimer)
      entry.disposeTimer = undefined
    } else {
      entry = createEntry(queryClient, latest, setEngine, slot)
      slot.current = entry
      setEngine(null)
    }
    if (entry.engine) setEngine(entry.engine)

    return () => {
      entry.disposeTimer = setTimeout(() => disposeEntry(entry, slot), 0)
    }
  }, [queryClient])

  useEffect(() => {
    const entry = slot.current
    if (!engine || !entry || entry.engine !== engine) return
    if (entry.scopeKey === scopeKey) return
    entry.scopeKey = scopeKey
    engine.setScope(latest.current.scope ?? {})
  }, [engine, scopeKey])

  return createElement(RealtimeContext.Provider, { value: engine },
    createElement(FactoryContext.Provider, { value: options.scope?.factoryId }, children))
}

function createEntry(queryClient, latest, setEngine, slot) {
  const options = latest.current
  const entry = {
    queryClient,
    engine: null,
    disposed: false,
    disposeTimer: undefined,
    scopeKey: scopeHash(options.scope),
  }
  const onError = (error) => latest.current.onError?.(error)
  createRealtime({ ...options, onError }).then(
    (rt) => {
      if (entry.disposed) {
        rt.dispose()
        return
      }
      entry.engine = rt
      if (slot.current === entry) setEngine(rt)
    },
    (cause) => {
      const error = { code: 'load_failed', message: String(cause?.message ?? cause), source: 'react' }
      if (latest.current.onError) latest.current.onError(error)
      else console.error('querywire: createRealtime failed', cause)
    },
  )
  return entry
}

function disposeEntry(entry, slot) {
  entry.disposed = true
  if (slot.current === entry) slot.current = null
  const rt = entry.engine
  entry.engine = null
  rt?.dispose()
}

export function useRealtime() {
  return useContext(RealtimeContext)
}

export function useRealtimeSubscription(view) {
  const rt = useRealtime()
  const kind = view ? view.kind : undefined
  const type = view ? view.type : undefined
  const id = view && view.kind === 'doc' ? view.id : undefined

  useEffect(() => {
    if (!rt || !kind) return undefined
    return rt.subscribe(kind === 'doc' ? { kind, type, id } : { kind, type })
  }, [rt, kind, type, id])
}

/**
 * `useQuery` that carries its own realtime view: the view is subscribed while the component is
 * mounted, and `queryKey` defaults to the view's key (`docKey(type, id)` for a doc view,
 * `listKey(type, factoryId)` for a list view under the provider's scope).
 */
export function useRealtimeQuery(options, queryClient) {
  const { view, ...queryOptions } = options ?? {}
  const factoryId = useContext(FactoryContext)
  useRealtimeSubscription(view)
  let queryKey = queryOptions.queryKey
  if (queryKey === undefined) {
    if (!view || (view.kind !== 'doc' && view.kind !== 'list')) {
      throw new TypeError('useRealtimeQuery: pass a view ({ kind: \'doc\', type, id } or { kind: \'list\', type }) or a queryKey')
    }
    const noFactory = factoryId === undefined || factoryId === null || factoryId === ''
    queryKey = view.kind === 'doc' ? docKey(view.type, view.id) : noFactory ? ['list', view.type] : listKey(view.type, factoryId)
  }
  return useQuery({ ...queryOptions, queryKey }, queryClient)
}

const DISCONNECTED = () => 'disconnected'

export function useRealtimeStatus() {
  const rt = useRealtime()
  const subscribe = useCallback((onChange) => {
    const off = rt ? rt.onStatus(onChange) : undefined
    return typeof off === 'function' ? off : () => {}
  }, [rt])
  const getSnapshot = useCallback(() => (rt ? rt.status() : 'disconnected'), [rt])
  return useSyncExternalStore(subscribe, getSnapshot, DISCONNECTED)
}

// Apps pass `options={{ … scope: { factoryId } }}` inline, so scope is compared by value, with
// TanStack's own hashKey (object keys sorted): querywire keeps no hash of its own in JS (issue 11).
function scopeHash(value) {
  return hashKey([value ?? null])
}
