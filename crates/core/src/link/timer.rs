//! The Link's timers: a small enum and a table of deadlines, as in quinn-proto. `poll_timeout` is
//! the earliest; every deadline carries its reason so a trace says why the machine woke up.

use super::Millis;

/// Why the Link wants to wake up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timer {
    /// The reconnect scheduler's pending batch is due.
    Reconnect,
    /// Backoff (or the slow polling retry) has elapsed: try the transport again.
    Retry,
    /// A connect attempt neither opened nor failed in time.
    ConnectTimeout,
    /// Time to send a WebSocket ping.
    Ping,
    /// No frame arrived within `heartbeat.timeout_ms` of a ping.
    PongDeadline,
    /// SSE: no message for 45 s.
    SseIdle,
    /// The server did not answer a `since` resubscribe with `recovered` in time.
    RecoveryDeadline,
    /// Polling tick.
    Poll,
}

const ALL: [Timer; 8] = [
    Timer::Reconnect,
    Timer::Retry,
    Timer::ConnectTimeout,
    Timer::Ping,
    Timer::PongDeadline,
    Timer::SseIdle,
    Timer::RecoveryDeadline,
    Timer::Poll,
];

/// One optional deadline per [`Timer`].
#[derive(Clone, Debug, Default)]
pub(crate) struct Timers {
    at: [Option<Millis>; 8],
}

impl Timers {
    pub(crate) fn set(&mut self, timer: Timer, at: Millis) {
        self.at[timer as usize] = Some(at);
    }

    pub(crate) fn set_opt(&mut self, timer: Timer, at: Option<Millis>) {
        self.at[timer as usize] = at;
    }

    pub(crate) fn clear(&mut self, timer: Timer) {
        self.at[timer as usize] = None;
    }

    pub(crate) fn get(&self, timer: Timer) -> Option<Millis> {
        self.at[timer as usize]
    }

    pub(crate) fn clear_all(&mut self) {
        self.at = [None; 8];
    }

    /// The earliest deadline and its reason; ties go to the timer listed first in [`Timer`].
    pub(crate) fn earliest(&self) -> Option<(Millis, Timer)> {
        ALL.iter().filter_map(|&t| self.get(t).map(|at| (at, t))).min()
    }
}
