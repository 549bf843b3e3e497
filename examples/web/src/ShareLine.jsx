import { useEffect, useState } from 'react';
import { useRealtime } from 'querywire/react';

/**
 * "leader / follower · N connections": which part this tab plays in the shared connection
 * (`shareConnection`, docs/SHARING.md) and how many realtime connections the demo server holds.
 * Open the demo in two tabs: one leads, the server holds one connection.
 */
export function ShareLine() {
  const rt = useRealtime();
  const [line, setLine] = useState({ role: 'off', connections: null });
  useEffect(() => {
    if (!rt) return undefined;
    let stopped = false;
    const tick = async () => {
      let connections = null;
      try {
        const c = (await (await fetch('/api/stats')).json()).connections;
        connections = (c?.ws ?? 0) + (c?.sse ?? 0) + (c?.supabase ?? 0) + (c?.centrifugo ?? 0);
      } catch { /* the server is down: show no count */ }
      if (!stopped) setLine({ role: rt.shareRole(), connections });
    };
    tick();
    const t = setInterval(tick, 1000);
    return () => { stopped = true; clearInterval(t); };
  }, [rt]);
  if (!rt) return null;
  const n = line.connections;
  return (
    <span className="muted share-line" data-testid="share-line" data-role={line.role} data-connections={n ?? ''}
      title="shareConnection: the tab that leads holds the one connection of this browser">
      {line.role === 'off' ? 'not shared' : line.role}{n === null ? '' : ` · ${n} connection${n === 1 ? '' : 's'}`}
    </span>
  );
}
