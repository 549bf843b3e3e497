//! Polling for "dead mode" (seed 003/004's resurrection polling): 5 s visible, 15 s hidden, ±1 s
//! jitter so many tabs do not refetch in step, clamped so an override cannot stall refreshes.
//!
//! [`Poller`] is the one schedule of polling ticks, and [`polls_while`] the one rule of when it
//! runs: whenever realtime is wanted but not delivering (`connecting`, `reconnecting`) or off
//! (`polling`: disabled or given up). The [`Link`](super::Link) drives one for its own transport,
//! and `Realtime` one for the JS-held connectors (supabase-js, centrifuge-js) from the status they
//! report, so both follow the same rules:
//!
//! - the first poll comes one interval (5 s ± 1 s visible, 15 s ± 1 s hidden) after the status
//!   left `connected`: a drop shorter than 4 s costs no poll;
//! - then one poll per interval; a change between `connecting`/`reconnecting`/`polling` (giving
//!   up) keeps the cadence;
//! - `connected` (or `disconnected`, `error`) stops it; the recovery refetch of the return is the
//!   next refresh, so it replaces the next poll instead of adding to it.

use super::config::LinkConfig;
use super::rng::SplitMix64;
use super::{Millis, Status};

/// Default interval while the page is visible.
pub const VISIBLE_MS: Millis = 5_000;
/// Shortest interval while the page is hidden (a hidden tab needs fresh data less).
pub const HIDDEN_MS: Millis = 15_000;
/// Jitter added to every interval, uniform in `-JITTER_MS..=JITTER_MS`.
pub const JITTER_MS: Millis = 1_000;
/// Bounds of a `pollingMs` override: faster would hammer the API, slower would leave views stale.
pub const MIN_MS: Millis = 1_000;
/// See [`MIN_MS`].
pub const MAX_MS: Millis = 60_000;

/// Mixed into the seed so the polling ticks draw from their own stream: a change in how many
/// backoff delays were drawn never moves a poll (and a trace replays both exactly).
const STREAM: u64 = 0xA076_1D64_78BD_642F;

/// The interval without jitter: the (clamped) visible base, or at least [`HIDDEN_MS`] when hidden.
pub fn base_interval(cfg: &LinkConfig, visible: bool) -> Millis {
    base(cfg.polling_ms, visible)
}

/// The time to the next poll: [`base_interval`] ± [`JITTER_MS`], never under [`MIN_MS`].
pub fn poll_interval(cfg: &LinkConfig, visible: bool, rng: &mut SplitMix64) -> Millis {
    interval(cfg.polling_ms, visible, rng)
}

fn base(polling_ms: Option<u64>, visible: bool) -> Millis {
    let visible_ms = polling_ms.unwrap_or(VISIBLE_MS).clamp(MIN_MS, MAX_MS);
    if visible {
        visible_ms
    } else {
        visible_ms.max(HIDDEN_MS)
    }
}

fn interval(polling_ms: Option<u64>, visible: bool, rng: &mut SplitMix64) -> Millis {
    let b = base(polling_ms, visible);
    let jittered = b.saturating_add(rng.below_inclusive(2 * JITTER_MS)).saturating_sub(JITTER_MS);
    jittered.max(MIN_MS)
}

/// Whether active views are polled while the connection reports `status`: realtime is wanted but
/// not delivering (`connecting`, `reconnecting`), or off (`polling`).
pub fn polls_while(status: Status) -> bool {
    matches!(status, Status::Connecting | Status::Reconnecting | Status::Polling)
}

/// One polling schedule (sans-IO: the owner arms its timer at [`Poller::next`] and calls
/// [`Poller::fire`] when it is due).
#[derive(Clone, Debug)]
pub struct Poller {
    polling_ms: Option<u64>,
    rng: SplitMix64,
    next: Option<Millis>,
}

impl Poller {
    /// A stopped poller; `polling_ms` overrides the visible interval (clamped to 1 s..60 s), `seed`
    /// seeds its jitter.
    pub fn new(polling_ms: Option<u64>, seed: u64) -> Poller {
        Poller { polling_ms, rng: SplitMix64::new(seed.rotate_left(32) ^ STREAM), next: None }
    }

    /// Whether polls are scheduled.
    pub fn is_running(&self) -> bool {
        self.next.is_some()
    }

    /// When the next poll is due, or `None` when stopped.
    pub fn next(&self) -> Option<Millis> {
        self.next
    }

    /// Starts polling: the first poll one interval from `now`. Already running, it keeps its
    /// cadence (giving up after a reconnecting spell continues the same polls).
    pub fn start(&mut self, now: Millis, visible: bool) {
        if self.next.is_none() {
            self.next = Some(now.saturating_add(interval(self.polling_ms, visible, &mut self.rng)));
        }
    }

    /// Stops polling.
    pub fn stop(&mut self) {
        self.next = None;
    }

    /// Starts or stops as [`polls_while`] says for the connection's `status`.
    pub fn follow(&mut self, now: Millis, status: Status, visible: bool) {
        if polls_while(status) {
            self.start(now, visible);
        } else {
            self.stop();
        }
    }

    /// Page visibility changed: becoming visible brings the next poll forward to at most one
    /// visible interval away (a hidden tab's 15 s wait is not kept once someone looks). Becoming
    /// hidden keeps the poll already scheduled; the ones after it use the hidden interval.
    pub fn set_visible(&mut self, now: Millis, visible: bool) {
        if let (Some(at), true) = (self.next, visible) {
            let soon = now.saturating_add(interval(self.polling_ms, true, &mut self.rng));
            self.next = Some(at.min(soon));
        }
    }

    /// Whether a poll is due at `now`; when it is, the following one is scheduled one interval
    /// later. Early or repeated calls return false.
    pub fn fire(&mut self, now: Millis, visible: bool) -> bool {
        match self.next {
            Some(at) if at <= now => {
                self.next = Some(now.saturating_add(interval(self.polling_ms, visible, &mut self.rng)));
                true
            }
            _ => false,
        }
    }
}
