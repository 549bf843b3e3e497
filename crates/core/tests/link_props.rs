//! Property: any sequence of inputs, at non-decreasing times, never panics, and after
//! `handle_timeout(now)` no deadline is at or before `now`; `status()` always equals the last
//! `Status` output.

use proptest::prelude::*;
use querywire_core::link::{Intent, Link, LinkConfig, LinkOutput, Priority, Status, Transport};

#[derive(Clone, Debug)]
enum Op {
    Connect,
    Disconnect,
    Open,
    Close(Option<u16>),
    Frame,
    Seq(u8, u64),
    Recovered(u8, bool),
    Channels(Vec<u8>),
    Visible(bool),
    Intent(u8, u8),
    Timeout,
    JumpToDeadline,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Connect),
        Just(Op::Disconnect),
        Just(Op::Open),
        prop::option::of(prop_oneof![Just(1000u16), Just(1006), Just(4001), Just(4003), any::<u16>()])
            .prop_map(Op::Close),
        Just(Op::Frame),
        (0u8..4, 0u64..20).prop_map(|(c, s)| Op::Seq(c, s)),
        (0u8..4, any::<bool>()).prop_map(|(c, ok)| Op::Recovered(c, ok)),
        prop::collection::vec(0u8..4, 0..4).prop_map(Op::Channels),
        any::<bool>().prop_map(Op::Visible),
        (0u8..4, 0u8..3).prop_map(|(i, p)| Op::Intent(i, p)),
        Just(Op::Timeout),
        Just(Op::JumpToDeadline),
    ]
}

fn config() -> impl Strategy<Value = LinkConfig> {
    // `max_ms` up to u64::MAX: no option value may overflow the backoff arithmetic.
    let max_ms = prop_oneof![0u64..20_000, any::<u64>(), Just(u64::MAX)];
    (any::<u64>(), any::<bool>(), any::<bool>(), 0u64..3_000, 1u32..4, prop::option::of(0u64..100_000), max_ms)
        .prop_map(|(seed, sse, enabled, initial, attempts, polling_ms, max_ms)| {
            let mut cfg = LinkConfig { seed, enabled, polling_ms, ..LinkConfig::default() };
            cfg.transport = if sse { Transport::Sse } else { Transport::Ws };
            cfg.backoff.initial_ms = initial;
            cfg.backoff.max_ms = max_ms;
            cfg.backoff.max_attempts = attempts;
            cfg.heartbeat.interval_ms = initial / 2;
            cfg.heartbeat.timeout_ms = initial / 3;
            cfg
        })
}

fn ch(c: u8) -> String {
    ["doc:t:1", "list:t:f1", "factory:f1", "doc:t:2"][c as usize % 4].to_string()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn random_inputs_never_panic_and_deadlines_stay_ahead(
        cfg in config(),
        steps in prop::collection::vec((op(), 0u64..40_000), 1..120),
    ) {
        let mut link = Link::new(cfg);
        let mut now = 1_000_000u64;
        let mut last_status = link.status();
        for (op, dt) in steps {
            now += dt;
            match op {
                Op::Connect => link.connect(now),
                Op::Disconnect => link.disconnect(now),
                Op::Open => link.handle_open(now),
                Op::Close(code) => link.handle_close(now, code),
                Op::Frame => link.handle_frame(now),
                Op::Seq(c, s) => { link.handle_seq(&ch(c), s); }
                Op::Recovered(c, ok) => link.handle_recovered(&ch(c), ok),
                Op::Channels(cs) => link.set_channels(now, cs.into_iter().map(ch)),
                Op::Visible(v) => link.set_visible(now, v),
                Op::Intent(i, p) => {
                    let intent = [Intent::AuthChange, Intent::Visible, Intent::Online, Intent::TransportError][i as usize];
                    let priority = [Priority::Low, Priority::Medium, Priority::High][p as usize];
                    link.intent(now, intent, priority)
                }
                Op::Timeout => {
                    link.handle_timeout(now);
                    if let Some(at) = link.poll_timeout() { prop_assert!(at > now, "deadline {} <= now {}", at, now); }
                }
                Op::JumpToDeadline => {
                    if let Some(at) = link.poll_timeout() { now = now.max(at); }
                    link.handle_timeout(now);
                    if let Some(at) = link.poll_timeout() { prop_assert!(at > now, "deadline {} <= now {}", at, now); }
                }
            }
            while let Some(out) = link.poll_output() {
                if let LinkOutput::Status(s) = out { last_status = s; }
                if let LinkOutput::Send(text) = out {
                    prop_assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok());
                }
            }
            prop_assert_eq!(link.status(), last_status);
            if link.status() == Status::Error || link.status() == Status::Disconnected {
                prop_assert_eq!(link.poll_timeout(), None);
            }
        }
    }
}
