// The demo server's Supabase-Realtime-compatible endpoint, driven by the REAL @supabase/supabase-js.
// Run from the repo root: node --test examples/server/test/
// Starts the server binary (built with cargo when missing; QUERYWIRE_SERVER_BIN overrides) on an
// ephemeral port with an in-memory SQLite database (or DATABASE_URL when that is set).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createClient } from '@supabase/supabase-js'
import WebSocket from 'ws'

const here = dirname(fileURLToPath(import.meta.url))
const serverDir = resolve(here, '..')
const targetDir = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(serverDir, 'target')
const bin = process.env.QUERYWIRE_SERVER_BIN || join(targetDir, 'debug', 'querywire-demo-server')

let child
let base

function startServer() {
  if (!process.env.QUERYWIRE_SERVER_BIN) {
    // Incremental: a no-op when the binary is up to date.
    const r = spawnSync('cargo', ['build', '--quiet', '--manifest-path', join(serverDir, 'Cargo.toml')], { stdio: 'inherit' })
    assert.equal(r.status, 0, 'cargo build of the demo server')
  }
  assert.ok(existsSync(bin), `server binary at ${bin}`)
  const env = { ...process.env, PORT: '0' }
  if (!env.DATABASE_URL) env.DB_PATH = ':memory:'
  child = spawn(bin, [], { env, stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolveUrl, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 60_000)
    child.stdout.on('data', (chunk) => {
      out += chunk
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+) \(db: (sqlite|postgres)\)/)
      if (m) {
        clearTimeout(timer)
        resolveUrl(m[1])
      }
    })
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)))
  })
}

async function api(method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : null }
}

function subscribed(channel) {
  return new Promise((resolveSub, reject) => {
    const timer = setTimeout(() => reject(new Error('subscribe timed out')), 10_000)
    channel.subscribe((status, err) => {
      if (status === 'SUBSCRIBED') {
        clearTimeout(timer)
        resolveSub()
      } else if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT') {
        clearTimeout(timer)
        reject(err ?? new Error(status))
      }
    })
  })
}

function waitFor(list, count, ms = 5000) {
  return new Promise((resolveWait, reject) => {
    const started = Date.now()
    const tick = () => {
      if (list.length >= count) return resolveWait(list)
      if (Date.now() - started > ms) return reject(new Error(`expected ${count} payloads, got ${list.length}`))
      setTimeout(tick, 20)
    }
    tick()
  })
}

before(async () => {
  base = await startServer()
})

after(() => {
  if (child && child.exitCode === null) child.kill('SIGTERM')
})

test('supabase-js postgres_changes: subscribe, UPDATE payload shape, filters, leave', async () => {
  const supabase = createClient(base, 'anon-key', {
    realtime: { transport: WebSocket },
    auth: { persistSession: false, autoRefreshToken: false },
  })
  const list = await api('GET', '/api/work_orders?factory_id=f1&pageSize=1')
  assert.equal(list.status, 200)
  const row = list.body.items[0]
  assert.ok(row, 'a seeded f1 row')

  const byId = []
  const byFactory = []
  const otherFactory = []
  const channel = supabase
    .channel('work-orders-test')
    .on('postgres_changes', { event: 'UPDATE', schema: 'public', table: 'work_orders', filter: `id=eq.${row.id}` }, (p) => byId.push(p))
    .on('postgres_changes', { event: '*', schema: 'public', table: 'work_orders', filter: 'factory_id=eq.f1' }, (p) => byFactory.push(p))
    .on('postgres_changes', { event: '*', schema: 'public', table: 'work_orders', filter: 'factory_id=eq.f2' }, (p) => otherFactory.push(p))
  await subscribed(channel)

  const patched = await api('PATCH', `/api/work_orders/${row.id}`, { status: 'approved', qty: 99 })
  assert.equal(patched.status, 200)
  await waitFor(byId, 1)
  await waitFor(byFactory, 1)

  const p = byId[0]
  assert.deepEqual(Object.keys(p).sort(), ['commit_timestamp', 'errors', 'eventType', 'new', 'old', 'schema', 'table'])
  assert.equal(p.schema, 'public')
  assert.equal(p.table, 'work_orders')
  assert.equal(p.eventType, 'UPDATE')
  assert.equal(typeof p.commit_timestamp, 'string')
  assert.ok(!Number.isNaN(Date.parse(p.commit_timestamp)))
  assert.equal(p.errors, null)
  assert.deepEqual(p.new, patched.body)
  assert.equal(p.new.id, row.id)
  assert.equal(p.new.qty, 99)
  assert.equal(p.new.version, row.version + 1)
  assert.equal(p.old.id, row.id)
  assert.deepEqual(byFactory[0], p)

  // INSERT on f1 reaches the '*' binding only; nothing reaches the f2 binding.
  const created = await api('POST', '/api/work_orders', { factory_id: 'f1', title: 'From the supabase test' })
  assert.equal(created.status, 201)
  await waitFor(byFactory, 2)
  assert.equal(byFactory[1].eventType, 'INSERT')
  assert.deepEqual(byFactory[1].new, created.body)
  assert.deepEqual(byFactory[1].old, {})
  await new Promise((r) => setTimeout(r, 200))
  assert.equal(byId.length, 1)
  assert.equal(otherFactory.length, 0)

  // DELETE: old holds the row.
  const del = await api('DELETE', `/api/work_orders/${created.body.id}`)
  assert.equal(del.status, 204)
  await waitFor(byFactory, 3)
  assert.equal(byFactory[2].eventType, 'DELETE')
  assert.equal(byFactory[2].old.id, created.body.id)

  // Token refresh is accepted; leaving works and stops delivery.
  await supabase.realtime.setAuth('new-token')
  assert.equal(await supabase.removeChannel(channel), 'ok')
  await api('PATCH', `/api/work_orders/${row.id}`, { qty: 1 })
  await new Promise((r) => setTimeout(r, 300))
  assert.equal(byId.length, 1)
  await supabase.realtime.disconnect()
})
