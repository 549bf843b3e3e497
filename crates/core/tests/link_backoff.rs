//! Contract: "backoff: { initialMs: 1000, maxMs: 10000, maxAttempts: 10 } (exponential with full
//! jitter, then polling)".

mod link_support;

use link_support::{Harness, Server};
use querywire_core::link::backoff::{backoff_cap, polling_retry_delay, retry_delay};
use querywire_core::link::rng::SplitMix64;
use querywire_core::link::{BackoffConfig, LinkConfig, LinkOutput, Status};

#[test]
fn backoff_cap_doubles_from_initial_to_max() {
    let cfg = BackoffConfig::default();
    let caps: Vec<u64> = (1..=8).map(|n| backoff_cap(&cfg, n)).collect();
    assert_eq!(caps, [1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000, 10_000]);
    assert_eq!(backoff_cap(&cfg, u32::MAX), 10_000, "no overflow on huge attempt counts");
}

#[test]
fn full_jitter_stays_within_zero_and_cap_and_spreads_over_it() {
    let cfg = BackoffConfig::default();
    for failures in 1..=10 {
        let cap = backoff_cap(&cfg, failures);
        let (mut lo, mut hi) = (u64::MAX, 0);
        for seed in 0..2_000 {
            let d = retry_delay(&cfg, failures, &mut SplitMix64::new(seed));
            assert!(d <= cap, "delay {d} over cap {cap}");
            lo = lo.min(d);
            hi = hi.max(d);
        }
        assert!(lo < cap / 20, "full jitter reaches near 0 (got min {lo} for cap {cap})");
        assert!(hi > cap - cap / 20, "full jitter reaches near the cap (got max {hi} for cap {cap})");
    }
}

#[test]
fn polling_retry_is_about_max_ms_and_never_over_it() {
    let cfg = BackoffConfig::default();
    for seed in 0..2_000 {
        let d = polling_retry_delay(&cfg, &mut SplitMix64::new(seed));
        assert!((9_000..=10_000).contains(&d), "{d}");
    }
}

#[test]
fn failed_attempts_retry_within_backoff_then_poll_after_max_attempts() {
    for seed in 0..200 {
        let mut h = Harness::ws(seed);
        h.server = Server::Down;
        h.act(|l, now| l.connect(now));
        h.advance_to(10 * 60_000);
        let connects = h.connects();
        // 10 attempts fail (1 + 9 retries), then polling retries about every 10 s.
        let cfg = BackoffConfig::default();
        for (i, pair) in connects.windows(2).take(9).enumerate() {
            let gap = pair[1] - pair[0];
            assert!(gap <= backoff_cap(&cfg, i as u32 + 1), "seed {seed}: retry {i} after {gap} ms");
        }
        let gave_up_at = connects[9];
        assert_eq!(h.link.status(), Status::Polling);
        assert_eq!(
            h.statuses(),
            [Status::Connecting, Status::Polling],
            "seed {seed}: connecting during the first attempts, then polling"
        );
        for pair in connects[9..].windows(2) {
            let gap = pair[1] - pair[0];
            assert!((9_000..=10_000).contains(&gap), "seed {seed}: polling retry after {gap} ms");
        }
        // The views were polled all along (from one interval after `connect`), not only once
        // the Link gave up.
        let polls = h.polls();
        assert!((4_000..=6_000).contains(&polls[0]), "seed {seed}: first poll {}", polls[0]);
        assert!(polls.iter().any(|&p| p < gave_up_at), "seed {seed}: polled while connecting");
    }
}

#[test]
fn max_attempts_is_configurable() {
    let mut h = Harness::new(LinkConfig {
        backoff: BackoffConfig { max_attempts: 3, ..BackoffConfig::default() },
        ..LinkConfig::default()
    });
    h.server = Server::Down;
    h.act(|l, now| l.connect(now));
    // Three attempts within 1 + 2 s of backoff, then polling (whose first retry is 9-10 s later).
    h.advance_to(8_000);
    assert_eq!(h.connects().len(), 3);
    assert_eq!(h.link.status(), Status::Polling);
}

#[test]
fn same_seed_replays_the_same_retry_times() {
    let run = |seed| {
        let mut h = Harness::ws(seed);
        h.server = Server::Down;
        h.act(|l, now| l.connect(now));
        h.advance_to(300_000);
        h.connects()
    };
    assert_eq!(run(7), run(7));
    assert_ne!(run(7), run(8));
}

#[test]
fn a_hung_attempt_times_out_and_counts_as_failed() {
    let mut h = Harness::ws(1);
    h.server = Server::Silent;
    h.act(|l, now| l.connect(now));
    h.advance_to(30_000);
    assert_eq!(h.log.iter().filter(|(_, o)| *o == LinkOutput::Close).count(), 1);
    assert_eq!(h.link.failures(), 1);
}

#[test]
fn a_connection_that_drops_right_after_opening_backs_off() {
    // A server that accepts and kicks must not be hammered every second.
    let mut h = Harness::ws(3);
    h.connected_with(&["a"]);
    for _ in 0..9 {
        h.advance_by(500);
        h.act(|l, now| l.handle_close(now, Some(1011)));
        assert!(h.link.next_timer().is_some(), "a retry is scheduled");
        // Views are polled meanwhile; run the timers until the retry has reopened.
        while h.link.status() != Status::Connected {
            let t = h.link.poll_timeout().expect("a retry is scheduled");
            h.advance_to(t);
        }
    }
    h.advance_by(500);
    h.act(|l, now| l.handle_close(now, Some(1011)));
    assert_eq!(h.link.status(), Status::Polling);
}
