// shareConnection where tabs cannot share (Node, as in SSR and tests): nothing changes. The sharing
// itself runs in Chromium (tests/browser/share.test.mjs); the core's side in crates/core/tests/share.rs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRealtime } from '../../js/index.js'
import { sharingAvailable, shareOptions, HIDDEN_HANDOVER_MS } from '../../js/share.js'
import { makeClient } from './helpers.mjs'

test('Node has no Web Locks or no page: sharing is unavailable', () => {
  assert.equal(sharingAvailable(), false)
  // Web Locks and BroadcastChannel without a page (a worker, SSR with polyfills) are not enough.
  assert.equal(sharingAvailable({ navigator: { locks: { request() {} } }, BroadcastChannel: class {} }), false)
})

test('the option reads as a name and a hidden-handover delay; off by default', () => {
  assert.equal(shareOptions(undefined), null)
  assert.equal(shareOptions(false), null)
  assert.deepEqual(shareOptions(true), { name: 'default', hiddenHandoverMs: HIDDEN_HANDOVER_MS })
  assert.deepEqual(shareOptions({ name: 'orders' }), { name: 'orders', hiddenHandoverMs: HIDDEN_HANDOVER_MS })
  assert.deepEqual(shareOptions({ name: '', hiddenHandoverMs: -1 }), { name: 'default', hiddenHandoverMs: HIDDEN_HANDOVER_MS })
  assert.deepEqual(shareOptions({ hiddenHandoverMs: 500 }), { name: 'default', hiddenHandoverMs: 500 })
})

test('with shareConnection in Node the engine works on its own, as without the option', async () => {
  const client = makeClient()
  const rt = await createRealtime({ queryClient: client, shareConnection: { name: 'x' }, debounceMs: 0, scope: { factoryId: 'f1' } })
  try {
    assert.equal(rt.shareRole(), 'off')
    client.setQueryData(['doc', 'work_orders', '1'], { id: 1, title: 'a', version: 1 })
    rt.ingest('event', { type: 'work_orders', id: 1, factoryId: 'f1', action: 'update', version: 2, data: { title: 'b' } })
    rt.flush()
    assert.equal(client.getQueryData(['doc', 'work_orders', '1']).title, 'b')
    assert.equal(rt.stats().patches, 1)
  } finally {
    rt.dispose()
  }
  assert.equal(rt.shareRole(), 'off')
})
