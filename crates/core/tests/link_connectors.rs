//! The outage rules as the glue sees them (`Realtime`): the views' queries refetched while realtime
//! is down, for our own transport and for a JS-held connector (supabase-js, centrifuge-js), driven
//! here through the facts it reports (`attach_connector`, `connector_channel`, `connector_client`:
//! docs/CONNECTORS.md), whose status (`connector.rs`) the polls follow. Contract: "while a dropped
//! connection is reconnecting, active views are polled, the first poll 5 s ± 1 s after the drop and
//! then at the polling cadence (status stays 'reconnecting'); the recovery refetch on return replaces
//! the next poll, it does not add to it."

use querywire_core::connector::{ChannelFact, ClientState, Replay};
use querywire_core::link::{Status, Transport};
use querywire_core::views::View;
use querywire_core::{Millis, Output};
use serde_json::{json, Value};

const DROP: Millis = 20_000;
/// The engine's default window: a refetch is applied when it closes.
const WINDOW: Millis = 300;
/// `connector::SETTLE_MS`: channels that came back are recovered after this settle window.
const SETTLE: Millis = 150;
const CONNECTOR: u32 = 1;

mod common;
use common::realtime::Rt;

/// A doc and a list view open; `fact`, `all` and `client` speak for [`CONNECTOR`].
fn new(opts: Value) -> Rt {
    let mut h = Rt::new(opts);
    h.id = CONNECTOR;
    h.rt.subscribe(0, View::doc("wo", "1"));
    h.rt.subscribe(0, View::list("wo"));
    h.drain();
    h
}

impl Rt {
    /// (time, key) of every refetch applied.
    fn refetches(&self) -> Vec<(Millis, Value)> {
        self.timed()
            .filter_map(|(t, o)| match o {
                Output::Plan(p) => Some(p.refetch.iter().map(|r| (t, common::key(p, &r.key))).collect::<Vec<_>>()),
                _ => None,
            })
            .flatten()
            .collect()
    }
    /// Times at which the doc view was refetched, relative to the drop.
    fn doc_refetches(&self) -> Vec<Millis> {
        self.refetches().into_iter().filter(|(_, k)| *k == json!(["doc", "wo", "1"])).map(|(t, _)| t - DROP).collect()
    }
    fn list_refetches(&self) -> usize {
        self.refetches().into_iter().filter(|(_, k)| *k == json!(["list", "wo", "f1"])).count()
    }
    fn statuses(&self) -> Vec<(Millis, Status)> {
        self.timed().filter_map(|(t, o)| if let Output::Status(s) = o { Some((t, *s)) } else { None }).collect()
    }
}

fn opts() -> Value {
    json!({ "seed": 7, "scope": { "factoryId": "f1" } })
}

/// A connector whose channels joined at 100 ms, all reported down at [`DROP`] (supabase-js: the
/// socket closed, every channel `CHANNEL_ERROR`).
fn connector_dropped() -> Rt {
    let mut h = new(opts());
    h.rt.attach_connector(0, CONNECTOR, vec!["wo".into()], None);
    h.drain();
    h.advance_to(0); // the channels open on the next tick
    assert_eq!(h.channels.len(), 3, "{:?}", h.channels);
    h.advance_to(100);
    h.all(ChannelFact::Joined(Replay::Unknown));
    assert_eq!(h.rt.status(), Status::Connected);
    h.advance_to(DROP);
    h.take();
    h.all(ChannelFact::Down);
    assert_eq!(h.rt.status(), Status::Reconnecting);
    h
}

#[test]
fn a_connector_whose_socket_is_down_has_its_views_polled_and_stays_reconnecting() {
    let mut h = connector_dropped();
    h.advance_to(DROP + 30_000);
    // Seed 7's polls (5,200 ms, then 5 s ± 1 s apart), each applied when the window closes.
    let polls = [5_200, 10_480, 15_785, 21_361, 25_877];
    assert_eq!(h.doc_refetches(), polls.map(|p| p + WINDOW));
    assert_eq!(h.list_refetches(), polls.len(), "every active view");
    assert_eq!(h.rt.status(), Status::Reconnecting);
    assert_eq!(h.statuses(), [(DROP, Status::Reconnecting)]);
}

#[test]
fn a_connector_drop_under_4s_costs_no_poll_and_its_return_recovers_each_view_once() {
    let mut h = connector_dropped();
    h.advance_to(DROP + 3_900);
    h.all(ChannelFact::Joined(Replay::Unknown)); // the channels came back without a replay
    assert_eq!(h.rt.status(), Status::Connected);
    h.advance_to(DROP + 120_000);
    assert_eq!(h.doc_refetches(), [3_900 + SETTLE + WINDOW], "no poll; the recovery, once");
    assert_eq!(h.list_refetches(), 1);
}

#[test]
fn a_connector_return_stops_polling_and_its_recovery_replaces_the_next_poll() {
    let mut h = connector_dropped();
    h.advance_to(DROP + 12_000);
    assert_eq!(h.doc_refetches(), [5_200 + WINDOW, 10_480 + WINDOW]);
    h.all(ChannelFact::Joined(Replay::Unknown));
    h.advance_to(DROP + 120_000);
    assert_eq!(
        h.doc_refetches(),
        [5_200 + WINDOW, 10_480 + WINDOW, 12_000 + SETTLE + WINDOW],
        "the next poll (15,785) never came"
    );
    assert_eq!(h.list_refetches(), 3);
}

#[test]
fn a_poll_and_a_recovery_in_one_window_refetch_each_view_once() {
    let mut h = connector_dropped();
    h.advance_to(DROP + 5_200); // the first poll, its refetch waiting in the window
    h.all(ChannelFact::Joined(Replay::Unknown)); // recovered 150 ms later, inside that window
    h.advance_to(DROP + 60_000);
    assert_eq!(h.doc_refetches().len(), 1, "{:?}", h.doc_refetches());
    assert_eq!(h.list_refetches(), 1);
}

/// A centrifuge-js-like connector (a client with a state) whose channels joined at once, its client
/// reconnecting (`connecting`) from [`DROP`].
fn client_reconnecting() -> Rt {
    let mut h = new(opts());
    h.rt.attach_connector(0, CONNECTOR, vec![], None);
    h.drain();
    h.advance_to(0);
    h.client(ClientState::Connected);
    h.all(ChannelFact::Joined(Replay::Unknown));
    h.advance_to(DROP);
    h.take();
    h.client(ClientState::Connecting);
    h
}

#[test]
fn a_connector_recovered_from_history_needs_no_refetch() {
    // centrifuge-js: the client reconnects (`connecting`, then `connected`) and each subscription
    // comes back with `wasRecovering && recovered`.
    let mut h = client_reconnecting();
    assert_eq!(h.rt.status(), Status::Reconnecting);
    h.advance_to(DROP + 7_000);
    h.client(ClientState::Connected);
    h.all(ChannelFact::Joined(Replay::Replayed));
    assert_eq!(h.rt.status(), Status::Connected);
    h.advance_to(DROP + 120_000);
    assert_eq!(h.doc_refetches(), [5_200 + WINDOW], "the outage's poll, nothing after the return");
}

#[test]
fn a_connector_whose_replay_failed_recovers_those_views_once() {
    // centrifuge-js `wasRecovering && !recovered` on the doc channel only.
    let mut h = client_reconnecting();
    h.advance_to(DROP + 7_000);
    h.client(ClientState::Connected);
    for ch in h.channels.clone() {
        let replay = if ch.starts_with("doc:") { Replay::Lost } else { Replay::Replayed };
        h.rt.connector_channel(h.now, CONNECTOR, &ch, ChannelFact::Joined(replay));
    }
    h.drain();
    h.advance_to(DROP + 120_000);
    assert_eq!(h.doc_refetches(), [5_200 + WINDOW, 7_000 + SETTLE + WINDOW]);
    assert_eq!(h.list_refetches(), 1, "the list's channels were replayed: only the outage's poll");
}

#[test]
fn a_hidden_page_polls_a_down_connector_every_15s() {
    let mut h = new(opts());
    h.rt.set_visible(0, false);
    h.rt.attach_connector(0, CONNECTOR, vec![], None);
    h.drain();
    h.advance_to(0);
    h.all(ChannelFact::Joined(Replay::Unknown));
    h.advance_to(DROP);
    h.take();
    h.all(ChannelFact::Down);
    h.advance_to(DROP + 60_000);
    assert_eq!(h.doc_refetches(), [15_200, 30_480, 45_785].map(|p| p + WINDOW));
}

#[test]
fn a_disconnected_or_disposed_connector_is_not_polled() {
    let mut h = connector_dropped();
    h.advance_to(DROP + 1_000);
    h.rt.detach_connector(h.now, CONNECTOR); // the app called the connector's disconnect function
    h.drain();
    assert_eq!(h.rt.status(), Status::Disconnected);
    h.advance_to(DROP + 60_000);
    assert!(h.doc_refetches().is_empty());

    let mut h = connector_dropped();
    h.advance_to(DROP + 1_000);
    h.client(ClientState::Disconnected); // centrifuge.disconnect()
    assert_eq!(h.rt.status(), Status::Disconnected);
    h.advance_to(DROP + 60_000);
    assert!(h.doc_refetches().is_empty());

    let mut h = connector_dropped();
    h.rt.dispose(h.now);
    h.drain();
    h.advance_to(DROP + 60_000);
    assert!(h.doc_refetches().is_empty());
    assert_eq!(h.rt.poll_timeout(), None);
}

#[test]
fn our_own_transport_polls_the_views_while_reconnecting_and_recovers_them_once() {
    let mut h = new(opts());
    h.rt.connect(0, Transport::Ws, &json!({})).unwrap();
    h.drain();
    h.rt.transport_open(0);
    h.drain();
    h.advance_to(DROP);
    h.take();
    h.rt.transport_close(DROP, Some(1006));
    h.drain();
    // The server is down: every Connect fails at once.
    let mut back = None;
    while h.now < DROP + 25_000 {
        let next = h.rt.poll_timeout().unwrap();
        h.advance_to(next);
        if h.timed().any(|(t, o)| t == h.now && *o == Output::Connect) {
            h.rt.transport_close(h.now, None);
            h.drain();
        }
    }
    assert_eq!(h.rt.status(), Status::Reconnecting);
    assert_eq!(h.doc_refetches(), [5_200, 10_480, 15_785, 21_361].map(|p| p + WINDOW));
    // The server is back: the next attempt opens.
    while back.is_none() {
        let next = h.rt.poll_timeout().unwrap();
        h.advance_to(next);
        if h.timed().any(|(t, o)| t == h.now && *o == Output::Connect) {
            h.rt.transport_open(h.now);
            h.drain();
            back = Some(h.now);
        }
    }
    let back = back.unwrap();
    h.advance_to(back + 35_000); // (before the unanswered heartbeat at +40 s drops it again)
    let after: Vec<_> = h.doc_refetches().into_iter().filter(|t| *t + DROP > back).collect();
    assert_eq!(after, [back - DROP + WINDOW], "one recovery, no poll after the return");
    assert_eq!(back - DROP, 29_933);
    assert_eq!(
        h.doc_refetches(),
        [5_200, 10_480, 15_785, 21_361, 25_877, 29_933].map(|p| p + WINDOW),
        "five polls, one recovery"
    );
    assert_eq!(h.list_refetches(), 6);
    assert_eq!(h.rt.status(), Status::Connected);
}

#[test]
fn enabled_false_polls_as_before() {
    let mut h = new(json!({ "seed": 7, "enabled": false, "scope": { "factoryId": "f1" } }));
    assert_eq!(h.rt.status(), Status::Polling);
    h.advance_to(30_000);
    let doc: Vec<Millis> =
        h.refetches().into_iter().filter(|(_, k)| *k == json!(["doc", "wo", "1"])).map(|(t, _)| t).collect();
    assert_eq!(doc, [4_835, 10_035, 15_315, 20_620, 26_196].map(|p| p + WINDOW));
}

#[test]
fn huge_connection_options_never_panic() {
    let max = u64::MAX;
    let mut h = new(json!({
        "seed": max, "pollingMs": 1e300, "scope": { "factoryId": "f1" },
        "backoff": { "initialMs": max, "maxMs": max, "maxAttempts": u32::MAX },
        "heartbeat": { "intervalMs": max, "timeoutMs": max },
    }));
    h.rt.connect(0, Transport::Sse, &json!({ "backoff": { "maxAttempts": 1 } })).unwrap();
    h.drain();
    h.rt.transport_open(0);
    h.rt.transport_close(DROP, None);
    h.drain();
    h.advance_to(DROP + 300_000);
    assert_eq!(h.rt.status(), Status::Polling);
    assert!(h.list_refetches() >= 4, "polling is clamped to 60 s");
    h.rt.attach_connector(h.now, CONNECTOR, vec![], None);
    h.drain();
    h.advance_to(h.now);
    h.all(ChannelFact::Joined(Replay::Unknown));
    h.all(ChannelFact::Down);
    h.advance_to(DROP + 400_000);
}
