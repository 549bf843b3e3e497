//! Contract: "heartbeat: { intervalMs: 30000, timeoutMs: 10000 } (no answer in time = reconnect)";
//! SSE: "45 s without a message means reconnect"; a tab shown after sleeping notices a dead socket
//! at once (realtime-js#121, #133).

mod link_support;

use link_support::Harness;
use querywire_core::link::{LinkOutput, Status, Timer};
use serde_json::json;

#[test]
fn pings_every_interval_with_increasing_refs() {
    let mut h = Harness::ws(1);
    h.connected_with(&["doc:t:1"]);
    h.advance_to(95_000);
    assert_eq!(h.times_of(|o| matches!(o, LinkOutput::Send(_))), [30_000, 60_000, 90_000]);
    assert_eq!(
        h.sent(),
        [json!({"type":"ping","ref":1}), json!({"type":"ping","ref":2}), json!({"type":"ping","ref":3})]
    );
    assert!(h.connects().is_empty(), "answered pings keep the connection");
}

#[test]
fn no_frame_within_timeout_of_a_ping_reconnects() {
    let mut h = Harness::ws(1);
    h.connected_with(&["doc:t:1"]);
    h.answer_pings = false;
    h.advance_to(39_999);
    assert!(h.times_of(|o| *o == LinkOutput::Close).is_empty());
    h.advance_to(40_000);
    assert_eq!(h.times_of(|o| *o == LinkOutput::Close), [40_000]);
    assert_eq!(h.link.status(), Status::Reconnecting);
    h.advance_to(45_000);
    assert_eq!(h.connects(), [41_000], "reconnects after the 1 s debounce");
    assert_eq!(h.link.status(), Status::Connected);
}

#[test]
fn any_frame_counts_as_an_answer() {
    let mut h = Harness::ws(1);
    h.connected_with(&["doc:t:1"]);
    h.answer_pings = false;
    h.advance_to(35_000);
    h.act(|l, now| l.handle_frame(now)); // an event frame, not a pong
    h.advance_to(59_000);
    assert!(h.connects().is_empty());
}

#[test]
fn sse_sends_no_pings_and_reconnects_after_45_seconds_of_silence() {
    let mut h = Harness::sse(1);
    h.connected_with(&["doc:t:1"]);
    h.advance_to(30_000);
    h.act(|l, now| l.handle_frame(now));
    h.advance_to(74_999);
    assert!(h.log.is_empty(), "no ping frames over SSE, and 44.999 s of silence is fine");
    h.advance_to(75_000);
    assert_eq!(h.times_of(|o| *o == LinkOutput::Close), [75_000]);
    h.advance_to(80_000);
    assert_eq!(h.connects(), [76_000]);
    assert!(h.sent().is_empty());
}

#[test]
fn visible_after_sleep_with_a_dead_socket_reconnects_at_once() {
    let mut h = Harness::ws(1);
    h.connected_with(&["doc:t:1"]);
    h.act(|l, now| l.set_visible(now, false));
    // The tab sleeps: its timers never fire. Five minutes later it is shown.
    h.now = 300_000;
    h.act(|l, now| l.set_visible(now, true));
    assert_eq!(h.times_of(|o| *o == LinkOutput::Close), [300_000]);
    assert_eq!(h.connects(), [300_000], "high priority: no debounce");
    assert_eq!(h.link.status(), Status::Connected);
    // The stale timers of the old socket are gone.
    h.take_log();
    h.act(|l, now| l.handle_timeout(now));
    assert!(h.log.is_empty());
}

#[test]
fn visible_with_a_quiet_socket_probes_and_a_live_one_stays() {
    let mut h = Harness::ws(1);
    h.connected_with(&["doc:t:1"]);
    h.act(|l, now| l.set_visible(now, false));
    h.now = 15_000; // quiet for 15 s (> timeoutMs), not yet stale
    h.act(|l, now| l.set_visible(now, true));
    assert_eq!(h.sent(), [json!({"type":"ping","ref":1})]);
    assert!(h.connects().is_empty());
    h.take_log();
    h.act(|l, now| l.set_visible(now, false));
    h.now = 16_000;
    h.act(|l, now| l.set_visible(now, true));
    assert!(h.log.is_empty(), "a socket heard from 1 s ago is left alone");
}

#[test]
fn the_ping_deadline_is_a_named_timer() {
    let mut h = Harness::ws(1);
    h.connected_with(&["a"]);
    assert_eq!(h.link.next_timer(), Some((30_000, Timer::Ping)));
}
