// Starts the demo server binary (examples/server) for tests: release build when present, else
// debug; QUERYWIRE_SERVER_BIN overrides. Build it with
//   cargo build --release --manifest-path examples/server/Cargo.toml
// `startDemoServer({ port, dbPath })` resolves `{ base, port, stop(), kill(), child }` once it listens.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

export function serverBinary() {
  if (process.env.QUERYWIRE_SERVER_BIN) return process.env.QUERYWIRE_SERVER_BIN
  const target = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(repoRoot, 'examples', 'server', 'target')
  for (const profile of ['release', 'debug']) {
    const bin = join(target, profile, 'querywire-demo-server')
    if (existsSync(bin)) return bin
  }
  throw new Error('demo server binary missing: cargo build --release --manifest-path examples/server/Cargo.toml')
}

/** A temp directory holding a SQLite file; `cleanup()` removes it. */
export function tempDb() {
  const dir = mkdtempSync(join(tmpdir(), 'querywire-test-'))
  return { path: join(dir, 'demo.sqlite'), cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

export function startDemoServer({ port = 0, dbPath = ':memory:', env = {} } = {}) {
  const child = spawn(serverBinary(), [], {
    env: { ...process.env, PORT: String(port), DB_PATH: dbPath, WEB_DIST: '/nonexistent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stderr.on('data', (c) => { out += c })
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo server did not start: ${out}`)), 30_000)
    child.stdout.on('data', (chunk) => {
      out += chunk
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:(\d+))/)
      if (m) {
        clearTimeout(timer)
        const exited = new Promise((r) => child.once('exit', r))
        const stop = async (signal = 'SIGTERM') => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal)
          await exited
        }
        resolveStart({ base: m[1], port: Number(m[2]), child, stop, kill: () => stop('SIGKILL'), log: () => out })
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`demo server exited with ${code}: ${out}`))
    })
  })
}

export async function api(base, method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : null }
}
