// The Burst lab's counters, since the last reset, from what querywire reports through rt.inspect
// (the same feed as <QuerywireDevtools />) and from the QueryCache. Each counter says what it counts:
//   events received      payloads the engine was handed (rt.stats().received)
//   events per channel   frames that arrived on each realtime channel
//   flushes              plans applied
//   keys asked for       query keys the flush plans named (invalidate + patch + refetch operations)
//   queries invalidated  cached queries those keys matched and invalidated (QueryCache 'invalidate')
//   docs patched         cached docs updated in place with setQueryData, no request
//   refetches started    fetches of cached queries that a flush started
// A small external store read through useSyncExternalStore.

const zeroStats = () => ({ received: 0, flushes: 0, invalidations: 0, patches: 0, dropped: { invalid: 0, stale: 0, duplicate: 0, outOfScope: 0 } });
const zero = () => ({ flushes: 0, keysAskedFor: 0, queriesInvalidated: 0, patched: 0, refetchesStarted: 0, perChannel: {} });

const listeners = new Set();
let state = { stats: zeroStats(), baseline: zeroStats(), counts: zero(), errors: [] };
let rtRef = null;
let scheduled = false;

function emit() {
  scheduled = false;
  if (rtRef) state = { ...state, stats: rtRef.stats() };
  for (const l of listeners) l();
}
// Bursts deliver hundreds of records a second: re-render at most every 100 ms.
function changed() {
  if (!scheduled) { scheduled = true; setTimeout(emit, 100); }
}
function count(mut) {
  const counts = { ...state.counts, perChannel: { ...state.counts.perChannel } };
  mut(counts);
  state = { ...state, counts };
  changed();
}

export const counters = {
  subscribe(l) { listeners.add(l); return () => listeners.delete(l); },
  get: () => state,
  error(e) {
    state = { ...state, errors: [...state.errors, { code: e?.code ?? 'error', message: e?.message ?? String(e), source: e?.source }] };
    changed();
  },
  reset() {
    state = { ...state, baseline: rtRef ? rtRef.stats() : zeroStats(), counts: zero() };
    changed();
  },
};

/** Counters since the last reset. */
export function sinceReset(s = state) {
  const d = (a, b) => Math.max(0, (a ?? 0) - (b ?? 0));
  return {
    received: d(s.stats.received, s.baseline.received),
    dropped: Object.fromEntries(Object.keys(zeroStats().dropped).map((k) => [k, d(s.stats.dropped[k], s.baseline.dropped[k])])),
    ...s.counts,
  };
}

/** Feeds the counters from an engine and its QueryClient; returns a function that stops. */
export function attachCounters(rt, queryClient) {
  rtRef = rt;
  state = { ...state, stats: rt.stats(), baseline: rt.stats() };
  const stop = rt.inspect((r) => {
    if (r.kind === 'plan') {
      count((c) => {
        c.flushes++;
        c.keysAskedFor += r.plan.invalidate.length + r.plan.patch.length + r.plan.refetch.length;
        c.patched += r.applied.patches;
        c.refetchesStarted += r.refetched.length;
      });
    } else if (r.kind === 'frame') {
      let channel;
      try { channel = JSON.parse(r.text).channel; } catch { /* not JSON: counted as invalid by the engine */ }
      if (typeof channel === 'string') count((c) => { c.perChannel[channel] = (c.perChannel[channel] ?? 0) + 1; });
    } else if (r.kind === 'ingest' || r.kind === 'status') {
      changed();
    }
  });
  const unsubCache = queryClient.getQueryCache().subscribe((event) => {
    if (event.type === 'updated' && event.action.type === 'invalidate') count((c) => { c.queriesInvalidated++; });
  });
  return () => { stop(); unsubCache(); if (rtRef === rt) rtRef = null; };
}
