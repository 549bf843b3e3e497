import { useEffect, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useRealtime, useRealtimeStatus } from 'querywire/react';
import { FACTORIES, SOURCES, centrifugeOptions, connectOptions, initialFactory, source, urlWith } from './config.js';
import { QuerywireDevtools } from 'querywire/devtools';
import { attachCounters, counters } from './counters.js';
import { useRoute } from './router.js';
import { WorkOrdersPage } from './WorkOrders.jsx';
import { BurstLab } from './BurstLab.jsx';
import { About } from './About.jsx';
import { ShareLine } from './ShareLine.jsx';

const SOURCE_LABELS = { ws: 'WebSocket', sse: 'SSE', supabase: 'supabase-js', centrifugo: 'Centrifugo (centrifuge-js)', poll: 'Polling only' };

function wsUrl(path) {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}${path}`;
}

/** Opens the chosen realtime source once the engine is ready; closes it on unmount. */
function useConnection(rt) {
  useEffect(() => {
    if (!rt || source === 'poll') return undefined;
    let stopped = false;
    let off = null;
    const keep = (d) => {
      if (stopped) { if (typeof d === 'function') d(); return; }
      off = d;
    };
    try {
      if (source === 'ws') keep(rt.connectWebSocket(wsUrl('/ws'), connectOptions));
      else if (source === 'sse') keep(rt.connectEventSource('/sse', connectOptions));
      else if (source === 'supabase') {
        import('@supabase/supabase-js').then(({ createClient }) => {
          if (stopped) return;
          const supabase = createClient(location.origin, 'demo-anon-key', {
            auth: { persistSession: false, autoRefreshToken: false },
          });
          window.__querywireDemo.supabase = supabase;
          Promise.resolve(rt.connectSupabase(supabase, { schema: 'public', tables: ['work_orders'] }))
            .then(keep, (e) => counters.error({ code: 'connect', message: String(e?.message ?? e), source }));
        });
      } else if (source === 'centrifugo') {
        import('centrifuge').then(({ Centrifuge }) => {
          if (stopped) return;
          const centrifuge = new Centrifuge(wsUrl('/connection/websocket'), {
            // The demo server mints HS256 connection tokens, as an app's backend does for Centrifugo;
            // centrifuge-js calls this on connect and before a token expires.
            getToken: () => fetch('/api/centrifugo/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
              .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`token: HTTP ${r.status}`))))
              .then((b) => b.token),
            ...centrifugeOptions,
          });
          window.__querywireDemo.centrifuge = centrifuge;
          const off = rt.connectCentrifuge(centrifuge);
          centrifuge.connect();
          keep(() => { off(); centrifuge.disconnect(); });
        }, (e) => counters.error({ code: 'connect', message: String(e?.message ?? e), source }));
      }
    } catch (e) {
      counters.error({ code: 'connect', message: String(e?.message ?? e), source });
    }
    return () => {
      stopped = true;
      if (typeof off === 'function') off();
    };
  }, [rt]);
}

const STATUS_HINTS = {
  connecting: 'connecting; if it takes longer than 5 s, the open views are polled meanwhile',
  reconnecting: 'realtime is down: reconnecting, and the open views are polled every 5 s (from 5 s after the drop) until it is back',
  polling: 'realtime is off or was given up on: the open views are polled every 5 s (15 s in a hidden tab)',
};

export function StatusBadge() {
  const status = useRealtimeStatus() ?? 'disconnected';
  return (
    <span className={`badge badge-${status}`} data-testid="status-badge" data-status={status} title={STATUS_HINTS[status] ?? 'querywire connection status'}>
      <span className="dot" /> {status}
    </span>
  );
}

export function App() {
  const rt = useRealtime();
  const queryClient = useQueryClient();
  const route = useRoute();
  const [factoryId, setFactoryId] = useState(initialFactory);

  useConnection(rt);
  useEffect(() => (rt ? attachCounters(rt, queryClient) : undefined), [rt, queryClient]);
  useEffect(() => {
    if (rt) window.__querywireDemo.rt = rt;
  }, [rt]);
  useEffect(() => {
    if (!rt) return;
    rt.setScope({ factoryId });
  }, [rt, factoryId]);

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <span className="logo">⇄</span> querywire <span className="muted">demo</span>
        </div>
        <nav className="nav">
          <a href="#/work-orders" className={route.page === 'work-orders' ? 'active' : ''} data-testid="nav-work-orders">Work orders</a>
          <a href="#/burst" className={route.page === 'burst' ? 'active' : ''} data-testid="nav-burst">Burst lab</a>
          <a href="#/about" className={route.page === 'about' ? 'active' : ''} data-testid="nav-about">About</a>
        </nav>
        <div className="controls">
          <label>
            Factory
            <select value={factoryId} onChange={(e) => setFactoryId(e.target.value)} data-testid="factory-select">
              {FACTORIES.map((f) => <option key={f} value={f}>{f}</option>)}
            </select>
          </label>
          <label>
            Source
            <select
              value={source}
              onChange={(e) => { location.href = urlWith('source', e.target.value); }}
              data-testid="source-select"
            >
              {SOURCES.map((s) => <option key={s} value={s}>{SOURCE_LABELS[s]}</option>)}
            </select>
          </label>
          {rt ? <StatusBadge /> : <span className="badge badge-connecting" data-testid="status-badge" data-status="loading">loading engine…</span>}
          <ShareLine />
        </div>
      </header>
      <div className="layout">
        <main className="content">
          {!rt ? (
            <div className="card muted">Loading the querywire engine…</div>
          ) : route.page === 'burst' ? (
            <BurstLab factoryId={factoryId} />
          ) : route.page === 'about' ? (
            <About />
          ) : (
            <WorkOrdersPage factoryId={factoryId} selectedId={route.id} />
          )}
        </main>
      </div>
      {/* querywire's devtools panel (querywire/devtools), open from the start in the demo. */}
      <QuerywireDevtools initialIsOpen />
    </div>
  );
}
