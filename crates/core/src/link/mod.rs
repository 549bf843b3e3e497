//! The connection policy: when to connect, reconnect, ping, give up, poll and recover.
//!
//! A [`Link`] is a sans-IO state machine in the style of quinn-proto: it never reads a clock, opens
//! a socket or sleeps. The glue (WebSocket / EventSource over web-sys) feeds it inputs stamped with
//! `now` ([`Millis`], JS `Date.now()`), and carries out the [`LinkOutput`]s it asks for. Every policy
//! number of the contract ("Views, connections and recovery", "Wire protocol") lives here, so it is
//! tested natively with a fake clock.
//!
//! Method kinds, as in quinn-proto:
//! - getters: [`Link::status`], [`Link::channels`], [`Link::since`], [`Link::next_timer`];
//! - app commands: [`Link::connect`], [`Link::disconnect`], [`Link::set_channels`],
//!   [`Link::set_visible`], [`Link::intent`];
//! - transport inputs: [`Link::handle_open`], [`Link::handle_close`], [`Link::handle_frame`],
//!   [`Link::handle_seq`], [`Link::handle_recovered`], and [`Link::handle_timeout`];
//! - outputs: [`Link::poll_output`], [`Link::poll_timeout`].
//!
//! # The run loop (what the glue does)
//!
//! ```text
//! on every input (app call, socket event, visibility change, the one timer firing):
//!     now = Date.now()
//!     link.<input>(now, ...)            // handle_timeout(now) when the timer fired
//!     while let Some(out) = link.poll_output():
//!         Connect        -> fetch a fresh token, open a new socket / EventSource
//!                           (SSE: url?channels=link.channels()); on open send {type:'auth'} first,
//!                           then link.handle_open(now)
//!         Close          -> detach the socket's listeners, then close it; its close event must NOT
//!                           be reported (the Link already counts that transport as gone)
//!         Send(text)     -> socket.send(text)
//!         Status(s)      -> remember it, call onStatus listeners
//!         Recover(All)   -> refetch views.active_keys()
//!         Recover(Channels(cs)) -> refetch the union of views.keys_for_channel(c)
//!         Poll           -> refetch views.active_keys()
//!         Error{code,..} -> onError({ code, message })
//!     re-arm the single timer at link.poll_timeout() (cancel it on None)
//!
//! socket message: link.handle_frame(now) for every frame (any frame is proof of life); then for
//!     a frame with channel+seq: link.handle_seq(channel, seq); for {type:'recovered'}:
//!     link.handle_recovered(channel, ok); then hand the payload to the engine.
//! socket close/error: link.handle_close(now, Some(code)) (None when there is no code).
//! views changed: diff = views.poll_channels(); link.set_channels(now, views.channels()).
//! visibilitychange: link.set_visible(now, visible); window 'online': link.intent(now, Online, Medium).
//! auth token refreshed: link.intent(now, AuthChange, Medium).
//! ```
//!
//! After every input, drain [`Link::poll_output`] before re-reading [`Link::poll_timeout`]. A late
//! or spurious `handle_timeout` is harmless: it only acts on deadlines that have passed.
//!
//! # Fail-fast policy
//!
//! No input panics. Inputs that do not fit the current state (an open without a pending connect, a
//! seq on a channel nobody subscribed, a timer that was cancelled) are ignored, because the browser
//! delivers events late and out of order. Out-of-range configuration is clamped by
//! [`LinkConfig::normalized`].

pub mod backoff;
mod config;
mod connection;
pub mod polling;
pub mod rng;
pub mod scheduler;
mod seq;
mod timer;

pub use config::{BackoffConfig, HeartbeatConfig, LinkConfig, Transport};
pub use connection::{auth_frame, Link, CONNECT_TIMEOUT_MS, SSE_IDLE_MS, STABLE_AFTER_MS};
pub use seq::SeqCheck;
pub use timer::Timer;

/// Time in milliseconds on the caller's clock (the crate-wide [`crate::Millis`], re-exported so the
/// link module reads on its own).
pub use crate::Millis;

/// The connection status reported to `rt.status()` / `rt.onStatus`, as the contract's strings
/// ([`Status::as_str`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Trying to establish the first connection since `connect`.
    Connecting,
    /// A transport is open.
    Connected,
    /// An established connection dropped (or is being replaced) and a new one is being made; after
    /// 5 s ± 1 s active views are polled meanwhile.
    Reconnecting,
    /// Before `connect` and after `disconnect`.
    Disconnected,
    /// Realtime is disabled or was given up on; active views are polled.
    Polling,
    /// A final close (4001/4003); stays until the app calls `connect` or `disconnect`.
    Error,
}

impl Status {
    /// The contract's string for this status.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Connecting => "connecting",
            Status::Connected => "connected",
            Status::Reconnecting => "reconnecting",
            Status::Disconnected => "disconnected",
            Status::Polling => "polling",
            Status::Error => "error",
        }
    }
}

/// Why something asks for a reconnect; several sources fire at once when a laptop wakes, and the
/// scheduler coalesces them into one reconnect (seed 003's ReconnectScheduler).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Intent {
    /// The token changed: the connection must be remade so it carries the new one.
    AuthChange,
    /// The page became visible: a sleeping tab may hold a dead socket.
    Visible,
    /// The browser went `online`: a retry can succeed now rather than after the backoff.
    Online,
    /// The transport reported an error or dropped.
    TransportError,
}

/// How urgently an intent wants its reconnect: `High` skips the 1 s debounce (never the 5 s minimum
/// interval). `Medium` and `Low` are both debounced; the highest priority of a batch is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// Debounced.
    Low,
    /// Debounced.
    Medium,
    /// Skips the debounce.
    High,
}

/// Which views a recovery refetches: the glue maps channels to query keys with
/// `Views::keys_for_channel`, and `All` to `Views::active_keys`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecoverScope {
    /// Every channel of the link needs it (the same as listing them all).
    All,
    /// Only these channels' views (sorted, distinct).
    Channels(Vec<String>),
}

/// Why a connection ended for good; the glue turns it into `onError({ code })`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkErrorCode {
    /// Close code 4001: the server rejected the credentials.
    Unauthorized,
    /// Close code 4003: the credentials are valid but not allowed these channels.
    Forbidden,
}

impl LinkErrorCode {
    /// The contract's `code` string.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkErrorCode::Unauthorized => "unauthorized",
            LinkErrorCode::Forbidden => "forbidden",
        }
    }
}

/// What the Link asks the glue to do; drained with [`Link::poll_output`] after every input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkOutput {
    /// Open a new transport (fresh token first); report `handle_open` or `handle_close`.
    Connect,
    /// Close the current transport without reporting its close event.
    Close,
    /// Send this JSON text frame on the open WebSocket.
    Send(String),
    /// The status changed to this value.
    Status(Status),
    /// Refetch these views' queries once: events may have been missed.
    Recover(RecoverScope),
    /// Polling tick: refetch every active view's queries (while `connecting`, `reconnecting` or
    /// `polling`, see [`polling`]).
    Poll,
    /// A final failure to report to `onError`; the Link will not retry on its own.
    Error {
        /// `unauthorized` (4001) or `forbidden` (4003).
        code: LinkErrorCode,
        /// Human-readable detail.
        message: String,
    },
}
