import { useEffect, useState, useSyncExternalStore } from 'react';
import { useMutation } from '@tanstack/react-query';
import { useRealtimeSubscription } from 'querywire/react';
import { api } from './api.js';
import { counters, sinceReset } from './counters.js';
import { LIST_VIEW, WorkOrderTable, useListPage } from './WorkOrders.jsx';
import { navigate } from './router.js';

const BURSTS = [
  { id: 'updates', label: '100 updates in 1 s', body: { count: 100, ms: 1000, kind: 'update' },
    help: 'The server updates rows of this factory 100 times within one second.' },
  { id: 'pairs', label: '20 DELETE + INSERT pairs', body: { count: 20, ms: 1000, kind: 'delete_insert' },
    help: 'The server deletes a row and inserts a new one, 20 times within one second.' },
];

function Counter({ label, value, testId, hint, tone }) {
  return (
    <div className={`counter ${tone ?? ''}`} title={hint}>
      <div className="counter-value" data-testid={testId}>{value}</div>
      <div className="counter-label">{label}</div>
      {hint && <div className="counter-hint">{hint}</div>}
    </div>
  );
}

/**
 * Requests the server served since its counters were last reset, as GET /api/stats reports them.
 * Polled with a plain timer, outside TanStack Query, so it stays out of the devtools' picture.
 */
function useServerStats() {
  const [state, setState] = useState({ data: null, isError: false });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    const load = () => api.stats().then(
      (data) => live && setState({ data, isError: false }),
      () => live && setState((s) => ({ ...s, isError: true })),
    );
    load();
    const t = setInterval(load, 1000);
    return () => { live = false; clearInterval(t); };
  }, [tick]);
  return { ...state, refetch: () => setTick((n) => n + 1) };
}

const WATCHED_ROUTES = ['GET /api/work_orders', 'GET /api/work_orders/:id'];

export function BurstLab({ factoryId }) {
  useRealtimeSubscription(LIST_VIEW);
  const list = useListPage(factoryId, 1);
  const st = useSyncExternalStore(counters.subscribe, counters.get);
  const c = sinceReset(st);
  const server = useServerStats();
  const requests = server.data?.requests ?? {};
  const [lastBurst, setLastBurst] = useState(null);

  const serverRefetches = WATCHED_ROUTES.reduce((n, r) => n + (requests[r] ?? 0), 0);
  const distinct = c.received - c.dropped.duplicate;
  const saved = distinct - serverRefetches;

  const burst = useMutation({
    mutationFn: (b) => api.burst({ factory_id: factoryId, ...b.body }),
    onMutate: (b) => { setLastBurst({ label: b.label, at: Date.now() }); },
  });
  const create = useMutation({
    mutationFn: () => api.create({ factory_id: factoryId, title: `Burst lab order ${new Date().toLocaleTimeString()}`, qty: 1 }),
  });
  const reset = useMutation({
    mutationFn: async () => { counters.reset(); await api.resetStats(); },
    onSettled: () => server.refetch(),
  });

  useEffect(() => {
    // Start every visit with zeroed counters on both sides.
    reset.mutate();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  return (
    <div className="burst">
      <section className="card">
        <div className="card-head">
          <h2>Burst lab <span className="muted">· factory {factoryId}</span></h2>
        </div>
        <p className="muted">
          Fire a burst of writes on the server and watch how many events arrive, how querywire coalesces
          them into flushes, and how few requests the page makes to stay correct.
        </p>
        <div className="actions">
          {BURSTS.map((b) => (
            <button key={b.id} className="primary" disabled={burst.isPending} onClick={() => burst.mutate(b)} title={b.help} data-testid={`burst-${b.id}`}>
              {b.label}
            </button>
          ))}
          <button onClick={() => create.mutate()} disabled={create.isPending} data-testid="burst-create">Create record</button>
          <button className="ghost" onClick={() => reset.mutate()} data-testid="counters-reset">Reset counters</button>
          <span className="muted small" data-testid="burst-state">
            {burst.isPending ? `running: ${lastBurst?.label}…` : burst.isError ? `burst failed: ${burst.error.message}` : lastBurst ? `last: ${lastBurst.label}` : ''}
          </span>
        </div>
      </section>

      <section className="card">
        <div className="card-head"><h2>Since the last reset</h2></div>
        <div className="counters">
          <Counter label="events received" value={c.received} testId="counter-received" hint="payloads handed to the engine (rt.stats().received)" />
          <Counter label="flushes" value={c.flushes} testId="counter-flushes" hint="coalesced plans applied to the QueryClient" />
          <Counter label="keys asked for" value={c.keysAskedFor} testId="counter-keys" hint="query keys the plans named (after dedupe)" />
          <Counter label="queries invalidated" value={c.queriesInvalidated} testId="counter-invalidated" hint="cached queries those keys matched" />
          <Counter label="docs patched" value={c.patched} testId="counter-patches" hint="setQueryData in place, no request" />
          <Counter label="refetches started" value={c.refetchesStarted} testId="counter-started" hint="fetches the flushes started (active queries)" />
          <Counter label="refetches made" value={serverRefetches} testId="counter-refetches" hint="server: GET list + GET doc" />
          <Counter
            label="refetches saved"
            value={Math.max(0, saved)}
            testId="counter-saved"
            tone="good"
            hint="distinct events − refetches made"
          />
        </div>
        <p className="footnote">
          <b>Refetches saved</b> = distinct events (received − duplicates dropped) − refetches made: a handler
          that refetches the affected query once per change makes one request per distinct event; querywire
          coalesces, dedupes and patches instead. <b>Refetches made</b> are the server's own count of
          <code> GET /api/work_orders</code> and <code>GET /api/work_orders/:id</code> since the reset.
          <b> Keys asked for</b> counts the query keys querywire's plans named; <b>queries invalidated</b> the
          cached queries those keys matched (a list prefix matches every cached page; a key of nothing cached
          matches none), and <b>refetches started</b> the ones of them that were active and refetched.
        </p>
        <h3>Events per channel</h3>
        <table className="table compact-table" data-testid="events-per-channel">
          <tbody>
            {Object.entries(c.perChannel).sort(([a], [b]) => a.localeCompare(b)).map(([ch, n]) => (
              <tr key={ch} data-testid="channel-events" data-channel={ch} data-count={n}><td><code>{ch}</code></td><td className="num">{n}</td></tr>
            ))}
            {Object.keys(c.perChannel).length === 0 && <tr><td className="muted">no frame yet (WebSocket and SSE frames are counted per channel)</td></tr>}
          </tbody>
        </table>
        <h3>Dropped by reason</h3>
        <div className="counters small-counters">
          {Object.entries(c.dropped).map(([k, v]) => (
            <Counter key={k} label={k} value={v} testId={`drop-${k}`} />
          ))}
        </div>
        <h3>
          Server requests <span className="muted small">(GET /api/stats{server.data?.db ? ` · ${server.data.db}` : ''})</span>
        </h3>
        <table className="table compact-table" data-testid="server-requests">
          <tbody>
            {Object.entries(requests)
              .filter(([k]) => k !== 'GET /api/stats')
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([k, v]) => (
                <tr key={k} data-testid="server-request" data-route={k} data-count={v}>
                  <td><code>{k}</code></td>
                  <td className="num">{v}</td>
                </tr>
              ))}
            {Object.keys(requests).filter((k) => k !== 'GET /api/stats').length === 0 && (
              <tr><td className="muted">{server.isError ? 'server stats unavailable' : 'no requests yet'}</td></tr>
            )}
          </tbody>
        </table>
      </section>

      <section className="card">
        <div className="card-head">
          <h2>Live list <span className="muted">· page 1</span></h2>
          <span className={`fetching ${list.isFetching ? 'on' : ''}`}>{list.isFetching ? 'fetching…' : ''}</span>
        </div>
        {list.data ? (
          <WorkOrderTable items={list.data.items} compact onOpen={(id) => navigate(`/work-orders/${id}`)} />
        ) : (
          <div className="muted">Loading…</div>
        )}
      </section>
    </div>
  );
}
