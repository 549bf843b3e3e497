//! The outage rules as the glue sees them (`Realtime`): the views' queries refetched while realtime
//! is down, for our own transport and for the JS-held connectors (supabase-js, centrifuge-js), which
//! report their socket through `external_status` (`WasmEngine.setStatus`) and a return without a
//! replay through `recover` (`WasmEngine.recover`). Contract: "while a dropped connection is
//! reconnecting, active views are polled, the first poll 5 s ± 1 s after the drop and then at the
//! polling cadence (status stays 'reconnecting'); the recovery refetch on return replaces the next
//! poll, it does not add to it."

use querywire_core::link::{Status, Transport};
use querywire_core::views::View;
use querywire_core::{Millis, Output, Realtime};
use serde_json::{json, Value};

const DROP: Millis = 20_000;
/// The engine's default window: a refetch is applied when it closes.
const WINDOW: Millis = 300;

struct H {
    rt: Realtime,
    now: Millis,
    out: Vec<(Millis, Output)>,
}

impl H {
    fn new(opts: Value) -> H {
        let mut h = H { rt: Realtime::new(0, &opts).expect("options"), now: 0, out: vec![] };
        h.rt.subscribe(0, View::doc("wo", "1"));
        h.rt.subscribe(0, View::list("wo"));
        h.drain();
        h
    }
    fn drain(&mut self) {
        while let Some(o) = self.rt.poll_output() {
            if let Output::Plan(p) = &o {
                self.rt.engine_mut().record_applied(p.invalidate.len() as u64, p.patch.len() as u64);
            }
            self.out.push((self.now, o));
        }
    }
    fn advance_to(&mut self, end: Millis) {
        while let Some(d) = self.rt.poll_timeout() {
            if d > end {
                break;
            }
            self.now = self.now.max(d);
            self.rt.handle_timeout(self.now);
            self.drain();
        }
        self.now = self.now.max(end);
    }
    fn status(&mut self, s: Status) {
        self.rt.external_status(self.now, s);
        self.drain();
    }
    fn recover(&mut self) {
        self.rt.recover(self.now, None);
        self.drain();
    }
    /// (time, key) of every refetch applied.
    fn refetches(&self) -> Vec<(Millis, Value)> {
        self.out
            .iter()
            .filter_map(|(t, o)| match o {
                Output::Plan(p) => Some(
                    p.refetch.iter().map(|r| (*t, serde_json::from_str::<Value>(p.hash(&r.key)).unwrap())).collect::<Vec<_>>(),
                ),
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
    fn take(&mut self) {
        self.out.clear();
    }
}

fn opts() -> Value {
    json!({ "seed": 7, "scope": { "factoryId": "f1" } })
}

/// A connector that connected at 100 ms and reports its socket down at [`DROP`].
fn connector_dropped() -> H {
    let mut h = H::new(opts());
    h.status(Status::Connecting);
    h.advance_to(100);
    h.status(Status::Connected);
    h.advance_to(DROP);
    h.take();
    h.status(Status::Reconnecting);
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
    let statuses: Vec<_> = h.out.iter().filter(|(_, o)| matches!(o, Output::Status(_))).collect();
    assert_eq!(statuses, [&(DROP, Output::Status(Status::Reconnecting))]);
}

#[test]
fn a_connector_drop_under_4s_costs_no_poll_and_its_return_recovers_each_view_once() {
    let mut h = connector_dropped();
    h.advance_to(DROP + 3_900);
    h.status(Status::Connected);
    h.recover(); // the connector's channels came back without a replay
    h.advance_to(DROP + 120_000);
    assert_eq!(h.doc_refetches(), [3_900 + WINDOW]);
    assert_eq!(h.list_refetches(), 1);
}

#[test]
fn a_connector_return_stops_polling_and_its_recovery_replaces_the_next_poll() {
    let mut h = connector_dropped();
    h.advance_to(DROP + 12_000);
    assert_eq!(h.doc_refetches(), [5_200 + WINDOW, 10_480 + WINDOW]);
    h.status(Status::Connected);
    h.advance_to(DROP + 12_150); // channelSync batches the returning channels for 150 ms
    h.recover();
    h.advance_to(DROP + 120_000);
    assert_eq!(h.doc_refetches(), [5_200 + WINDOW, 10_480 + WINDOW, 12_150 + WINDOW], "the next poll (15,785) never came");
    assert_eq!(h.list_refetches(), 3);
}

#[test]
fn a_poll_and_a_recovery_in_one_window_refetch_each_view_once() {
    let mut h = connector_dropped();
    h.advance_to(DROP + 5_200); // the first poll, its refetch waiting in the window
    h.status(Status::Connected);
    h.recover();
    h.advance_to(DROP + 60_000);
    assert_eq!(h.doc_refetches(), [5_200 + WINDOW]);
    assert_eq!(h.list_refetches(), 1);
}

#[test]
fn a_connector_recovered_from_history_needs_no_refetch() {
    // centrifuge-js `subscribed` with `wasRecovering && recovered`: the connector reports the
    // status only.
    let mut h = connector_dropped();
    h.advance_to(DROP + 7_000);
    h.status(Status::Connected);
    h.advance_to(DROP + 120_000);
    assert_eq!(h.doc_refetches(), [5_200 + WINDOW], "the outage's poll, nothing after the return");
}

#[test]
fn a_hidden_page_polls_a_down_connector_every_15s() {
    let mut h = H::new(opts());
    h.rt.set_visible(0, false);
    h.status(Status::Connected);
    h.advance_to(DROP);
    h.take();
    h.status(Status::Reconnecting);
    h.advance_to(DROP + 60_000);
    assert_eq!(h.doc_refetches(), [14_835, 30_035, 45_315].map(|p| p + WINDOW));
}

#[test]
fn a_disconnected_or_disposed_connector_is_not_polled() {
    let mut h = connector_dropped();
    h.advance_to(DROP + 1_000);
    h.status(Status::Disconnected); // the app called the connector's disconnect function
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
    let mut h = H::new(opts());
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
        if h.out.iter().any(|(t, o)| *t == h.now && *o == Output::Connect) {
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
        if h.out.iter().any(|(t, o)| *t == h.now && *o == Output::Connect) {
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
    assert_eq!(h.doc_refetches(), [5_200, 10_480, 15_785, 21_361, 25_877, 29_933].map(|p| p + WINDOW), "five polls, one recovery");
    assert_eq!(h.list_refetches(), 6);
    assert_eq!(h.rt.status(), Status::Connected);
}

#[test]
fn enabled_false_polls_as_before() {
    let mut h = H::new(json!({ "seed": 7, "enabled": false, "scope": { "factoryId": "f1" } }));
    assert_eq!(h.rt.status(), Status::Polling);
    h.advance_to(30_000);
    let doc: Vec<Millis> = h.refetches().into_iter().filter(|(_, k)| *k == json!(["doc", "wo", "1"])).map(|(t, _)| t).collect();
    assert_eq!(doc, [4_835, 10_035, 15_315, 20_620, 26_196].map(|p| p + WINDOW));
}

#[test]
fn huge_connection_options_never_panic() {
    let max = u64::MAX;
    let mut h = H::new(json!({
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
    h.status(Status::Reconnecting);
    h.advance_to(DROP + 400_000);
}
