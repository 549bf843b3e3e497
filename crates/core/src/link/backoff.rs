//! Retry delays: exponential backoff with full jitter, and the slow retry while polling.
//!
//! Full jitter (a uniform delay in `0..=cap`) spreads a crowd of clients that lost the same server
//! at the same instant, so the restarted server is not hit by all of them at once.

use super::config::BackoffConfig;
use super::rng::SplitMix64;
use super::Millis;

/// The cap of the delay after the `failures`-th consecutive failed attempt (1-based):
/// `initial_ms * 2^(failures-1)`, at most `max_ms`. `failures == 0` is treated as 1. Saturating:
/// any option value and attempt count is safe.
pub fn backoff_cap(cfg: &BackoffConfig, failures: u32) -> Millis {
    let doublings = failures.saturating_sub(1).min(63);
    cfg.initial_ms.saturating_mul(1u64 << doublings).min(cfg.max_ms.max(cfg.initial_ms))
}

/// The delay before the retry that follows the `failures`-th failed attempt: uniform in
/// `0..=backoff_cap(cfg, failures)` ("full jitter").
pub fn retry_delay(cfg: &BackoffConfig, failures: u32, rng: &mut SplitMix64) -> Millis {
    rng.below_inclusive(backoff_cap(cfg, failures))
}

/// While polling after giving up, the transport is retried "about every `max_ms`": uniform in
/// `0.9 * max_ms ..= max_ms`, so polling tabs do not come back in lockstep either, and a server that
/// is back is tried within `max_ms` (as in backoff, the cap is never exceeded). Any `max_ms` works:
/// nothing here can overflow.
pub fn polling_retry_delay(cfg: &BackoffConfig, rng: &mut SplitMix64) -> Millis {
    let spread = cfg.max_ms / 10;
    rng.between(cfg.max_ms.saturating_sub(spread), cfg.max_ms).max(1)
}
