// querywire/react under <StrictMode> in headless Chromium: tests/browser/react.html is bundled with
// Vite (development mode, so StrictMode really double-mounts effects) into a temp dir, served with
// the demo server's REST API and WebSocket. Two components use the same doc view.
// Needs: pkg/ (bash scripts/build.sh --no-setup) and the demo server binary.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { sleep, waitFor, pageLogs } from './harness.mjs'
import { startReactApp } from './reactApp.mjs'
import { api } from './demoServer.mjs'

let app, browser, statics, server

before(async () => {
  app = await startReactApp('react.html')
  ;({ browser, statics, server } = app)
})

after(() => app?.stop())

async function openApp() {
  const page = await browser.newPage()
  const logs = pageLogs(page)
  await page.goto(`${statics.url}/react.html?api=${encodeURIComponent(server.base)}`)
  await page.waitForFunction(() => window.reactReady === true && window.rt, null, { timeout: 10000 }).catch((e) => {
    throw new Error(`${e.message}\n${logs.join('\n')}`)
  })
  const { body } = await api(server.base, 'GET', '/api/work_orders?factory_id=f1&pageSize=2')
  const ws = server.base.replace('http', 'ws') + '/ws'
  await page.evaluate((url) => { window.stop = window.rt.connectWebSocket(url, { backoff: { initialMs: 200, maxMs: 1000, maxAttempts: 5 } }) }, ws)
  await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent === 'connected')
  return { page, logs, one: body.items[0], two: body.items[1] }
}

async function mountDoc(page, id) {
  await page.evaluate((i) => window.setRoute(`doc:${i}`), String(id))
  await page.waitForFunction(() => document.querySelector('[data-testid=a]')?.textContent !== '…' && document.querySelector('[data-testid=b]')?.textContent !== '…')
  await sleep(300)
}

test('StrictMode double mount of two components on one view: one subscribe frame on the wire, no unsubscribe', async () => {
  const { page, one } = await openApp()
  const mark = (await page.evaluate(() => window.sentFrames())).length
  await mountDoc(page, one.id)
  const frames = (await page.evaluate(() => window.sentFrames())).slice(mark).filter((f) => f.type !== 'ping')
  const docChannel = `doc:work_orders:${one.id}`
  const subs = frames.filter((f) => f.type === 'subscribe' && f.channels.includes(docChannel))
  const unsubs = frames.filter((f) => f.type === 'unsubscribe' && f.channels.includes(docChannel))
  // StrictMode's mount → unmount → mount must not reach the wire as subscribe → unsubscribe →
  // subscribe (realtime-js#169, supabase-js#1440; crates/core/src/views.rs promises "without a
  // close/open round trip").
  // KNOWN GLUE/CORE BUG (reported, not fixed here: src/ and crates/ belong to others): this fails
  // today. Realtime::drive (crates/core/src/realtime.rs) calls Views::poll_channels after every
  // single subscribe/unsubscribe, and Link::set_channels sends the frame at once, so the same-tick
  // churn is sent as subscribe, unsubscribe, subscribe.
  assert.equal(subs.length, 1, `one subscribe frame for ${docChannel}: ${JSON.stringify(frames)}`)
  assert.equal(unsubs.length, 0, `no unsubscribe during the double mount: ${JSON.stringify(frames)}`)
  await page.close()
})

test('StrictMode: two components on one view = one channel; live updates; a route change closes it and stops its events; unmount closes all', async () => {
  const { page, logs, one, two } = await openApp()
  await mountDoc(page, one.id)
  const docChannel = `doc:work_orders:${one.id}`
  const channels = await page.evaluate(() => window.rt._engine.channels())
  assert.deepEqual(channels, [docChannel, 'factory:f1'], 'one channel for the two components (plus the factory channel)')
  const before = (await page.evaluate(() => window.sentFrames())).filter((f) => f.type === 'unsubscribe' && f.channels.includes(docChannel)).length
  // Live: a PATCH reaches both components.
  const title = `react ${Date.now()}`
  await api(server.base, 'PATCH', `/api/work_orders/${one.id}`, { title })
  await page.waitForFunction((t) => document.querySelector('[data-testid=a]')?.textContent === t && document.querySelector('[data-testid=b]')?.textContent === t, title)

  // Route change to doc `two`: doc `one`'s channel closes, its events stop arriving.
  await page.evaluate((id) => window.setRoute(`doc:${id}`), String(two.id))
  await page.waitForFunction(() => document.querySelector('[data-testid=a]')?.textContent !== '…')
  await waitFor(async () => {
    const ch = await page.evaluate(() => window.rt._engine.channels())
    return ch.length === 2 && ch.includes(`doc:work_orders:${two.id}`)
  }, { message: 'moved to the second doc' })
  const after = (await page.evaluate(() => window.sentFrames())).filter((f) => f.type === 'unsubscribe' && f.channels.includes(docChannel))
  assert.equal(after.length - before, 1, 'the first doc\'s channel is unsubscribed')
  const fetchesOne = await page.evaluate((id) => window.fetches[id], String(one.id))
  const mark = (await page.evaluate(() => window.receivedFrames())).length
  await api(server.base, 'PATCH', `/api/work_orders/${one.id}`, { title: 'not for us' })
  await sleep(500)
  const got = (await page.evaluate(() => window.receivedFrames())).slice(mark)
  assert.ok(got.some((f) => f.channel === 'factory:f1'), 'the factory channel still carries the change (a view is open)')
  assert.ok(!got.some((f) => f.channel === docChannel), 'nothing on the closed doc channel')
  assert.equal(await page.evaluate((id) => window.fetches[id], String(one.id)), fetchesOne, 'the gone view is not refetched')

  // Unmount everything: the channels close.
  await page.evaluate(() => window.setRoute('none'))
  await waitFor(async () => (await page.evaluate(() => window.rt._engine.channels())).length === 0, { message: 'all channels closed' })
  await sleep(200)
  const last = (await page.evaluate(() => window.sentFrames())).filter((f) => f.type === 'unsubscribe').at(-1)
  assert.deepEqual([...last.channels].sort(), [`doc:work_orders:${two.id}`, 'factory:f1'])
  assert.ok(!logs.some((l) => l.startsWith('pageerror')), logs.join('\n'))
  await page.close()
})

test('useRealtimeQuery under StrictMode, numeric id, no queryKey: one channel, one fetch, updates arrive, unmount closes', async () => {
  const { page, logs, one } = await openApp()
  const mark = (await page.evaluate(() => window.sentFrames())).length
  await page.evaluate((i) => window.setRoute(`rq:${i}`), String(one.id))
  await page.waitForFunction(() => document.querySelector('[data-testid=a]')?.textContent !== '…' && document.querySelector('[data-testid=b]')?.textContent !== '…')
  await sleep(300)
  const docChannel = `doc:work_orders:${one.id}`
  assert.deepEqual(await page.evaluate(() => window.rt._engine.channels()), [docChannel, 'factory:f1'], 'one channel for two components in StrictMode')
  const frames = (await page.evaluate(() => window.sentFrames())).slice(mark).filter((f) => f.type !== 'ping')
  assert.equal(frames.filter((f) => f.type === 'subscribe' && f.channels.includes(docChannel)).length, 1, JSON.stringify(frames))
  assert.equal(await page.evaluate((id) => window.fetches[id], one.id), 1, 'one fetch for the two components and the double mount')
  assert.deepEqual(await page.evaluate(() => window.lastQueryKey), ['doc', 'work_orders', String(one.id)], 'the key defaults to docKey(type, id)')

  const title = `rq ${Date.now()}`
  await api(server.base, 'PATCH', `/api/work_orders/${one.id}`, { title })
  await page.waitForFunction((t) => document.querySelector('[data-testid=a]')?.textContent === t && document.querySelector('[data-testid=b]')?.textContent === t, title)

  await page.evaluate(() => window.setRoute('none'))
  await waitFor(async () => (await page.evaluate(() => window.rt._engine.channels())).length === 0, { message: 'the view closed on unmount' })
  assert.ok(!logs.some((l) => l.startsWith('pageerror') || l.includes('[querywire]')), logs.join('\n'))
  await page.close()
})
