import { useState, useSyncExternalStore } from 'react';
import { inspector, sinceReset } from './inspector.js';
import { source } from './config.js';

const KIND_LABEL = { events: 'events', flush: 'flush', fetch: 'fetch', error: 'error', status: 'status', note: 'note' };

function time(t) {
  const d = new Date(t);
  return `${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

export function Inspector() {
  const st = useSyncExternalStore(inspector.subscribe, inspector.get);
  const [open, setOpen] = useState(true);
  const [filter, setFilter] = useState('all');
  const s = st.stats;
  const c = sinceReset(st);
  const log = filter === 'all' ? st.log : st.log.filter((e) => e.kind === filter);

  return (
    <aside className={`inspector ${open ? '' : 'closed'}`} data-testid="inspector">
      <div className="inspector-head">
        <strong>Inspector</strong>
        <span className="muted small">source: {source}</span>
        <button className="ghost small" onClick={() => setOpen(!open)} aria-label="Toggle inspector">{open ? '›' : '‹'}</button>
      </div>
      {open && (
        <>
          <div className="insp-grid" title="rt.stats(), polled every 500 ms (totals since the page loaded)">
            <div><span data-testid="insp-received">{s.received}</span><label>received</label></div>
            <div><span data-testid="insp-flushes">{s.flushes}</span><label>flushes</label></div>
            <div><span data-testid="insp-invalidations">{s.invalidations}</span><label>invalidations</label></div>
            <div><span data-testid="insp-patches">{s.patches}</span><label>patches</label></div>
            <div title="fetches of queries that already had data, seen in the QueryCache (since reset)"><span data-testid="insp-refetches">{c.refetches}</span><label>refetches</label></div>
            <div><span data-testid="insp-errors">{st.errors}</span><label>errors</label></div>
          </div>
          <div className="insp-drops">
            <span className="muted small">dropped:</span>
            {Object.entries(s.dropped).map(([k, v]) => (
              <span key={k} className={`drop ${v ? 'nonzero' : ''}`}>
                {k} <b data-testid={`insp-drop-${k}`}>{v}</b>
              </span>
            ))}
          </div>
          <div className="insp-filter">
            {['all', 'events', 'flush', 'fetch', 'status', 'error'].map((f) => (
              <button key={f} className={`chip ${filter === f ? 'on' : ''}`} onClick={() => setFilter(f)}>{f}</button>
            ))}
          </div>
          <ol className="insp-log" data-testid="insp-log">
            {log.length === 0 && <li className="muted small">Nothing yet. Change a work order (here or in another tab).</li>}
            {log.map((e) => (
              <li key={e.id} className={`log-${e.kind}`}>
                <span className="t">{time(e.t)}</span>
                <span className={`k k-${e.kind}`}>{KIND_LABEL[e.kind] ?? e.kind}</span>
                <span className="msg">{e.text}</span>
                {(e.invalidated?.length > 0 || e.patched?.length > 0) && (
                  <ul className="keys">
                    {e.invalidated?.map((k, i) => <li key={`i${i}`}><span className="tag inv">inv</span><code>{k}</code></li>)}
                    {e.patched?.map((k, i) => <li key={`p${i}`}><span className="tag pat">patch</span><code>{k}</code></li>)}
                  </ul>
                )}
              </li>
            ))}
          </ol>
        </>
      )}
    </aside>
  );
}
