// Everything the demo reads from its URL, read once at start-up.
//   ?source=ws|sse|supabase|centrifugo|poll   realtime source (default ws)
//   ?factory=f1|f2                 initial factory
//   ?debounceMs=300&maxWaitMs=1000 engine windows
//   ?backoffInitialMs=&backoffMaxMs=&backoffMaxAttempts=   reconnect backoff (tests shorten it)
//   ?heartbeatIntervalMs=&heartbeatTimeoutMs=
//   ?share=0                       one connection per tab (default: the tabs share one, shareConnection)
export const SOURCES = ['ws', 'sse', 'supabase', 'centrifugo', 'poll'];
export const FACTORIES = ['f1', 'f2'];
export const PAGE_SIZE = 10;

const params = new URLSearchParams(typeof location === 'undefined' ? '' : location.search);

function num(name) {
  const v = params.get(name);
  if (v == null || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function compact(obj) {
  const out = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[k] = v;
  return Object.keys(out).length ? out : undefined;
}

const rawSource = params.get('source');
export const source = SOURCES.includes(rawSource) ? rawSource : 'ws';
const rawFactory = params.get('factory');
export const initialFactory = FACTORIES.includes(rawFactory) ? rawFactory : 'f1';
export const share = params.get('share') !== '0';

export const engineTuning = compact({
  debounceMs: num('debounceMs'),
  maxWaitMs: num('maxWaitMs'),
});

export const connectOptions = compact({
  backoff: compact({
    initialMs: num('backoffInitialMs'),
    maxMs: num('backoffMaxMs'),
    maxAttempts: num('backoffMaxAttempts'),
  }),
  heartbeat: compact({
    intervalMs: num('heartbeatIntervalMs'),
    timeoutMs: num('heartbeatTimeoutMs'),
  }),
}) ?? {};

/** centrifuge-js reconnect delays from the same backoff parameters (its own backoff, not querywire's). */
export const centrifugeOptions = compact({
  minReconnectDelay: num('backoffInitialMs'),
  maxReconnectDelay: num('backoffMaxMs'),
}) ?? {};

/** The current URL with one query parameter changed (used by the source switch). */
export function urlWith(name, value) {
  const p = new URLSearchParams(location.search);
  p.set(name, value);
  return `${location.pathname}?${p.toString()}${location.hash}`;
}
