import type { FlushPlan, RealtimeOptions, Stats, Trace } from './index.js'

/**
 * What {@link replayTrace} found.
 * @example
 * const r: ReplayResult = await replayTrace(trace)
 * if (!r.same) console.log('first differing plan', r.firstDifference, r.plans[r.firstDifference], r.recorded[r.firstDifference])
 */
export interface ReplayResult {
  /** The plans the fresh engine made, with the trace time at which it made each. */
  plans: { t: number; plan: FlushPlan }[]
  /** The plans the live engine applied (the trace's `plan` records). */
  recorded: { t: number; plan: FlushPlan }[]
  /** Every replayed plan equals the recorded one, in order, and there are as many. */
  same: boolean
  /** The index of the first plan that differs (or is missing on one side); -1 when `same`. */
  firstDifference: number
  /** Inputs the engine refused (bad payloads), as `onError` reported them live. */
  errors: number
  /** The fresh engine's `stats()` at the end. */
  stats: Stats
}

/**
 * Replays a trace (the devtools' "Export trace", or records from `rt.inspect`) into a fresh engine
 * on the trace's own clock, and compares its plans with the recorded ones. `options` override the
 * trace's engine options (to try a fix). Needs no QueryClient; works in Node and browsers.
 * Rejects with `code: 'bad_trace'` (not a trace), `'invalid_option'` (its options are not valid engine
 * options) or a `SyntaxError` (JSON text that is not JSON).
 * @example
 * import { readFile } from 'node:fs/promises'
 * import { replayTrace } from 'querywire/replay'
 *
 * const trace = JSON.parse(await readFile('querywire-trace.json', 'utf8'))
 * const { same, plans } = await replayTrace(trace)
 * console.log(same ? 'reproduced' : 'differs', plans.length)
 */
export function replayTrace(trace: Trace | string, options?: Partial<Omit<RealtimeOptions, 'queryClient' | 'onError'>>): Promise<ReplayResult>

/**
 * JSON with object keys sorted: two plans are the same when their `canonical` texts are equal.
 * @example
 * canonical({ b: 1, a: [2] }) === '{"a":[2],"b":1}'
 */
export function canonical(value: unknown): string
