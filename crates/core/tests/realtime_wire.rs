//! The composed machine (`Realtime`): wire frames, views and the link's recovery, end to end on a
//! virtual clock. These are the contract's "Views, connections and recovery" and "Wire protocol"
//! promises as the glue sees them: outputs in, nothing decided outside the core.

use querywire_core::link::{Status, Transport};
use querywire_core::views::View;
use querywire_core::Output;
use serde_json::{json, Value};

mod common;
use common::realtime::{refetched, sent, Rt};

/// Our own transport connected with a doc and a list view open.
fn connected(opts: Value) -> Rt {
    let mut h = Rt::new(opts);
    h.rt.subscribe(0, View::doc("wo", "1"));
    h.rt.subscribe(0, View::list("wo"));
    h.rt.connect(0, Transport::Ws, &json!({})).expect("connect");
    h.drain();
    assert!(h.out.contains(&Output::Connect));
    h.rt.transport_open(0);
    h.drain();
    h
}

fn frame(channel: &str, seq: u64, id: &str) -> Value {
    json!({ "channel": channel, "seq": seq, "payload": {
        "type": "realtime", "entity": "wo", "action": "update", "data": { "id": 1, "factory_id": "f1" }, "timestamp": "t", "id": id } })
}

#[test]
fn views_open_their_channels_and_the_link_subscribes_them() {
    let mut h = connected(json!({ "scope": { "factoryId": "f1" } }));
    let out = h.take();
    let sent = sent(&out);
    let channels: Vec<&str> = sent
        .iter()
        .filter(|f| f["type"] == "subscribe")
        .flat_map(|f| f["channels"].as_array().into_iter().flatten().filter_map(Value::as_str))
        .collect();
    for ch in ["doc:wo:1", "list:wo:f1", "factory:f1"] {
        assert!(channels.contains(&ch), "{ch} in {channels:?}");
    }
    assert_eq!(h.rt.status(), Status::Connected);
}

#[test]
fn event_frames_reach_the_cache_and_copies_on_other_channels_are_dropped() {
    let mut h = connected(json!({ "debounceMs": 0, "scope": { "factoryId": "f1" } }));
    h.take();
    h.frame(frame("doc:wo:1", 1, "chg-1"));
    h.frame(frame("factory:f1", 1, "chg-1"));
    h.advance(0);
    let out = h.take();
    let plans: Vec<_> = out.iter().filter(|o| matches!(o, Output::Plan(_))).collect();
    assert_eq!(plans.len(), 1);
    assert_eq!(h.rt.engine().stats().dropped.duplicate, 1);
}

#[test]
fn a_seq_gap_refetches_that_channels_views_once() {
    // The frames are about another row (id 1 in `frame`'s data is doc 1 itself, whose invalidation
    // would already cover the refetch), so the only refetch of doc 1 is the gap's.
    let frame = |ch: &str, seq: u64, id: &str| {
        let mut f = frame(ch, seq, id);
        f["payload"]["data"]["id"] = json!(99);
        f
    };
    let mut h = connected(json!({ "scope": { "factoryId": "f1" } }));
    h.take();
    h.frame(frame("doc:wo:1", 1, "a"));
    h.frame(frame("doc:wo:1", 4, "b"));
    h.advance(1_000); // recoveries go out with the next flush
    let out = h.take();
    assert_eq!(refetched(&out), vec![json!(["doc", "wo", "1"])]);
    h.frame(frame("doc:wo:1", 5, "c"));
    h.advance(1_000);
    assert!(refetched(&h.take()).is_empty(), "the next seq continues the count");
}

#[test]
fn a_replayed_seq_is_a_duplicate() {
    let mut h = connected(json!({ "scope": { "factoryId": "f1" } }));
    h.frame(frame("doc:wo:1", 1, "a"));
    h.frame(frame("doc:wo:1", 2, "b"));
    h.frame(frame("doc:wo:1", 2, "b-again"));
    assert_eq!(h.rt.engine().stats().dropped.duplicate, 1);
}

#[test]
fn a_drop_reconnects_resubscribes_with_since_and_recovers_unrecovered_channels_once() {
    let mut h = connected(json!({ "scope": { "factoryId": "f1" } }));
    h.frame(frame("doc:wo:1", 1, "a"));
    h.frame(frame("list:wo:f1", 7, "b"));
    h.frame(frame("factory:f1", 3, "b"));
    h.advance(20_000); // the connection is stable
    h.take();
    h.rt.transport_close(h.now, Some(1006));
    h.drain();
    assert_eq!(h.rt.status(), Status::Reconnecting);
    h.advance(2_000); // the first reconnect is not held back
    let out = h.take();
    assert!(out.contains(&Output::Connect), "{out:?}");
    h.rt.transport_open(h.now);
    h.drain();
    let out = h.take();
    let sub = sent(&out).into_iter().find(|f| f["type"] == "subscribe").expect("a subscribe frame");
    assert_eq!(sub["since"], json!({ "doc:wo:1": 1, "factory:f1": 3, "list:wo:f1": 7 }));
    h.frame(json!({ "type": "recovered", "channel": "doc:wo:1", "ok": true }));
    h.frame(json!({ "type": "recovered", "channel": "factory:f1", "ok": true }));
    h.frame(json!({ "type": "recovered", "channel": "list:wo:f1", "ok": false }));
    h.advance(30_000);
    let refetched = refetched(&h.take());
    assert!(
        !refetched.contains(&json!(["doc", "wo", "1"])),
        "a history-recovered channel needs no refetch: {refetched:?}"
    );
    assert!(refetched.contains(&json!(["list", "wo", "f1"])), "{refetched:?}");
    assert_eq!(refetched.iter().filter(|k| **k == json!(["list", "wo", "f1"])).count(), 1, "once");
}

#[test]
fn close_4001_is_final_with_an_unauthorized_error() {
    let mut h = connected(json!({}));
    h.take();
    h.rt.transport_close(h.now, Some(4001));
    h.drain();
    h.advance(120_000);
    let out = h.take();
    assert!(out.iter().any(|o| matches!(o, Output::Error(e) if e.code.as_str() == "unauthorized")));
    assert!(!out.contains(&Output::Connect));
    assert_eq!(h.rt.status(), Status::Error);
}

#[test]
fn enabled_false_polls_active_views_from_creation() {
    let mut h = Rt::new(json!({ "enabled": false, "seed": 7, "scope": { "factoryId": "f1" } }));
    h.rt.subscribe(0, View::doc("wo", "1"));
    h.drain();
    assert_eq!(h.rt.status(), Status::Polling);
    let mut polls = vec![];
    while h.now < 60_000 {
        h.advance(1);
        if !refetched(&h.take()).is_empty() {
            polls.push(h.now);
        }
    }
    // Seed 7 (polls draw from their own stream, link/polling.rs): every 5 s ± 1 s, the first one
    // interval after polling starts (the clock is virtual and the jitter seeded, so the times are exact).
    assert_eq!(polls, [5135, 10335, 15615, 20920, 26496, 31012, 35510, 40196, 45978, 50275, 55082, 59433]);
    assert!(polls.windows(2).all(|w| (4_000..=6_000).contains(&(w[1] - w[0]))));
}

#[test]
fn unsubscribe_closes_channels_and_set_scope_moves_them() {
    let mut h = Rt::new(json!({ "scope": { "factoryId": "f1" } }));
    let id = 7;
    h.rt.attach_connector(0, id, vec!["wo".into()], None);
    let a = h.rt.subscribe(0, View::list("wo"));
    let b = h.rt.subscribe(0, View::list("wo"));
    h.advance(0); // channels sync on the next tick
    let names = |out: Vec<Output>| -> (Vec<String>, Vec<String>) {
        let mut open = vec![];
        let mut close = vec![];
        for o in out {
            match o {
                Output::OpenChannel(i, s) if i == id => open.push(s.name),
                Output::CloseChannel(i, n) if i == id => close.push(n),
                _ => {}
            }
        }
        (open, close)
    };
    assert_eq!(names(h.take()), (vec!["factory:f1".to_string(), "list:wo:f1".to_string()], vec![]));
    h.rt.set_scope(0, &json!({ "factoryId": "f2" })).unwrap();
    h.advance(0);
    assert_eq!(
        names(h.take()),
        (
            vec!["factory:f2".to_string(), "list:wo:f2".to_string()],
            vec!["factory:f1".to_string(), "list:wo:f1".to_string()]
        )
    );
    h.rt.unsubscribe(0, a);
    h.rt.unsubscribe(0, a);
    h.advance(0);
    assert_eq!(names(h.take()), (vec![], vec![]), "one view still holds them");
    h.rt.unsubscribe(0, b);
    h.advance(0);
    assert_eq!(names(h.take()), (vec![], vec!["factory:f2".to_string(), "list:wo:f2".to_string()]));
    assert!(h.rt.views().channels().is_empty());
}

#[test]
fn a_strict_mode_remount_in_one_tick_sends_nothing_on_the_wire() {
    let mut h = connected(json!({ "scope": { "factoryId": "f1" } }));
    h.advance(0);
    h.take();
    // React StrictMode: mount, unmount, mount before the next macrotask.
    let a = h.rt.subscribe(h.now, View::doc("wo", "2"));
    h.rt.unsubscribe(h.now, a);
    let _b = h.rt.subscribe(h.now, View::doc("wo", "2"));
    h.advance(0);
    let frames = sent(&h.take());
    let subs: Vec<_> = frames.iter().filter(|f| f["type"] == "subscribe").collect();
    assert_eq!(subs.len(), 1, "{frames:?}");
    assert_eq!(subs[0]["channels"], json!(["doc:wo:2"]));
    assert!(frames.iter().all(|f| f["type"] != "unsubscribe"), "{frames:?}");
}

#[test]
fn control_and_bad_frames() {
    let mut h = connected(json!({}));
    h.take();
    assert!(h.rt.transport_frame(0, r#"{"type":"pong","ref":1}"#).unwrap().is_none());
    let e = h.rt.transport_frame(0, r#"{"type":"error","code":"bad_channel","message":"nope"}"#).unwrap_err();
    assert_eq!(e.code.as_str(), "server");
    // A numeric code is its `String(JSON.parse(code))` (node); 1e400 (JS: Infinity) prints null.
    for (code, js) in [
        ("1.50", "1.5"),
        ("1e2", "100"),
        ("-0", "0"),
        ("0.30000000000000004", "0.30000000000000004"),
        ("1e400", "null"),
    ] {
        let frame = format!(r#"{{"type":"error","code":{code},"message":"nope"}}"#);
        assert_eq!(h.rt.transport_frame(0, &frame).unwrap_err().message, format!("{js}: nope"), "{code}");
    }
    assert_eq!(h.rt.transport_frame(0, "not json").unwrap_err().code.as_str(), "bad_json");
    assert_eq!(h.rt.transport_frame(0, r#"{"hello":1}"#).unwrap_err().code.as_str(), "wrong_type");
    // A bare payload is recognised by its shape.
    assert!(h.rt.transport_frame(0, r#"{"queryKey":["todos"]}"#).unwrap().is_some());
    assert_eq!(h.rt.engine().stats().dropped.invalid, 2);
}

#[test]
fn recovered_answers_spread_over_time_still_refetch_each_view_once() {
    // After a server restart every channel answers `recovered ok:false`, one frame each; with a short
    // window they may land in different flushes, yet each view must be refetched once.
    let mut h = connected(json!({ "debounceMs": 5, "scope": { "factoryId": "f1" } }));
    h.frame(frame("doc:wo:1", 1, "a"));
    h.frame(frame("list:wo:f1", 1, "b"));
    h.frame(frame("factory:f1", 1, "c"));
    h.advance(20_000);
    h.rt.transport_close(h.now, Some(1006));
    h.drain();
    h.advance(2_000);
    h.rt.transport_open(h.now);
    h.drain();
    h.take();
    for ch in ["factory:f1", "doc:wo:1", "list:wo:f1"] {
        h.frame(json!({ "type": "recovered", "channel": ch, "ok": false }));
        h.advance(50); // longer than the window
    }
    h.advance(30_000);
    let refetched = refetched(&h.take());
    assert_eq!(refetched.iter().filter(|k| **k == json!(["doc", "wo", "1"])).count(), 1, "{refetched:?}");
    assert_eq!(refetched.iter().filter(|k| **k == json!(["list", "wo", "f1"])).count(), 1, "{refetched:?}");
}

#[test]
fn no_option_value_however_large_overflows() {
    // Issue 10: `backoff.maxMs` near u64::MAX overflowed in the polling retry (± 10 % of it).
    let huge: Value = serde_json::from_str(
        r#"{ "backoff": { "initialMs": 18446744073709551615, "maxMs": 18446744073709551615, "maxAttempts": 2 },
        "heartbeat": { "intervalMs": 18446744073709551615, "timeoutMs": 18446744073709551615 } }"#,
    )
    .unwrap();
    let mut h = Rt::new(json!({}));
    h.rt.subscribe(0, View::doc("wo", "1"));
    h.rt.connect(0, Transport::Ws, &huge).expect("huge values are clamped, not refused");
    for _ in 0..20 {
        h.rt.transport_close(h.now, Some(1006));
        h.advance(86_400_000 * 3);
    }
    h.rt.handle_timeout(u64::MAX);
    h.drain();
    assert!(
        matches!(h.rt.status(), Status::Polling | Status::Reconnecting | Status::Connecting),
        "{:?}",
        h.rt.status()
    );
}

#[test]
fn a_frame_is_read_as_json_parse_reads_it() {
    // Issue 10: a lone surrogate escape or 1e400 in a column nothing reads turned a WebSocket frame
    // into bad_json (the event was lost), while the same payload by rt.ingest was accepted.
    let mut h = connected(json!({ "debounceMs": 0, "scope": { "factoryId": "f1" } }));
    h.take();
    let text = r#"{ "channel": "doc:wo:1", "seq": 1, "payload": { "schema": "public", "table": "wo", "commit_timestamp": "t",
        "eventType": "DELETE", "new": {}, "old": { "id": 1, "factory_id": "f1", "note": "\ud800", "big": 1e400 }, "errors": null } }"#;
    assert!(h.rt.transport_frame(h.now, text).is_ok());
    h.drain();
    h.advance(0);
    let out = h.take();
    let hashes: Vec<String> = out
        .iter()
        .filter_map(|o| match o {
            Output::Plan(p) => Some(p.hashes().into_iter().map(str::to_string).collect::<Vec<_>>()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(hashes, [r#"["list","wo","f1",{"page":1}]"#, r#"["doc","wo","1"]"#]);
    assert_eq!(h.rt.engine().stats().dropped.invalid, 0);
}
