// The demo server (examples/server) for a node:test file, and the REAL supabase-js v2 client on it.
// Needs the demo server binary: cargo build --release --manifest-path examples/server/Cargo.toml
import { before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createClient } from '@supabase/supabase-js'
import WebSocket from 'ws'
import { startDemoServer, tempDb, api } from '../browser/demoServer.mjs'

/**
 * Starts the demo server on a temp SQLite file before the file's tests and stops it after them
 * (`afterAll` runs first). Returns `{ base }`, filled in once the server listens.
 */
export function demoServerForFile({ afterAll } = {}) {
  const server = { base: undefined }
  let db
  let running
  before(async () => {
    db = tempDb()
    running = await startDemoServer({ dbPath: db.path })
    server.base = running.base
  })
  after(async () => {
    await afterAll?.()
    await running?.stop()
    db?.cleanup()
  })
  return server
}

/** A real supabase-js client on `base` whose WebSocket is `transport` (Node 20 has none). */
export function supabaseClient(base, { transport = WebSocket } = {}) {
  return createClient(base, 'anon', {
    realtime: { transport, heartbeatIntervalMs: 5000 },
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  })
}

/** The first seeded work order of `factory`. */
export async function firstRow(base, factory = 'f1') {
  const list = await api(base, 'GET', `/api/work_orders?factory_id=${factory}&pageSize=1`)
  assert.equal(list.status, 200)
  assert.ok(list.body.items[0], `a seeded ${factory} row`)
  return list.body.items[0]
}
