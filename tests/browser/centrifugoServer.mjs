// A demo server per scenario, for the Node and the Chromium runner of tests/browser/centrifugoScenarios.mjs.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DemoServer, ROOT, freePort, serverBinary } from '../e2e/harness.mjs'

/** Builds the server with cargo (debug) when no binary is there yet. */
export function ensureServerBinary() {
  if (serverBinary()) return
  const r = spawnSync('cargo', ['build', '--quiet', '--manifest-path', path.join(ROOT, 'examples/server/Cargo.toml')], { stdio: 'inherit' })
  if (r.status !== 0) throw new Error('cargo build of the demo server failed')
}

let dbs = 0
function freshPg(baseUrl) {
  const name = `qw_cf_${process.pid}_${Date.now().toString(36)}_${dbs++}`
  const psql = (url, sql) => spawnSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], { encoding: 'utf8' }).status === 0
  if (!psql(baseUrl, `CREATE DATABASE ${name}`)) return { url: baseUrl, drop() {} }
  const u = new URL(baseUrl)
  u.pathname = `/${name}`
  return { url: u.toString(), drop: () => psql(baseUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) }
}

/** A demo server for one scenario (fast Centrifugo pings: 1 s, pong within 3 s). */
export async function startCentrifugoServer(env = {}) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'qw-cf-'))
  const pg = process.env.DATABASE_URL ? freshPg(process.env.DATABASE_URL) : null
  const server = new DemoServer({
    port: await freePort(),
    dbPath: path.join(tmp, 'demo.sqlite'),
    databaseUrl: pg?.url,
    env: { CENTRIFUGO_PING_MS: '1000', CENTRIFUGO_PONG_TIMEOUT_MS: '3000', ...env },
  })
  await server.start()
  const srv = {
    base: server.url,
    api: (method, p, body) => server.api(method, p, body),
    kill: () => server.kill(),
    start: () => server.start().then(() => {}),
  }
  const cleanup = async () => { await server.stop(); pg?.drop(); rmSync(tmp, { recursive: true, force: true }) }
  return { server, srv, cleanup }
}

