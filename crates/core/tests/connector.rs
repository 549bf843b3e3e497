//! A JS-held connector (supabase-js, centrifuge-js) driven through `Realtime` on a virtual clock:
//! the connector reports facts, the core decides which channels to open and close, when a channel
//! that came back is recovered, when a closed one reopens, and the status (docs/CONNECTORS.md).

use querywire_core::connector::{
    Binding, ChannelFact, ClientState, Replay, REOPEN_MS, SETTLE_MS, SETTLE_WHILE_DOWN_MS,
};
use querywire_core::link::Status;
use querywire_core::views::View;
use querywire_core::Output;
use serde_json::json;

mod common;
use common::realtime::{closed, opened, refetched, statuses, Rt};

impl Rt {
    /// Attaches a new connector (a new id) for `tables`; its channels open on the next tick.
    fn attach(&mut self, tables: &[&str], filter: Option<&str>) {
        self.id += 1;
        self.rt.attach_connector(
            self.now,
            self.id,
            tables.iter().map(|t| t.to_string()).collect(),
            filter.map(str::to_string),
        );
        self.drain();
        assert!(opened(&self.out).is_empty(), "channels open on the next tick");
        self.advance(0);
    }
}

/// A doc and a list view open, every channel joined, outputs taken.
fn joined() -> Rt {
    let mut h = Rt::new(json!({ "scope": { "factoryId": "f1" }, "debounceMs": 0 }));
    h.rt.subscribe(0, View::doc("wo", "1"));
    h.rt.subscribe(0, View::list("wo"));
    h.attach(&["wo"], None);
    for ch in ["doc:wo:1", "factory:f1", "list:wo:f1"] {
        h.fact(ch, ChannelFact::Joined(Replay::Unknown));
    }
    h.advance(10);
    h.take();
    h
}

const ALL: [&str; 3] = ["doc:wo:1", "factory:f1", "list:wo:f1"];

#[test]
fn attaching_opens_what_the_views_need_with_default_filters() {
    let mut h = Rt::new(json!({ "scope": { "factoryId": "f1" } }));
    h.rt.subscribe(0, View::doc("wo", "12"));
    h.rt.subscribe(0, View::list("wo"));
    h.attach(&["wo", "lines"], None);
    let specs: Vec<_> =
        h.take().into_iter().filter_map(|o| if let Output::OpenChannel(_, s) = o { Some(s) } else { None }).collect();
    let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["doc:wo:12", "factory:f1", "list:wo:f1"]);
    let b = |t: &str, f: Option<&str>| Binding { table: Some(t.into()), filter: f.map(str::to_string) };
    assert_eq!(
        specs[0].bindings,
        vec![b("wo", Some("id=eq.12")), b("lines", None)],
        "a doc's id filter is on its own table only"
    );
    assert_eq!(specs[1].bindings, vec![b("wo", Some("factory_id=eq.f1")), b("lines", Some("factory_id=eq.f1"))]);
    assert_eq!(specs[2].bindings, vec![b("wo", Some("factory_id=eq.f1")), b("lines", Some("factory_id=eq.f1"))]);
}

#[test]
fn a_filter_string_is_used_as_is_and_no_tables_is_one_unfiltered_schema_binding() {
    let mut h = Rt::new(json!({ "primaryKey": ["uuid"] }));
    h.rt.subscribe(0, View::doc("wo", "a-1"));
    h.attach(&["wo"], Some("tenant=eq.7"));
    let out = h.take();
    let Some(Output::OpenChannel(_, spec)) = out.iter().find(|o| matches!(o, Output::OpenChannel(..))) else {
        panic!("{out:?}")
    };
    assert_eq!(spec.bindings, vec![Binding { table: Some("wo".into()), filter: Some("tenant=eq.7".into()) }]);

    let mut h = Rt::new(json!({ "primaryKey": ["uuid"] }));
    h.rt.subscribe(0, View::doc("wo", "a-1"));
    h.attach(&[], None);
    let out = h.take();
    let Some(Output::OpenChannel(_, spec)) = out.iter().find(|o| matches!(o, Output::OpenChannel(..))) else {
        panic!("{out:?}")
    };
    assert_eq!(spec.bindings, vec![Binding { table: None, filter: None }]);

    let mut h = Rt::new(json!({ "primaryKey": ["uuid"] }));
    h.rt.subscribe(0, View::doc("wo", "a-1"));
    h.attach(&["wo"], None);
    let out = h.take();
    let Some(Output::OpenChannel(_, spec)) = out.iter().find(|o| matches!(o, Output::OpenChannel(..))) else {
        panic!("{out:?}")
    };
    assert_eq!(spec.bindings[0].filter.as_deref(), Some("uuid=eq.a-1"), "the id column is the first primaryKey column");
}

#[test]
fn strict_mode_churn_in_one_tick_never_reaches_the_connector() {
    let mut h = joined();
    let a = h.rt.subscribe(h.now, View::doc("wo", "2"));
    h.rt.unsubscribe(h.now, a);
    let _b = h.rt.subscribe(h.now, View::doc("wo", "2"));
    h.drain();
    assert!(opened(&h.out).is_empty(), "nothing before the next tick");
    h.advance(0);
    let out = h.take();
    assert_eq!(opened(&out), ["doc:wo:2"]);
    assert!(closed(&out).is_empty());
}

#[test]
fn a_channel_closed_on_purpose_reopens_only_once_its_old_handle_is_gone() {
    let mut h = joined();
    let a = h.rt.subscribe(h.now, View::doc("wo", "2"));
    h.advance(0);
    h.fact("doc:wo:2", ChannelFact::Joined(Replay::Unknown));
    h.rt.unsubscribe(h.now, a);
    h.advance(0);
    assert_eq!(closed(&h.take()), ["doc:wo:2"]);
    let _b = h.rt.subscribe(h.now, View::doc("wo", "2"));
    h.advance(0);
    assert!(opened(&h.take()).is_empty(), "the old channel is still leaving");
    h.fact("doc:wo:2", ChannelFact::Joined(Replay::Unknown)); // a late status of the leaving one
    h.fact("doc:wo:2", ChannelFact::Left);
    assert_eq!(opened(&h.take()), ["doc:wo:2"]);
}

#[test]
fn channels_that_come_back_together_refetch_each_view_once_after_the_settle_window() {
    let mut h = joined();
    for ch in ALL {
        h.fact(ch, ChannelFact::Down);
    }
    assert_eq!(statuses(&h.take()), [Status::Reconnecting]);
    h.fact("doc:wo:1", ChannelFact::Joined(Replay::Unknown));
    h.advance(SETTLE_MS);
    assert!(refetched(&h.take()).is_empty(), "others are still down: the window is {SETTLE_WHILE_DOWN_MS} ms");
    h.fact("factory:f1", ChannelFact::Joined(Replay::Unknown));
    h.fact("list:wo:f1", ChannelFact::Joined(Replay::Unknown));
    assert_eq!(statuses(&h.out), [Status::Connected]);
    h.advance(SETTLE_MS - 1);
    assert!(refetched(&h.out).is_empty(), "the window restarts with each return");
    h.advance(1);
    h.advance(10);
    let mut keys = refetched(&h.take());
    keys.sort_by_key(|k| k.to_string());
    assert_eq!(keys, vec![json!(["doc", "wo", "1"]), json!(["list", "wo", "f1"])], "each view once");
    h.advance(60_000);
    assert!(refetched(&h.take()).is_empty(), "nothing more");
}

#[test]
fn one_channel_back_refetches_only_its_views() {
    let mut h = joined();
    h.fact("doc:wo:1", ChannelFact::Down);
    h.fact("doc:wo:1", ChannelFact::Joined(Replay::Unknown));
    h.advance(SETTLE_MS + 10);
    assert_eq!(refetched(&h.take()), vec![json!(["doc", "wo", "1"])]);
}

#[test]
fn a_server_replay_needs_no_refetch_and_a_failed_one_refetches_even_on_a_first_join() {
    let mut h = joined();
    h.fact("list:wo:f1", ChannelFact::Down);
    h.fact("list:wo:f1", ChannelFact::Joined(Replay::Replayed));
    h.advance(1_000);
    assert!(refetched(&h.take()).is_empty());
    let _v = h.rt.subscribe(h.now, View::doc("wo", "3"));
    h.advance(0);
    h.fact("doc:wo:3", ChannelFact::Joined(Replay::Lost));
    h.advance(1_000);
    assert_eq!(refetched(&h.take()), vec![json!(["doc", "wo", "3"])]);
}

#[test]
fn a_channel_the_server_closed_reopens_after_a_second_one_at_a_time() {
    let mut h = joined();
    h.fact("doc:wo:1", ChannelFact::Closed);
    h.advance(5);
    h.fact("list:wo:f1", ChannelFact::Closed);
    assert_eq!(statuses(&h.take()), [Status::Reconnecting]);
    h.advance(REOPEN_MS - 6);
    assert!(opened(&h.out).is_empty());
    h.advance(1);
    assert_eq!(opened(&h.take()), ["doc:wo:1"], "the first closed, {REOPEN_MS} ms after it closed");
    h.advance(5_000);
    assert!(opened(&h.take()).is_empty(), "the next waits for the reopened one's answer");
    h.fact("doc:wo:1", ChannelFact::Joined(Replay::Unknown));
    h.advance(0);
    assert_eq!(opened(&h.take()), ["list:wo:f1"]);
    h.fact("list:wo:f1", ChannelFact::Joined(Replay::Unknown));
    h.advance(SETTLE_MS + 10);
    let out = h.take();
    assert_eq!(h.rt.status(), Status::Connected);
    let mut keys = refetched(&out);
    keys.sort_by_key(|k| k.to_string());
    assert_eq!(
        keys,
        vec![json!(["doc", "wo", "1"]), json!(["list", "wo", "f1"])],
        "a reopened channel's join is a return"
    );
}

#[test]
fn a_closed_channel_no_view_wants_any_more_is_not_reopened() {
    let mut h = Rt::new(json!({}));
    let v = h.rt.subscribe(0, View::doc("wo", "1"));
    h.attach(&["wo"], None);
    h.fact("doc:wo:1", ChannelFact::Joined(Replay::Unknown));
    h.fact("doc:wo:1", ChannelFact::Closed);
    h.rt.unsubscribe(h.now, v);
    h.advance(10_000);
    let out = h.take();
    assert_eq!(opened(&out), ["doc:wo:1"], "only the first open");
    assert!(closed(&out).is_empty(), "the client already dropped it");
}

#[test]
fn status_from_channel_facts_alone() {
    let mut h = Rt::new(json!({}));
    h.attach(&["wo"], None);
    assert_eq!(statuses(&h.take()), [Status::Connecting], "nothing connected yet");
    h.rt.subscribe(h.now, View::doc("wo", "1"));
    h.advance(0);
    assert!(statuses(&h.take()).is_empty());
    h.fact("doc:wo:1", ChannelFact::Joined(Replay::Unknown));
    assert_eq!(statuses(&h.take()), [Status::Connected]);
    h.fact("doc:wo:1", ChannelFact::Down);
    assert_eq!(statuses(&h.take()), [Status::Reconnecting]);
    assert_eq!(h.rt.status(), Status::Reconnecting);
}

#[test]
fn status_follows_the_client_state_when_the_client_has_one() {
    let mut h = Rt::new(json!({}));
    h.rt.subscribe(0, View::doc("wo", "1"));
    h.attach(&[], None);
    h.client(ClientState::Disconnected);
    h.client(ClientState::Connecting);
    h.client(ClientState::Connected);
    h.client(ClientState::Connecting);
    h.client(ClientState::Connected);
    h.client(ClientState::Disconnected);
    h.client(ClientState::Connecting);
    let s = statuses(&h.take());
    use Status::*;
    assert_eq!(s, [Connecting, Disconnected, Connecting, Connected, Reconnecting, Connected, Disconnected, Connecting]);
}

#[test]
fn a_client_that_gave_up_is_status_error_until_its_next_state() {
    // centrifuge-js after a final disconnect (3500 invalid token): it will not reconnect itself.
    let mut h = Rt::new(json!({}));
    h.rt.subscribe(0, View::doc("wo", "1"));
    h.attach(&[], None);
    h.client(ClientState::Connecting);
    h.client(ClientState::Failed);
    h.advance(60_000);
    h.client(ClientState::Connecting); // the app connects again
    h.client(ClientState::Connected);
    let s = statuses(&h.take());
    use Status::*;
    assert_eq!(s, [Connecting, Error, Connecting, Connected]);
    assert_eq!(ClientState::parse("failed"), Some(ClientState::Failed));
}

#[test]
fn signing_out_closes_every_channel_until_the_client_is_back() {
    let mut h = joined();
    h.client(ClientState::SignedOut);
    let out = h.take();
    assert_eq!(closed(&out), ALL);
    assert_eq!(statuses(&out), [Status::Disconnected]);
    for ch in ALL {
        h.fact(ch, ChannelFact::Left);
    }
    assert!(opened(&h.take()).is_empty());
    h.client(ClientState::SignedIn);
    let out = h.take();
    assert_eq!(opened(&out), ALL);
    assert_eq!(statuses(&out), [Status::Connecting], "joining again, as on a first connect");
    for ch in ALL {
        h.fact(ch, ChannelFact::Joined(Replay::Unknown));
    }
    assert_eq!(statuses(&h.take()), [Status::Connected]);
}

#[test]
fn detaching_closes_every_channel_and_late_facts_are_ignored() {
    let mut h = joined();
    let old = h.id;
    h.rt.detach_connector(h.now, old);
    h.drain();
    let out = h.take();
    assert_eq!(closed(&out), ALL);
    assert_eq!(statuses(&out), [Status::Disconnected]);
    h.fact("doc:wo:1", ChannelFact::Closed);
    h.advance(10_000);
    assert!(h.take().is_empty(), "{:?}", h.out);
    // A new connector gets a new id; facts with the old one do nothing.
    h.attach(&["wo"], None);
    assert_ne!(h.id, old);
    assert_eq!(opened(&h.take()), ALL);
    h.rt.connector_channel(h.now, old, "doc:wo:1", ChannelFact::Joined(Replay::Unknown));
    h.drain();
    assert!(statuses(&h.take()).is_empty());
}

#[test]
fn dispose_closes_the_connectors_channels() {
    let mut h = joined();
    h.rt.dispose(h.now);
    h.drain();
    assert_eq!(closed(&h.take()), ALL);
}

#[test]
fn a_refused_channel_is_not_retried_and_does_not_hold_the_status() {
    let mut h = Rt::new(json!({}));
    h.rt.subscribe(0, View::doc("wo", "1"));
    h.rt.subscribe(0, View::doc("wo", "2"));
    h.attach(&[], None);
    h.fact("doc:wo:1", ChannelFact::Refused);
    h.fact("doc:wo:2", ChannelFact::Joined(Replay::Unknown));
    h.advance(60_000);
    let out = h.take();
    assert_eq!(opened(&out), ["doc:wo:1", "doc:wo:2"]);
    assert_eq!(h.rt.status(), Status::Connected);
}
