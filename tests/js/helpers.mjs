// Shared by the node:test suites: a real QueryClient, real observers, and queryFns
// that count their calls, so a test can say "this query refetched exactly once".
import { QueryClient, QueryObserver, hashKey } from '@tanstack/query-core'

export { hashKey }

export function makeClient() {
  return new QueryClient({
    defaultOptions: { queries: { retry: false, gcTime: Infinity } },
  })
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

export async function waitFor(condition, { timeoutMs = 2000, intervalMs = 5, message } = {}) {
  const start = Date.now()
  for (;;) {
    const value = await condition()
    if (value) return value
    if (Date.now() - start > timeoutMs) throw new Error(message ?? `waitFor timed out after ${timeoutMs} ms`)
    await sleep(intervalMs)
  }
}

/** Waits until no query of the client is fetching, then one more tick for observers. */
export async function settle(client, timeoutMs = 2000) {
  await sleep(0)
  await waitFor(() => client.isFetching() === 0, { timeoutMs, message: 'queries still fetching' })
  await sleep(0)
}

/**
 * Mounts a real QueryObserver on `queryKey` (so the query is active) whose queryFn
 * counts its calls. `fn(callNumber, queryKey)` returns the data (or a promise of it);
 * the default returns `{ key, call }`.
 */
export function observe(client, queryKey, fn, options = {}) {
  let calls = 0
  const queryFn = async ({ queryKey: key }) => {
    calls++
    return fn ? fn(calls, key) : { key, call: calls }
  }
  const observer = new QueryObserver(client, { queryKey, queryFn, ...options })
  const unsubscribe = observer.subscribe(() => {})
  return {
    observer,
    get calls() { return calls },
    get data() { return client.getQueryData(queryKey) },
    get query() { return client.getQueryCache().find({ queryKey, exact: true }) },
    unsubscribe,
  }
}

/** Mounts an observer, waits for its first fetch, and returns it. */
export async function observeSettled(client, queryKey, fn, options) {
  const handle = observe(client, queryKey, fn, options)
  await settle(client)
  return handle
}

/** A query that was fetched once by an observer that has since unmounted. */
export async function inactive(client, queryKey, fn) {
  const handle = await observeSettled(client, queryKey, fn)
  handle.unsubscribe()
  return handle
}

export function deferred() {
  let resolve, reject
  const promise = new Promise((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}

/** A plan entry as the engine builds it: the queryHash is TanStack's hashKey. */
export function inv(queryKey, { exact = false, refetchType = 'active' } = {}) {
  return { queryKey, queryHash: hashKey(queryKey), exact, refetchType }
}

export function patchOp(queryKey, fields, version = null) {
  return { queryKey, queryHash: hashKey(queryKey), fields, version }
}

export function refetchOp(queryKey, { exact = false } = {}) {
  return { queryKey, queryHash: hashKey(queryKey), exact }
}

/** Supabase v2 `postgres_changes` callback payload, as realtime-js hands it over. */
export function supabasePayload(eventType, table, { new: row = {}, old = {}, schema = 'public', commit_timestamp } = {}) {
  return {
    schema,
    table,
    commit_timestamp: commit_timestamp ?? new Date().toISOString(),
    eventType,
    new: row,
    old,
    errors: null,
  }
}

/**
 * A virtual clock for one test: node:test's mock timers replace `setTimeout` and `Date` (the wasm
 * engine's one timer and its clock), so time moves only when the test says and counts are exact.
 * Enable it before `createRealtime`, after any real-time set-up (`observeSettled` uses real timers).
 * `advance(ms)` fires every timer due on the way, letting promises (queryFns) run between them;
 * `settle(client)` lets fetches finish without moving the clock.
 */
export function virtualClock(t) {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 })
  const turn = () => new Promise((resolve) => setImmediate(resolve)) // setImmediate is not mocked
  return {
    async advance(ms) {
      for (let left = ms; left > 0; left--) {
        t.mock.timers.tick(1)
        await turn()
      }
      t.mock.timers.tick(0)
      await turn()
    },
    async settle(client) {
      for (let i = 0; i < 100; i++) {
        t.mock.timers.tick(0) // TanStack's notifyManager batches on setTimeout(0)
        await turn()
        if (client.isFetching() === 0) return
      }
      throw new Error('queries still fetching')
    },
  }
}
