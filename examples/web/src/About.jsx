import { source } from './config.js';

export function About() {
  return (
    <section className="card about" data-testid="about">
      <h2>About this demo</h2>
      <p>
        Work orders live in the demo server's database. Every committed change is pushed to the page as a realtime
        event; <strong>querywire</strong> (a Rust engine compiled to WebAssembly) decides what each event means for
        the TanStack Query cache: patch a cached work order in place, refetch the first page of a list, or nothing at
        all. Events arriving together are coalesced into one flush, so a burst costs a handful of requests.
      </p>
      <ul>
        <li><strong>Work orders</strong>: a paged list and a detail pane. Open two tabs and edit in one.</li>
        <li><strong>Burst lab</strong>: fire 100 updates in a second and compare events with requests.</li>
        <li><strong>Source</strong> (top right): WebSocket, Server-Sent Events, the real supabase-js client, the real
          centrifuge-js client, or polling only. Now: <code>{source}</code>.</li>
      </ul>
      <p className="muted">
        This page opens no realtime views: while it is shown, querywire holds no channel and the devtools panel
        records no events. The example server is a demo; in production the events come from Supabase Realtime or
        Centrifugo, and querywire connects to them unchanged.
      </p>
    </section>
  );
}
