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
