//! Contract: "After a reconnect, each active view is refetched once to recover what was missed,
//! unless its channel was recovered from the server's history ...; nothing more." and the wire
//! protocol's `subscribe`/`since`/`recovered`/`seq` rules, and final close codes.

mod link_support;

use link_support::{channels, Harness, Server};
use querywire_core::link::{LinkErrorCode, LinkOutput, RecoverScope, SeqCheck, Status, Timer};
use serde_json::json;

fn recover(chs: &[&str]) -> RecoverScope {
    RecoverScope::Channels(channels(chs))
}

/// Drops a long-lived connection and lets the Link reconnect to an up server.
fn drop_and_reconnect(h: &mut Harness) {
    h.advance_by(20_000);
    h.take_log();
    h.act(|l, now| l.handle_close(now, Some(1006)));
    h.advance_by(1_000);
    assert_eq!(h.link.status(), Status::Connected);
}

#[test]
fn the_first_connect_subscribes_and_recovers_nothing() {
    let mut h = Harness::ws(1);
    h.act(|l, now| l.set_channels(now, channels(&["doc:t:1", "factory:f1"])));
    h.act(|l, now| l.connect(now));
    assert_eq!(h.statuses(), [Status::Connecting, Status::Connected]);
    assert_eq!(h.sent(), [json!({"type":"subscribe","channels":["doc:t:1","factory:f1"],"since":{}})]);
    h.advance_by(120_000);
    assert!(h.recovers().is_empty());
}

#[test]
fn a_reconnect_without_seqs_recovers_every_view_exactly_once() {
    let mut h = Harness::ws(1);
    h.connected_with(&["doc:t:1", "list:t:f1", "factory:f1"]);
    drop_and_reconnect(&mut h);
    h.advance_by(600_000);
    assert_eq!(h.recovers(), [RecoverScope::All]);
}

#[test]
fn resubscribe_carries_since_for_channels_with_a_seq_only() {
    let mut h = Harness::ws(1);
    h.connected_with(&["a", "b", "c"]);
    h.act(|l, now| {
        l.handle_frame(now);
        assert_eq!(l.handle_seq("a", 4), SeqCheck::First);
        assert_eq!(l.handle_seq("a", 5), SeqCheck::InOrder);
        assert_eq!(l.handle_seq("b", 7), SeqCheck::First);
    });
    assert_eq!(h.link.since().into_iter().collect::<Vec<_>>(), [("a".into(), 5), ("b".into(), 7)]);
    drop_and_reconnect(&mut h);
    let subscribes: Vec<_> = h.sent().into_iter().filter(|f| f["type"] == "subscribe").collect();
    assert_eq!(subscribes, [json!({"type":"subscribe","channels":["a","b","c"],"since":{"a":5,"b":7}})]);
    assert_eq!(h.recovers(), [recover(&["c"])], "c has no position: refetched at once");

    h.take_log();
    h.act(|l, _| l.handle_recovered("a", true));
    h.act(|l, _| l.handle_recovered("b", false));
    assert_eq!(h.recovers(), [recover(&["b"])]);
    assert_eq!(h.link.handle_seq("a", 6), SeqCheck::InOrder, "replayed events continue the count");
    assert_eq!(h.link.handle_seq("b", 30), SeqCheck::First, "a new count: no second refetch");
    h.act(|l, _| l.handle_recovered("b", false)); // a repeated answer changes nothing
    h.advance_by(600_000);
    assert_eq!(h.recovers(), [recover(&["b"])]);
}

#[test]
fn an_unanswered_since_is_recovered_once_after_the_deadline() {
    let mut h = Harness::ws(1);
    h.connected_with(&["a", "b"]);
    h.act(|l, _| {
        l.handle_seq("a", 1);
        l.handle_seq("b", 1);
    });
    drop_and_reconnect(&mut h);
    let reopened = h.now;
    assert!(h.recovers().is_empty());
    assert_eq!(h.link.next_timer(), Some((reopened + 10_000, Timer::RecoveryDeadline)));
    h.act(|l, _| l.handle_recovered("a", true));
    h.advance_by(600_000);
    assert_eq!(h.recovers(), [recover(&["b"])]);
}

#[test]
fn a_seq_gap_recovers_that_channel_once_and_counts_on() {
    let mut h = Harness::ws(1);
    h.connected_with(&["a", "b"]);
    h.act(|l, _| {
        assert_eq!(l.handle_seq("a", 1), SeqCheck::First);
        assert_eq!(l.handle_seq("a", 2), SeqCheck::InOrder);
        assert_eq!(l.handle_seq("a", 5), SeqCheck::Gap);
        assert_eq!(l.handle_seq("a", 6), SeqCheck::InOrder);
        assert_eq!(l.handle_seq("a", 6), SeqCheck::Duplicate);
        assert_eq!(l.handle_seq("zzz", 9), SeqCheck::Ignored);
    });
    assert_eq!(h.recovers(), [recover(&["a"])]);
}

#[test]
fn a_gap_while_awaiting_recovered_settles_it_without_a_second_refetch() {
    let mut h = Harness::ws(1);
    h.connected_with(&["a", "b"]);
    h.act(|l, _| {
        l.handle_seq("a", 3);
    });
    drop_and_reconnect(&mut h);
    h.take_log();
    h.act(|l, _| {
        assert_eq!(l.handle_seq("a", 9), SeqCheck::Gap);
    });
    h.act(|l, _| l.handle_recovered("a", false));
    h.advance_by(600_000);
    assert_eq!(h.recovers(), [recover(&["a"])]);
}

#[test]
fn channel_changes_while_connected_send_subscribe_and_unsubscribe() {
    let mut h = Harness::ws(1);
    h.connected_with(&["a", "b"]);
    h.act(|l, _| {
        l.handle_seq("b", 3);
    });
    h.act(|l, now| l.set_channels(now, channels(&["a", "c"])));
    assert_eq!(
        h.sent(),
        [json!({"type":"subscribe","channels":["c"]}), json!({"type":"unsubscribe","channels":["b"]})]
    );
    assert!(h.link.since().is_empty(), "a removed channel's seq is forgotten");
    h.take_log();
    h.act(|l, now| l.set_channels(now, channels(&["c", "a"])));
    assert!(h.log.is_empty(), "the same set sends nothing");
}

#[test]
fn sse_reopens_on_channel_change_staying_connected_and_recovers_only_old_channels() {
    let mut h = Harness::sse(1);
    h.connected_with(&["a"]);
    h.act(|l, now| l.set_channels(now, channels(&["a", "b"])));
    let log: Vec<LinkOutput> = h.log.iter().map(|(_, o)| o.clone()).collect();
    assert_eq!(log, [LinkOutput::Close, LinkOutput::Connect, LinkOutput::Recover(recover(&["a"]))]);
    assert_eq!(h.link.status(), Status::Connected);
    assert!(h.statuses().is_empty(), "no status flicker");
}

#[test]
fn close_4001_is_final_unauthorized() {
    let mut h = Harness::ws(1);
    h.connected_with(&["a"]);
    h.act(|l, now| l.handle_close(now, Some(4001)));
    let log: Vec<LinkOutput> = h.log.iter().map(|(_, o)| o.clone()).collect();
    assert!(matches!(&log[0], LinkOutput::Error { code: LinkErrorCode::Unauthorized, .. }));
    assert_eq!(h.statuses(), [Status::Error]);
    assert_eq!(h.link.poll_timeout(), None);
    h.act(|l, now| l.intent(now, querywire_core::link::Intent::Online, querywire_core::link::Priority::High));
    h.advance_by(3_600_000);
    assert!(h.connects().is_empty(), "no retry until the app acts");
    h.act(|l, now| l.connect(now));
    assert_eq!(h.link.status(), Status::Connected);
}

#[test]
fn close_4003_is_final_forbidden_even_on_the_first_attempt() {
    let mut h = Harness::ws(1);
    h.server = Server::Closes(4003);
    h.act(|l, now| l.connect(now));
    assert!(h.log.iter().any(|(_, o)| matches!(o, LinkOutput::Error { code: LinkErrorCode::Forbidden, .. })));
    assert_eq!(h.link.status(), Status::Error);
    h.advance_by(3_600_000);
    assert_eq!(h.connects().len(), 1);
    assert_eq!(LinkErrorCode::Forbidden.as_str(), "forbidden");
}

#[test]
fn disconnect_closes_and_stops_everything() {
    let mut h = Harness::ws(1);
    h.connected_with(&["a"]);
    h.act(|l, now| l.disconnect(now));
    let log: Vec<LinkOutput> = h.log.iter().map(|(_, o)| o.clone()).collect();
    assert_eq!(log, [LinkOutput::Close, LinkOutput::Status(Status::Disconnected)]);
    assert_eq!(h.link.poll_timeout(), None);
    h.act(|l, now| l.disconnect(now));
    assert_eq!(h.log.len(), 2, "a second disconnect does nothing");
}

#[test]
fn spurious_timeouts_and_stray_transport_events_are_no_ops() {
    let mut h = Harness::ws(1);
    h.act(|l, now| {
        l.handle_timeout(now);
        l.handle_open(now);
        l.handle_close(now, Some(4001));
        l.handle_frame(now);
        l.handle_recovered("a", false);
    });
    assert!(h.log.is_empty());
    assert_eq!(h.link.status(), Status::Disconnected);

    h.connected_with(&["a"]);
    let before = h.link.next_timer();
    h.act(|l, now| {
        l.handle_timeout(now);
        l.handle_timeout(now + 10);
        l.handle_open(now);
    });
    assert!(h.log.is_empty());
    assert_eq!(h.link.next_timer(), before);
}

#[test]
fn status_serializes_to_the_contract_strings() {
    let all = [
        Status::Connecting,
        Status::Connected,
        Status::Reconnecting,
        Status::Disconnected,
        Status::Polling,
        Status::Error,
    ];
    let names: Vec<&str> = all.iter().map(|s| s.as_str()).collect();
    assert_eq!(names, ["connecting", "connected", "reconnecting", "disconnected", "polling", "error"]);
}

#[test]
fn connection_options_are_read_by_the_shipped_reader_with_contract_defaults() {
    // Through `Realtime::connect`, the reader that ships (issue 11: a test through a serde derive
    // would pass a reader that swapped initialMs and maxMs). Every value differs from its default
    // and from its neighbours, so a swap fails here.
    use querywire_core::link::{LinkConfig, Transport};
    use querywire_core::Realtime;
    let mut rt =
        Realtime::new(0, &json!({ "heartbeat": { "intervalMs": 20000, "timeoutMs": 7000 }, "pollingMs": 2000 }))
            .unwrap();
    rt.connect(
        0,
        Transport::Sse,
        &json!({ "backoff": { "initialMs": 500, "maxMs": 8000, "maxAttempts": 3 }, "token": "ignored" }),
    )
    .unwrap();
    let cfg = rt.link().expect("connected").config();
    assert_eq!((cfg.backoff.initial_ms, cfg.backoff.max_ms, cfg.backoff.max_attempts), (500, 8_000, 3));
    assert_eq!(
        (cfg.heartbeat.interval_ms, cfg.heartbeat.timeout_ms),
        (20_000, 7_000),
        "createRealtime options are the base"
    );
    assert_eq!(cfg.transport, Transport::Sse);
    assert!(cfg.enabled);
    assert_eq!(cfg.polling_ms, Some(2_000));

    let mut rt = Realtime::new(0, &json!({ "backoff": { "maxMs": 10000 } })).unwrap();
    rt.connect(0, Transport::Ws, &json!({})).unwrap();
    let d = LinkConfig::default();
    let cfg = rt.link().unwrap().config();
    assert_eq!(
        (cfg.backoff.initial_ms, cfg.backoff.max_ms, cfg.backoff.max_attempts),
        (d.backoff.initial_ms, 10_000, d.backoff.max_attempts)
    );
    assert_eq!(cfg.heartbeat, d.heartbeat);
    assert_eq!((cfg.enabled, cfg.polling_ms, cfg.transport), (true, None, Transport::Ws));
    assert!(
        rt.connect(0, Transport::Ws, &json!({ "backoff": { "initialMs": -1 } })).is_err(),
        "a negative delay is refused"
    );
}
