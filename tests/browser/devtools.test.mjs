// <QuerywireDevtools /> in headless Chromium against the demo server: closed by default, it opens,
// shows a server-side burst of 40 updates as ONE flush with its keys and the refetches it caused,
// exports the trace as a JSON download, and that file replays (in Node, as a maintainer would run
// it) into a fresh engine to the same plans. Writes docs/screenshots/devtools.png.
// Needs: pkg/ (bash scripts/build.sh --no-setup) and the demo server binary.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { replayTrace, canonical } from '../../js/replay.js'
import { sleep, pageLogs } from './harness.mjs'
import { startReactApp } from './reactApp.mjs'
import { api, repoRoot } from './demoServer.mjs'

let app, browser, statics, server

before(async () => {
  app = await startReactApp('devtools.html')
  ;({ browser, statics, server } = app)
})

after(() => app?.stop())

test('devtools: closed by default, opens, a burst is one flush with its keys, the exported trace replays to the same plans', async () => {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 860 } })
  const page = await context.newPage()
  const logs = pageLogs(page)
  await page.goto(`${statics.url}/devtools.html?api=${encodeURIComponent(server.base)}`)
  await page.waitForFunction(() => window.reactReady && window.rt, null, { timeout: 10_000 })
  const ws = server.base.replace('http', 'ws') + '/ws'
  await page.evaluate((url) => window.rt.connectWebSocket(url), ws)
  await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent === 'connected')
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=list] li').length > 0 && ![...document.querySelectorAll('[data-testid=list] li')].some((li) => li.textContent === '…'), null, { timeout: 10_000 })
    .catch(async (e) => { throw new Error(`${e.message}\n${await page.textContent('body')}\n${logs.join('\n')}`) })
  const docs = await page.locator('[data-testid=list] li').count() // the factory's rows, all mounted
  await sleep(400)

  // Closed by default: only the toggle.
  assert.equal(await page.locator('[data-testid=qw-devtools]').count(), 0)
  assert.equal(await page.locator('[data-testid=qw-devtools-toggle]').count(), 1)
  await page.click('[data-testid=qw-devtools-toggle]')
  await page.waitForSelector('[data-testid=qw-devtools]')
  assert.equal(await page.locator('[data-testid=qw-timeline]').count(), 1, 'the timeline chart')

  // A burst: 40 updates over 200 ms, round robin over the factory's rows (the seed has `docs` of
  // them), each published on three channels. The engine's 300 ms window makes it one flush of the
  // docs' keys.
  const flushesBefore = await page.locator('[data-testid=qw-flush]').count()
  const fetchesBefore = await page.evaluate(() => window.fetches)
  await api(server.base, 'POST', '/api/burst', { factory_id: 'f1', count: 40, ms: 200, kind: 'update' })
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=qw-flush]').length > n, flushesBefore, { timeout: 5000 })
  await sleep(1200) // anything the burst might still cause (it must not: one flush)
  assert.equal(await page.locator('[data-testid=qw-flush]').count(), flushesBefore + 1, 'the burst is one flush')
  const newest = page.locator('[data-testid=qw-flush]').first()
  assert.equal(await newest.getAttribute('data-keys'), String(docs), await newest.textContent())
  const keys = await newest.locator('[data-testid=qw-flush-key]').allTextContents()
  assert.equal(keys.length, docs)
  for (const k of keys) assert.match(k, /^invalidate\["doc","work_orders","\d+"\]/)
  const refetches = Number(await newest.getAttribute('data-refetches'))
  assert.equal(refetches, docs, 'each mounted doc refetched once')
  assert.equal(await page.evaluate(() => window.fetches) - fetchesBefore, docs)
  assert.match(await newest.textContent(), /from 40 distinct events/, 'the 40 changes (each arrived on three channels; copies are duplicates)')
  // Channels with their last seq, events by channel, refetches saved, drops by reason.
  const channels = await page.locator('[data-testid=qw-channel]').evaluateAll((l) => l.map((e) => [e.dataset.channel, e.dataset.seq]))
  assert.ok(channels.some(([c, seq]) => c === 'factory:f1' && Number(seq) > 0), JSON.stringify(channels))
  assert.ok(channels.some(([c]) => c === 'list:work_orders:f1'))
  assert.equal(await page.textContent('[data-testid=qw-saved]'), `${40 - docs} = 40 distinct events − ${docs} refetches (${flushesBefore + 1} flushes)`)
  assert.equal(await page.textContent('[data-testid=qw-drop-duplicate] '), 'duplicate80', 'two copies of each change dropped by its id')
  // The event stream, filtered.
  await page.click('[data-testid=qw-tab-events]')
  await page.fill('[data-testid=qw-event-filter]', 'factory:f1')
  const shown = await page.locator('[data-testid=qw-event]').allTextContents()
  assert.ok(shown.length >= 40 && shown.every((t) => t.includes('factory:f1')), `${shown.length} events shown`)
  await page.fill('[data-testid=qw-event-filter]', '')
  await page.click('[data-testid=qw-tab-flushes]')
  await page.screenshot({ path: join(repoRoot, 'docs/screenshots/devtools.png') })

  // Export: a JSON download, replayed here in Node into a fresh engine.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=qw-export]')])
  assert.match(download.suggestedFilename(), /^querywire-trace-.*\.json$/)
  const file = join(app.outDir, 'trace.json')
  await download.saveAs(file)
  const trace = JSON.parse(readFileSync(file, 'utf8'))
  assert.equal(trace.version, 1)
  assert.equal(trace.truncated, false)
  assert.deepEqual(trace, JSON.parse(await page.evaluate(() => JSON.stringify(window.exported.at(-1)))), 'the download is what onExport got')
  const replayed = await replayTrace(trace)
  assert.equal(replayed.same, true, `plan ${replayed.firstDifference} differs: ${canonical(replayed.plans[replayed.firstDifference])} vs ${canonical(replayed.recorded[replayed.firstDifference])}`)
  assert.ok(replayed.plans.some((p) => p.plan.invalidate.length === docs), 'the burst\'s plan is among them')
  // And in the page, through the devtools entry's own export.
  const inPage = await page.evaluate(async () => (await window.replayTrace(window.exported.at(-1))).same)
  assert.equal(inPage, true)

  await page.click('[data-testid=qw-devtools-close]')
  assert.equal(await page.locator('[data-testid=qw-devtools]').count(), 0)
  assert.ok(!logs.some((l) => l.startsWith('pageerror')), logs.join('\n'))
  await context.close()
})
