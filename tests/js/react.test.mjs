// querywire/react on the server: importing it and rendering a tree with the provider and every
// hook must touch neither window nor document. StrictMode and the client-side lifecycle are
// covered by the browser tests (a DOM is needed for effects to run).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createElement } from 'react'
import { renderToString } from 'react-dom/server'
import { makeClient } from './helpers.mjs'

test('importing querywire and querywire/react on the server defines no window or document', async () => {
  assert.equal(typeof globalThis.window, 'undefined')
  assert.equal(typeof globalThis.document, 'undefined')
  const core = await import('../../js/index.js')
  const react = await import('../../js/react.js')
  assert.equal(typeof core.createRealtime, 'function')
  for (const name of ['docKey', 'listKey', 'listPrefix']) assert.equal(typeof core[name], 'function', name)
  for (const name of ['RealtimeProvider', 'useRealtime', 'useRealtimeSubscription', 'useRealtimeStatus', 'useRealtimeQuery']) {
    assert.equal(typeof react[name], 'function', name)
  }
  assert.equal(typeof globalThis.window, 'undefined')
  assert.equal(typeof globalThis.document, 'undefined')
})

test('the provider and every hook render to a string: no engine, status disconnected', async () => {
  const { RealtimeProvider, useRealtime, useRealtimeStatus, useRealtimeSubscription } = await import('../../js/react.js')
  const errors = []
  function WorkOrder({ id }) {
    useRealtimeSubscription({ kind: 'doc', type: 'work_orders', id })
    useRealtimeSubscription({ kind: 'list', type: 'work_orders' })
    useRealtimeSubscription(null)
    const rt = useRealtime()
    const status = useRealtimeStatus()
    return createElement('p', null, `engine:${rt === null ? 'none' : 'ready'} status:${status}`)
  }
  const html = renderToString(
    createElement(RealtimeProvider, { options: { queryClient: makeClient(), onError: (e) => errors.push(e) } },
      createElement(WorkOrder, { id: 12 })),
  )
  assert.match(html, /engine:none status:disconnected/)
  assert.deepEqual(errors, [])
  assert.equal(typeof globalThis.window, 'undefined')
})

test('hooks outside a provider return their loading values instead of throwing', async () => {
  const { useRealtime, useRealtimeStatus, useRealtimeSubscription } = await import('../../js/react.js')
  function Bare() {
    useRealtimeSubscription({ kind: 'doc', type: 'work_orders', id: 1 })
    return createElement('span', null, `${useRealtime()}:${useRealtimeStatus()}`)
  }
  assert.match(renderToString(createElement(Bare)), /null:disconnected/)
})

test("useRealtimeQuery's default queryKey is the view's key: docKey, listKey under the provider's factoryId, ['list', type] without one", async () => {
  const { QueryClientProvider } = await import('@tanstack/react-query')
  const { RealtimeProvider, useRealtimeQuery } = await import('../../js/react.js')
  const keysAfter = (scope, views) => {
    const client = makeClient()
    function Q({ view, queryKey }) {
      useRealtimeQuery({ view, queryKey, queryFn: () => null })
      return null
    }
    renderToString(createElement(QueryClientProvider, { client },
      createElement(RealtimeProvider, { options: { queryClient: client, scope } },
        ...views.map((v, i) => createElement(Q, { key: i, ...v })))))
    return client.getQueryCache().getAll().map((q) => q.queryKey)
  }
  assert.deepEqual(keysAfter({ factoryId: 7 }, [{ view: { kind: 'doc', type: 'work_orders', id: 12 } }, { view: { kind: 'list', type: 'work_orders' } }]),
    [['doc', 'work_orders', '12'], ['list', 'work_orders', '7', { page: 1 }]])
  assert.deepEqual(keysAfter(undefined, [{ view: { kind: 'list', type: 'work_orders' } }]), [['list', 'work_orders']])
  assert.deepEqual(keysAfter({ factoryId: 'f1' }, [{ view: { kind: 'list', type: 'work_orders' }, queryKey: ['list', 'work_orders', 'f1', { page: 3 }] }]),
    [['list', 'work_orders', 'f1', { page: 3 }]], 'a queryKey given wins')
  assert.throws(() => keysAfter(undefined, [{ view: null }]), TypeError, 'neither a view nor a queryKey')
})
