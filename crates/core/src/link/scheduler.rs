//! The reconnect scheduler (seed 003's ReconnectScheduler): auth changes, page-visible, `online` and
//! transport errors arrive in bursts when a laptop wakes; each on its own would start a reconnect and
//! they would race. The scheduler coalesces them into one reconnect:
//!
//! - a 1 s trailing debounce (restarted by each new intent, but never past 5 s after the first one,
//!   so a steady trickle of intents cannot postpone the reconnect forever);
//! - a `High` priority intent skips the debounce;
//! - at least 5 s between two reconnects that intents start, except the first reconnect after a
//!   drop, which is never held back by that interval.
//!
//! It only decides *when*; the Link decides *what* a fired batch does.

use crate::sorted::SortedSet;

use super::{Intent, Millis, Priority};

/// Trailing debounce of non-high intents.
pub const DEBOUNCE_MS: Millis = 1_000;
/// A debounced batch fires at most this long after its first intent.
pub const MAX_DEBOUNCE_MS: Millis = 5_000;
/// Minimum time between two intent-started reconnects.
pub const MIN_INTERVAL_MS: Millis = 5_000;

/// Coalesces reconnect intents and says when the batch is due.
#[derive(Clone, Debug, Default)]
pub struct ReconnectScheduler {
    pending: Option<Pending>,
    last_started: Option<Millis>,
    after_drop: bool,
}

#[derive(Clone, Debug)]
struct Pending {
    first_at: Millis,
    debounce_due: Millis,
    intents: SortedSet<Intent>,
    priority: Priority,
}

/// A batch of intents whose time has come.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fired {
    /// The distinct intents of the batch, sorted.
    pub intents: Vec<Intent>,
    /// The highest priority among them.
    pub priority: Priority,
}

impl Fired {
    /// Whether `intent` is part of the batch.
    pub fn has(&self, intent: Intent) -> bool {
        self.intents.contains(&intent)
    }
}

impl ReconnectScheduler {
    /// An idle scheduler: no intent pending, no reconnect started yet.
    pub fn new() -> ReconnectScheduler {
        ReconnectScheduler::default()
    }

    /// Adds an intent to the pending batch (starting one if needed).
    pub fn post(&mut self, now: Millis, intent: Intent, priority: Priority) {
        let p = self.pending.get_or_insert(Pending {
            first_at: now,
            debounce_due: now.saturating_add(DEBOUNCE_MS),
            intents: SortedSet::new(),
            priority,
        });
        p.intents.insert(intent);
        p.priority = p.priority.max(priority);
        if p.priority == Priority::High {
            p.debounce_due = p.debounce_due.min(now);
        } else {
            let restarted = p.debounce_due.max(now.saturating_add(DEBOUNCE_MS));
            p.debounce_due = restarted.min(p.first_at.saturating_add(MAX_DEBOUNCE_MS));
        }
    }

    /// When the pending batch fires, or `None` when nothing is pending.
    pub fn due(&self) -> Option<Millis> {
        let p = self.pending.as_ref()?;
        let held_until = match (self.after_drop, self.last_started) {
            (false, Some(last)) => last.saturating_add(MIN_INTERVAL_MS),
            _ => 0,
        };
        Some(p.debounce_due.max(held_until))
    }

    /// Takes the pending batch if it is due at `now`.
    pub fn take_due(&mut self, now: Millis) -> Option<Fired> {
        if self.due()? > now {
            return None;
        }
        let p = self.pending.take()?;
        Some(Fired { intents: p.intents.into_vec(), priority: p.priority })
    }

    /// Records that a fired batch started a reconnect at `now` (the 5 s interval counts from here).
    pub fn started(&mut self, now: Millis) {
        self.last_started = Some(now);
        self.after_drop = false;
    }

    /// Records that an established connection dropped: the next reconnect is exempt from the
    /// minimum interval.
    pub fn note_drop(&mut self) {
        self.after_drop = true;
    }

    /// Forgets the pending batch (the app disconnected or a final error happened); the time of the
    /// last reconnect is kept, so a quick disconnect/connect cannot bypass the interval.
    pub fn clear_pending(&mut self) {
        self.pending = None;
        self.after_drop = false;
    }
}
