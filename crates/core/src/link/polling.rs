//! Polling intervals for "dead mode" (seed 004's resurrection polling): 5 s visible, 15 s hidden,
//! ±1 s jitter so many tabs do not refetch in step, clamped so an override cannot stall refreshes.

use super::config::LinkConfig;
use super::rng::SplitMix64;
use super::Millis;

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

/// The interval without jitter: the (clamped) visible base, or at least [`HIDDEN_MS`] when hidden.
pub fn base_interval(cfg: &LinkConfig, visible: bool) -> Millis {
    let visible_ms = cfg.polling_ms.unwrap_or(VISIBLE_MS).clamp(MIN_MS, MAX_MS);
    if visible {
        visible_ms
    } else {
        visible_ms.max(HIDDEN_MS)
    }
}

/// The time to the next poll: [`base_interval`] ± [`JITTER_MS`], never under [`MIN_MS`].
pub fn poll_interval(cfg: &LinkConfig, visible: bool, rng: &mut SplitMix64) -> Millis {
    let base = base_interval(cfg, visible);
    let jittered = (base + rng.below_inclusive(2 * JITTER_MS)).saturating_sub(JITTER_MS);
    jittered.max(MIN_MS)
}
