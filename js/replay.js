// replayTrace: a trace that `rt.inspect` recorded (the devtools' "Export trace") replayed into a
// fresh engine on the trace's own clock (src/replay.rs), and its plans compared with the plans the
// live engine applied. Loads the same WebAssembly module as `createRealtime`; needs no QueryClient.
import { loadWasm } from './loadWasm.js'
import { createPlanDecoder } from './applyPlan.js'

/** JSON with object keys sorted: two plans are the same when these strings are equal. */
export function canonical(value) {
  return JSON.stringify(value, (_, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]]))
      : v)
}

/**
 * Replays `trace` (an object or its JSON text); `options` override the trace's engine options
 * (to try a fix: `{ debounceMs: 50 }`). Resolves `{ plans, recorded, same, firstDifference, errors, stats }`.
 */
export async function replayTrace(trace, options = {}) {
  const text = typeof trace === 'string' ? trace : JSON.stringify(trace)
  const parsed = typeof trace === 'string' ? JSON.parse(trace) : trace
  if (!parsed || !Array.isArray(parsed.records)) {
    throw Object.assign(new TypeError('replayTrace: a trace is { version, options, records: [...] }'), { code: 'bad_trace', source: 'replay' })
  }
  const { replayTrace: run } = await loadWasm()
  const out = run(text, options ?? {})
  // A fresh engine's key table starts empty: one fresh decoder reads its plans in order.
  const decode = createPlanDecoder()
  const plans = out.plans.map((p) => ({ t: p.t, plan: decode(p.bytes) }))
  const recorded = parsed.records.filter((r) => r.kind === 'plan').map((r) => ({ t: r.t, plan: r.plan }))
  let firstDifference = -1
  const n = Math.max(plans.length, recorded.length)
  for (let i = 0; i < n; i++) {
    if (!plans[i] || !recorded[i] || canonical(plans[i].plan) !== canonical(recorded[i].plan)) {
      firstDifference = i
      break
    }
  }
  return { plans, recorded, same: firstDifference === -1, firstDifference, errors: out.errors, stats: out.stats }
}
