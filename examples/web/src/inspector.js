// The live inspector's store: what querywire reports (rt.stats() every 500 ms, onError, status) and
// what the QueryClient shows happening (invalidations, patches and fetches, from its QueryCache events).
// A small external store read through useSyncExternalStore.

const MAX_LOG = 80;
const listeners = new Set();
let localDepth = 0;
let seq = 0;

const zeroStats = () => ({
  received: 0, flushes: 0, invalidations: 0, patches: 0,
  dropped: { invalid: 0, stale: 0, duplicate: 0, outOfScope: 0 },
});

let state = {
  stats: zeroStats(),          // latest rt.stats()
  baseline: zeroStats(),       // rt.stats() at the last reset
  fetches: { refetch: 0, initial: 0 },     // fetches seen in the QueryCache since the last reset
  errors: 0,
  log: [],                     // newest first
  status: 'disconnected',
};

function emit() {
  for (const l of listeners) l();
}
function set(patch) {
  state = { ...state, ...patch };
  emit();
}
function push(entry) {
  const e = { id: ++seq, t: Date.now(), ...entry };
  set({ log: [e, ...state.log].slice(0, MAX_LOG) });
}

export const inspector = {
  subscribe(l) {
    listeners.add(l);
    return () => listeners.delete(l);
  },
  get: () => state,
  /** Run fn as an app-side cache write (seeding docs from a list, a mutation's response). */
  local(fn) {
    localDepth++;
    try { return fn(); } finally { localDepth--; }
  },
  error(e) {
    set({ errors: state.errors + 1 });
    push({ kind: 'error', text: `${e?.code ?? 'error'}: ${e?.message ?? String(e)}${e?.source ? ` (${e.source})` : ''}` });
  },
  status(s) {
    if (s === state.status) return;
    set({ status: s });
    push({ kind: 'status', text: `status → ${s}` });
  },
  note(text) {
    push({ kind: 'note', text });
  },
  reset() {
    set({ baseline: state.stats, fetches: { refetch: 0, initial: 0 } });
    push({ kind: 'note', text: 'counters reset' });
  },
};

/** Counters since the last reset. */
export function sinceReset(s = state) {
  const d = (a, b) => Math.max(0, (a ?? 0) - (b ?? 0));
  return {
    received: d(s.stats.received, s.baseline.received),
    flushes: d(s.stats.flushes, s.baseline.flushes),
    invalidations: d(s.stats.invalidations, s.baseline.invalidations),
    patches: d(s.stats.patches, s.baseline.patches),
    dropped: Object.fromEntries(
      Object.keys(zeroStats().dropped).map((k) => [k, d(s.stats.dropped?.[k], s.baseline.dropped?.[k])]),
    ),
    refetches: s.fetches.refetch,
    initialFetches: s.fetches.initial,
  };
}

function normStats(raw) {
  const z = zeroStats();
  if (!raw || typeof raw !== 'object') return z;
  return {
    received: raw.received ?? 0,
    flushes: raw.flushes ?? 0,
    invalidations: raw.invalidations ?? 0,
    patches: raw.patches ?? 0,
    dropped: { ...z.dropped, ...(raw.dropped ?? {}) },
  };
}

const keyText = (k) => JSON.stringify(k);

/**
 * Attach to an engine and its QueryClient. Returns a detach function.
 * Cache events are grouped per task: the invalidations and patches one flush applies arrive together.
 */
export function attachInspector(rt, queryClient) {
  let group = null;
  const closeGroup = () => {
    const g = group;
    group = null;
    if (!g) return;
    const parts = [];
    if (g.invalidated.length) parts.push(`invalidated ${g.invalidated.length}`);
    if (g.patched.length) parts.push(`patched ${g.patched.length}`);
    if (g.fetched.length) parts.push(`${g.fetched.length} refetch${g.fetched.length === 1 ? '' : 'es'} started`);
    push({ kind: 'flush', t: g.t, text: `flush: ${parts.join(', ')}`, invalidated: g.invalidated, patched: g.patched });
  };
  const addToGroup = (what, key) => {
    if (!group) {
      group = { t: Date.now(), invalidated: [], patched: [], fetched: [] };
      setTimeout(closeGroup, 0);
    }
    group[what].push(keyText(key));
  };

  const unsubCache = queryClient.getQueryCache().subscribe((event) => {
    if (event.type !== 'updated') return;
    const { action, query } = event;
    if (action.type === 'invalidate') {
      addToGroup('invalidated', query.queryKey);
    } else if (action.type === 'success' && action.manual) {
      if (localDepth === 0) addToGroup('patched', query.queryKey);
    } else if (action.type === 'fetch') {
      const refetch = query.state.data !== undefined;
      set({
        fetches: {
          ...state.fetches,
          [refetch ? 'refetch' : 'initial']: state.fetches[refetch ? 'refetch' : 'initial'] + 1,
        },
      });
      // A refetch a flush started is shown in that flush's entry; others get their own.
      if (group && refetch) group.fetched.push(keyText(query.queryKey));
      else push({ kind: 'fetch', text: `${refetch ? 'refetch' : 'fetch'} ${keyText(query.queryKey)}` });
    }
  });

  let last = normStats(rt.stats?.());
  set({ stats: last, baseline: last });
  const timer = setInterval(() => {
    let next;
    try { next = normStats(rt.stats()); } catch { return; }
    const dr = next.received - last.received;
    const dd = Object.keys(next.dropped).filter((k) => next.dropped[k] > last.dropped[k]);
    if (dr > 0 || dd.length) {
      const drops = dd.map((k) => `${k} +${next.dropped[k] - last.dropped[k]}`).join(', ');
      const df = next.flushes - last.flushes;
      push({
        kind: 'events',
        text: `events +${dr}` + (df > 0 ? ` · flushes +${df}` : '') + (drops ? ` · dropped ${drops}` : ''),
      });
    }
    last = next;
    set({ stats: next });
  }, 500);

  let unsubStatus = () => {};
  try {
    if (typeof rt.status === 'function') inspector.status(rt.status());
    const u = rt.onStatus?.((s) => inspector.status(s));
    if (typeof u === 'function') unsubStatus = u;
  } catch { /* ignore */ }

  return () => {
    clearInterval(timer);
    unsubCache();
    unsubStatus();
    closeGroup();
  };
}
