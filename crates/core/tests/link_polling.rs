//! Contract: "When realtime is disabled (`enabled: false`) or given up on, active views are polled:
//! every 5 s while visible, 15 s while hidden, with ±1 s jitter, the first poll one interval after
//! polling starts. While polling, the transport keeps trying to come back about every
//! `backoff.maxMs`; realtime returning stops the polling."

mod link_support;

use link_support::{Harness, Server};
use querywire_core::link::polling::{base_interval, poll_interval};
use querywire_core::link::rng::SplitMix64;
use querywire_core::link::{BackoffConfig, LinkConfig, LinkOutput, RecoverScope, Status};

fn disabled(seed: u64) -> Harness {
    Harness::new(LinkConfig { enabled: false, seed, ..LinkConfig::default() })
}

fn gaps(times: &[u64]) -> Vec<u64> {
    times.windows(2).map(|w| w[1] - w[0]).collect()
}

#[test]
fn disabled_polls_every_5s_visible_with_1s_jitter_and_never_connects() {
    for seed in 0..100 {
        let mut h = disabled(seed);
        h.act(|l, now| l.connect(now));
        assert_eq!(h.statuses(), [Status::Polling]);
        h.advance_to(120_000);
        let polls = h.polls();
        assert!((4_000..=6_000).contains(&polls[0]), "first poll one interval in: {}", polls[0]);
        for g in gaps(&polls) {
            assert!((4_000..=6_000).contains(&g), "seed {seed}: gap {g}");
        }
        assert!(h.connects().is_empty(), "the kill switch never opens a transport");
    }
}

#[test]
fn hidden_polls_every_15s_with_1s_jitter() {
    for seed in 0..100 {
        let mut h = disabled(seed);
        h.act(|l, now| l.set_visible(now, false));
        h.act(|l, now| l.connect(now));
        h.advance_to(300_000);
        let polls = h.polls();
        assert!((14_000..=16_000).contains(&polls[0]));
        for g in gaps(&polls) {
            assert!((14_000..=16_000).contains(&g), "seed {seed}: gap {g}");
        }
    }
}

#[test]
fn jitter_covers_the_whole_plus_minus_one_second() {
    let cfg = LinkConfig::default();
    let samples: Vec<u64> = (0..5_000).map(|s| poll_interval(&cfg, true, &mut SplitMix64::new(s))).collect();
    assert!(samples.iter().all(|d| (4_000..=6_000).contains(d)));
    assert!(*samples.iter().min().unwrap() < 4_050);
    assert!(*samples.iter().max().unwrap() > 5_950);
}

#[test]
fn polling_ms_overrides_the_visible_interval_within_clamps() {
    let with = |ms| LinkConfig { polling_ms: Some(ms), ..LinkConfig::default() };
    assert_eq!(base_interval(&with(2_000), true), 2_000);
    assert_eq!(base_interval(&with(2_000), false), 15_000, "hidden never faster than 15 s");
    assert_eq!(base_interval(&with(10), true), 1_000);
    assert_eq!(base_interval(&with(3_600_000), true), 60_000);
    assert_eq!(base_interval(&with(3_600_000), false), 60_000);
    for s in 0..1_000 {
        assert!(poll_interval(&with(10), true, &mut SplitMix64::new(s)) >= 1_000);
    }
}

#[test]
fn becoming_visible_brings_a_hidden_poll_forward() {
    let mut h = disabled(4);
    h.act(|l, now| l.set_visible(now, false));
    h.act(|l, now| l.connect(now));
    h.advance_to(1_000);
    h.act(|l, now| l.set_visible(now, true));
    let next = h.link.poll_timeout().unwrap();
    assert!((5_000..=7_000).contains(&next), "{next}");
}

#[test]
fn given_up_polls_and_retries_about_every_max_ms_then_realtime_return_stops_polling() {
    let mut h = Harness::new(LinkConfig {
        backoff: BackoffConfig { max_attempts: 2, ..BackoffConfig::default() },
        seed: 9,
        ..LinkConfig::default()
    });
    h.act(|l, now| l.set_channels(now, ["doc:t:1".to_string()]));
    h.server = Server::Down;
    h.act(|l, now| l.connect(now));
    h.advance_to(5_000);
    assert_eq!(h.link.status(), Status::Polling);
    h.advance_to(100_000);
    assert!(h.polls().len() >= 15);
    let retries = h.connects();
    assert!(retries.len() >= 4);
    for g in gaps(&retries[1..]) {
        assert!((9_000..=10_000).contains(&g), "{g}");
    }

    h.server = Server::Up;
    h.take_log();
    h.advance_to(200_000);
    let back = h.connects()[0];
    let log: Vec<&LinkOutput> = h.log.iter().map(|(_, o)| o).collect();
    assert_eq!(h.statuses(), [Status::Connected]);
    assert!(log.contains(&&LinkOutput::Recover(RecoverScope::All)), "{log:?}");
    assert!(h.polls().iter().all(|&t| t <= back), "no poll after realtime returned");
    assert_eq!(h.recovers().len(), 1);
}

#[test]
fn online_while_given_up_tries_the_transport_now() {
    let mut h = Harness::new(LinkConfig {
        backoff: BackoffConfig { max_attempts: 1, ..BackoffConfig::default() },
        ..LinkConfig::default()
    });
    h.server = Server::Down;
    h.act(|l, now| l.connect(now));
    assert_eq!(h.link.status(), Status::Polling);
    h.advance_to(7_000);
    h.server = Server::Up;
    h.act(|l, now| l.intent(now, querywire_core::link::Intent::Online, querywire_core::link::Priority::High));
    assert_eq!(h.link.status(), Status::Connected);
}
