// One connection per browser: what `shareConnection` saves and what its BroadcastChannel hop costs.
// For 1, 2, 4 and 8 tabs (pages of one Chromium context = one origin, tests/browser/share.html),
// with and without sharing, against the demo server: the WebSocket connections the server holds,
// the event frames it sends for a run of updates (`GET /api/stats` framesSent.ws), and the
// change → cache latency each tab sees (from just before the PATCH request to the tab's
// QueryCache holding the new version: `patch: true`, so the frame itself updates the cache and no
// refetch is timed). Not part of the test suite (wall time on a shared machine).
//
//   nice -n 10 node bench/share.mjs [--updates 100] [--tabs 1,2,4,8] [--write]
//
// Needs pkg/ (bash scripts/build.sh --no-setup) and the demo server release binary.
// --write replaces the "One connection per browser" section of bench/results.md.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { launchBrowser, staticServer, sleep, waitFor } from '../tests/browser/harness.mjs'
import { startDemoServer, tempDb, api, repoRoot } from '../tests/browser/demoServer.mjs'

const args = process.argv.slice(2)
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : dflt
}
const UPDATES = Number(arg('updates', 100))
const TABS = String(arg('tabs', '1,2,4,8')).split(',').map(Number)
const GAP_MS = 25

const pct = (xs, p) => {
  if (xs.length === 0) return NaN
  const s = xs.slice().sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]
}

async function run(browser, statics, server, n, shared) {
  const context = await browser.newContext()
  const base = server.base
  const row = (await api(base, 'GET', '/api/work_orders?factory_id=f1&pageSize=1')).body.items[0]
  const pages = []
  try {
    for (let i = 0; i < n; i++) {
      const page = await context.newPage()
      await page.goto(`${statics.url}/tests/browser/share.html`)
      await page.waitForFunction(() => window.qwsReady === true)
      await page.evaluate((o) => qws.start(o), {
        apiBase: base,
        wsUrl: base.replace('http', 'ws') + '/ws',
        options: { scope: { factoryId: 'f1' }, patch: true, debounceMs: 0, maxWaitMs: 50, ...(shared ? { shareConnection: { name: 'bench' } } : {}) },
        views: [{ kind: 'doc', type: 'work_orders', id: row.id }, { kind: 'list', type: 'work_orders', factoryId: 'f1' }],
      })
      pages.push(page)
    }
    await waitFor(async () => (await Promise.all(pages.map((p) => p.evaluate(() => qws.state().status)))).every((s) => s === 'connected'), { timeoutMs: 15_000, message: 'connected' })
    await waitFor(async () => (await Promise.all(pages.map((p) => p.evaluate((id) => qws.data(`doc:${id}`)?.version, row.id)))).every((v) => v != null), { timeoutMs: 15_000, message: 'doc loaded' })
    await sleep(500)
    const s0 = (await api(base, 'GET', '/api/stats')).body
    const roles = await Promise.all(pages.map((p) => p.evaluate(() => qws.state().role)))
    const marks = await Promise.all(pages.map((p) => p.evaluate(() => qws.changes().length)))
    const sentAt = new Map() // version -> wall ms just before the request
    for (let k = 0; k < UPDATES; k++) {
      const t = Date.now()
      const r = (await api(base, 'PATCH', `/api/work_orders/${row.id}`, { qty: k })).body
      sentAt.set(r.version, t)
      await sleep(GAP_MS)
    }
    const last = Math.max(...sentAt.keys())
    await waitFor(async () => (await Promise.all(pages.map((p) => p.evaluate((id) => qws.data(`doc:${id}`)?.version, row.id)))).every((v) => v === last), { timeoutMs: 15_000, message: 'last version everywhere' })
    await sleep(300)
    const s1 = (await api(base, 'GET', '/api/stats')).body
    const docHash = JSON.stringify(['doc', 'work_orders', String(row.id)])
    const perTab = []
    for (let i = 0; i < n; i++) {
      const changes = (await pages[i].evaluate(() => qws.changes())).slice(marks[i])
      const seen = new Map()
      for (const c of changes) if (c.hash === docHash && sentAt.has(c.version) && !seen.has(c.version)) seen.set(c.version, c.t - sentAt.get(c.version))
      perTab.push({ role: roles[i], lat: [...seen.values()], at: seen, missing: UPDATES - seen.size })
    }
    // The hop: for the same version, each other tab's cache time minus the reference tab's (the
    // leader when shared, the first tab when not: there it is the skew of independent sockets).
    const ref = Math.max(0, perTab.findIndex((t) => t.role === 'leader'))
    const hop = []
    for (let i = 0; i < n; i++) {
      if (i === ref) continue
      for (const [v, l] of perTab[i].at) if (perTab[ref].at.has(v)) hop.push(l - perTab[ref].at.get(v))
    }
    return {
      n,
      shared,
      connections: s0.connections.ws,
      frames: s1.framesSent.ws - s0.framesSent.ws,
      perTab,
      hop,
    }
  } finally {
    await context.close()
  }
}

const db = tempDb()
const server = await startDemoServer({ dbPath: db.path })
const statics = await staticServer()
const browser = await launchBrowser()
const results = []
try {
  for (const n of TABS) {
    for (const shared of [false, true]) {
      const r = await run(browser, statics, server, n, shared)
      results.push(r)
      const all = r.perTab.flatMap((t) => t.lat)
      console.error(`${n} tab(s) ${shared ? 'shared  ' : 'unshared'}: ${r.connections} conn, ${r.frames} frames, p50 ${pct(all, 50).toFixed(1)} ms p99 ${pct(all, 99).toFixed(1)} ms, hop p50 ${pct(r.hop, 50)} p99 ${pct(r.hop, 99)}, coalesced ${r.perTab.map((t) => t.missing).join('/')}`)
    }
  }
} finally {
  await browser.close()
  await statics.close()
  await server.stop()
  db.cleanup()
}

const fmt = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–')
const lines = []
lines.push('## One connection per browser (`shareConnection`)')
lines.push('')
lines.push(`Command: \`nice -n 10 node bench/share.mjs --updates ${UPDATES} --tabs ${TABS.join(',')} --write\` (${new Date().toISOString().slice(0, 10)}, Debian Chromium headless, demo server on SQLite, ${UPDATES} updates of one row ${GAP_MS} ms apart; every tab views that doc and the f1 list, so each change is published on 3 of its channels).`)
lines.push('Latency: wall ms from just before the PATCH request to the tab\'s QueryCache holding the new version (`patch: true`, so the event itself updates the cache); it includes the HTTP request and the commit, equal in both modes, so the difference between the modes is the BroadcastChannel hop. Wall time on a 2-core machine shared with other jobs: read the shared − unshared deltas of one run, not absolute values.')
lines.push('')
lines.push('The hop columns pair the tabs per version: each other tab\'s cache time minus the leader\'s (shared), or minus the first tab\'s (unshared: the skew between independent sockets); "hop over unshared" is the shared p99 minus the unshared p99 of the same tab count, in the same run: what the BroadcastChannel adds.')
lines.push('')
lines.push('| tabs | mode | connections | frames sent | p50 all tabs | p99 all tabs | p50 / p99 per tab (L = leader) | hop p50 / p99 | hop p99 over unshared |')
lines.push('| ---: | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |')
for (const r of results) {
  const all = r.perTab.flatMap((t) => t.lat)
  const un = results.find((x) => x.n === r.n && !x.shared)
  const unAll = un.perTab.flatMap((t) => t.lat)
  const per = r.perTab.map((t) => `${t.role === 'leader' ? 'L ' : ''}${fmt(pct(t.lat, 50))}/${fmt(pct(t.lat, 99))}`).join(', ')
  void unAll
  const hop = r.n > 1 ? `${fmt(pct(r.hop, 50))} / ${fmt(pct(r.hop, 99))}` : '–'
  const delta = r.shared && r.n > 1 ? fmt(pct(r.hop, 99) - pct(un.hop, 99)) : ''
  const missing = r.perTab.reduce((a, t) => a + t.missing, 0)
  lines.push(`| ${r.n} | ${r.shared ? 'shared' : 'unshared'} | ${r.connections} | ${r.frames} | ${fmt(pct(all, 50))} | ${fmt(pct(all, 99))} | ${per}${missing ? ` (${missing} versions coalesced into a later flush)` : ''} | ${hop} | ${delta} |`)
}
lines.push('')
const section = lines.join('\n')
console.log(section)

if (args.includes('--write')) {
  const file = join(repoRoot, 'bench/results.md')
  let md = readFileSync(file, 'utf8')
  const start = md.indexOf('## One connection per browser')
  if (start >= 0) {
    const next = md.indexOf('\n## ', start + 1)
    md = md.slice(0, start) + section + (next >= 0 ? '\n' + md.slice(next + 1) : '')
  } else {
    const method = md.indexOf('\n## Method')
    md = method >= 0 ? md.slice(0, method + 1) + section + '\n' + md.slice(method + 1) : md + '\n' + section
  }
  writeFileSync(file, md)
  console.error(`wrote ${file}`)
}
