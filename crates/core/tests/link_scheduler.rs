//! Contract: "Reconnect intents (auth change, page visible, `online`, transport error) are
//! coalesced: 1 s debounce, at least 5 s between two reconnects that intents start, a high-priority
//! intent skips the debounce. The first reconnect after a drop is not held back by the 5 s."

mod link_support;

use link_support::Harness;
use querywire_core::link::scheduler::{ReconnectScheduler, DEBOUNCE_MS, MIN_INTERVAL_MS};
use querywire_core::link::{Intent, LinkOutput, Priority, Status};

#[test]
fn intents_are_debounced_by_one_second_and_the_debounce_restarts() {
    let mut s = ReconnectScheduler::new();
    s.post(0, Intent::Online, Priority::Medium);
    assert_eq!(s.due(), Some(DEBOUNCE_MS));
    s.post(600, Intent::AuthChange, Priority::Low);
    assert_eq!(s.due(), Some(1_600));
    assert!(s.take_due(1_599).is_none());
    let fired = s.take_due(1_600).expect("due");
    assert_eq!(fired.intents, [Intent::AuthChange, Intent::Online]);
    assert_eq!(fired.priority, Priority::Medium);
    assert_eq!(s.due(), None);
}

#[test]
fn a_trickle_of_intents_cannot_postpone_the_reconnect_past_five_seconds() {
    let mut s = ReconnectScheduler::new();
    for t in (0..20_000).step_by(900) {
        s.post(t, Intent::Online, Priority::Low);
        assert!(s.due().unwrap() <= 5_000, "due {:?} after posting at {t}", s.due());
        if s.take_due(t).is_some() {
            return;
        }
    }
}

#[test]
fn high_priority_skips_the_debounce() {
    let mut s = ReconnectScheduler::new();
    s.post(0, Intent::Online, Priority::Medium);
    s.post(300, Intent::Visible, Priority::High);
    assert_eq!(s.due(), Some(300));
    // A later medium intent does not push a high batch back.
    s.post(400, Intent::Online, Priority::Medium);
    assert_eq!(s.due(), Some(300));
}

#[test]
fn intent_started_reconnects_are_at_least_five_seconds_apart() {
    let mut s = ReconnectScheduler::new();
    s.post(0, Intent::Visible, Priority::High);
    assert!(s.take_due(0).is_some());
    s.started(0);
    s.post(1_000, Intent::Visible, Priority::High);
    assert_eq!(s.due(), Some(MIN_INTERVAL_MS));
}

#[test]
fn the_first_reconnect_after_a_drop_is_not_held_back() {
    let mut s = ReconnectScheduler::new();
    s.post(0, Intent::AuthChange, Priority::High);
    s.take_due(0);
    s.started(0);
    s.note_drop();
    s.post(1_000, Intent::TransportError, Priority::Medium);
    assert_eq!(s.due(), Some(2_000), "debounced, but not held until 5 000");
    s.take_due(2_000);
    s.started(2_000);
    s.post(2_500, Intent::Online, Priority::High);
    assert_eq!(s.due(), Some(7_000), "the exemption is used up");
}

#[test]
fn a_burst_of_intents_makes_one_reconnect() {
    let mut h = Harness::ws(1);
    h.connected_with(&["doc:t:1"]);
    h.advance_to(60_000);
    h.take_log();
    h.act(|l, now| l.intent(now, Intent::AuthChange, Priority::Medium));
    h.advance_by(200);
    h.act(|l, now| l.intent(now, Intent::Online, Priority::Medium));
    h.act(|l, now| l.intent(now, Intent::TransportError, Priority::Low));
    h.advance_by(5_000);
    assert_eq!(h.connects(), [61_200], "one reconnect, 1 s after the last intent");
    assert_eq!(h.times_of(|o| *o == LinkOutput::Close), [61_200]);
    assert_eq!(h.statuses(), [Status::Reconnecting, Status::Connected]);
}

#[test]
fn a_second_auth_change_waits_for_the_five_second_interval() {
    let mut h = Harness::ws(1);
    h.connected_with(&["doc:t:1"]);
    h.advance_to(60_000);
    h.act(|l, now| l.intent(now, Intent::AuthChange, Priority::High));
    h.advance_by(1_000);
    h.act(|l, now| l.intent(now, Intent::AuthChange, Priority::High));
    h.advance_by(10_000);
    assert_eq!(h.connects(), [60_000, 65_000]);
}

#[test]
fn online_or_visible_with_a_healthy_socket_only_probes() {
    let mut h = Harness::ws(1);
    h.connected_with(&["doc:t:1"]);
    h.advance_to(5_000);
    h.act(|l, now| l.intent(now, Intent::Online, Priority::High));
    h.advance_by(2_000);
    assert!(h.connects().is_empty());
    assert_eq!(h.sent(), [serde_json::json!({ "type": "ping", "ref": 1 })]);
}

#[test]
fn online_while_waiting_for_a_backoff_retry_tries_at_once() {
    let mut h = Harness::ws(5);
    h.server = link_support::Server::Down;
    h.act(|l, now| l.connect(now));
    for _ in 0..5 {
        let t = h.link.poll_timeout().unwrap();
        h.advance_to(t);
    }
    let before = h.connects().len();
    h.server = link_support::Server::Up;
    h.act(|l, now| l.intent(now, Intent::Online, Priority::High));
    assert_eq!(h.connects().len(), before + 1);
    assert_eq!(h.link.status(), Status::Connected);
}

#[test]
fn a_drop_reconnects_after_the_debounce_even_right_after_an_intent_reconnect() {
    let mut h = Harness::ws(2);
    h.connected_with(&["doc:t:1"]);
    h.advance_to(60_000);
    h.act(|l, now| l.intent(now, Intent::AuthChange, Priority::High));
    h.advance_to(62_000);
    h.act(|l, now| l.handle_close(now, Some(1006)));
    assert_eq!(h.link.status(), Status::Reconnecting);
    h.advance_to(70_000);
    let connects = h.connects();
    assert_eq!(connects.len(), 2);
    assert!(connects[1] <= 63_000, "not held until 65 000: {connects:?}");
}

#[test]
fn a_long_lived_connection_that_drops_reconnects_one_second_later() {
    let mut h = Harness::ws(2);
    h.connected_with(&["doc:t:1"]);
    h.advance_to(100_000);
    h.act(|l, now| l.handle_close(now, Some(1001)));
    assert_eq!(h.statuses(), [Status::Reconnecting]);
    h.advance_to(200_000);
    assert_eq!(h.connects(), [101_000]);
    assert_eq!(h.link.status(), Status::Connected);
}

#[test]
fn intents_are_ignored_when_disconnected_or_disabled() {
    let mut h = Harness::ws(1);
    h.act(|l, now| l.intent(now, Intent::AuthChange, Priority::High));
    h.advance_to(10_000);
    assert!(h.log.is_empty());
    assert_eq!(h.link.poll_timeout(), None);
}
