//! The `Link` state machine: one logical realtime connection across many transports over time.
//!
//! States, and the status each one reports:
//!
//! | phase | transport | status | polls |
//! | --- | --- | --- | --- |
//! | idle (before `connect`, after `disconnect`) | none | `disconnected` | no |
//! | realtime, never open since `connect` | opening / waiting for a retry | `connecting` | yes |
//! | realtime | open | `connected` | no |
//! | realtime, was open before | opening / waiting for a retry | `reconnecting` | yes |
//! | polling (disabled, or gave up after `maxAttempts`) | none, or a retry opening | `polling` | yes |
//! | failed (close 4001/4003) | none | `error` | no |
//!
//! Polling follows the status alone ([`crate::link::polling::polls_while`]): the first poll one
//! interval (5 s ± 1 s, hidden 15 s ± 1 s) after the status left `connected` (or after `connect`),
//! then one per interval, the same cadence across `reconnecting` → `polling` (giving up), and none
//! once `connected` again: the return's recovery is the next refresh. A drop shorter than 4 s costs
//! no poll.
//!
//! How a lost transport comes back:
//! - an established connection that lived at least [`STABLE_AFTER_MS`] and then dropped (close event,
//!   heartbeat timeout, SSE idle) posts a `TransportError` intent to the scheduler: one reconnect
//!   after the 1 s debounce, never held back by the 5 s interval;
//! - a failed attempt, or a connection that dropped sooner than that (a server that accepts and
//!   kicks), waits a backoff delay (full jitter, at most `backoff.maxMs`); after `maxAttempts`
//!   consecutive failures the status is `polling` and the transport is retried every
//!   0.9–1 × `backoff.maxMs`, so a server that is back is reached within `backoff.maxMs` either way;
//! - intents (auth change, visible, online) start a reconnect through the scheduler.
//!
//! Recovery: the first open after `connect` recovers nothing (the views just fetched). Every later
//! open resubscribes with `since`; channels without a seen seq (and every channel over SSE, which
//! cannot resend a position) are recovered at once; the others wait for `recovered`, a seq that
//! settles them, or [`Timer::RecoveryDeadline`].

use std::collections::VecDeque;

use crate::sorted::{SortedMap, SortedSet};

use crate::key::write_string;
use crate::scan::push_uint;

use super::backoff::{polling_retry_delay, retry_delay};
use super::config::{LinkConfig, Transport};
use super::polling::Poller;
use super::rng::SplitMix64;
use super::scheduler::{Fired, ReconnectScheduler};
use super::seq::{SeqCheck, SeqTracker};
use super::timer::{Timer, Timers};
use super::{Intent, LinkErrorCode, LinkOutput, Millis, Priority, RecoverScope, Status};

/// A connection that stayed open this long counts as established: its drop resets the backoff and
/// reconnects through the scheduler. A shorter-lived one counts as a failed attempt, so a server
/// that accepts and immediately closes is retried with backoff, not every second forever.
pub const STABLE_AFTER_MS: Millis = 10_000;

/// SSE: the server pings at least every 15 s; this long without any message means the stream is
/// dead (contract, "Wire protocol").
pub const SSE_IDLE_MS: Millis = 45_000;

/// A connect attempt that neither opens nor fails within this long is abandoned and counts as
/// failed (a hung handshake in a throttled tab must not stall reconnection).
pub const CONNECT_TIMEOUT_MS: Millis = 30_000;

/// How many expired timers one `handle_timeout` processes at most; every re-armed deadline is later
/// than `now`, so this bound is never reached and only guards against a broken invariant spinning.
const MAX_TIMER_STEPS: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    Failed,
    Realtime,
    Polling { gave_up: bool },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Conn {
    None,
    /// A `Connect` is out. `swap`: an SSE reopen to change channels, reported as still connected.
    Opening {
        swap: bool,
    },
    Open {
        since: Millis,
    },
}

/// The sans-IO connection policy (see the module docs and [`crate::link`] for the run loop).
#[derive(Clone, Debug)]
pub struct Link {
    cfg: LinkConfig,
    /// Backoff jitter.
    rng: SplitMix64,
    /// Polling while realtime is not delivering (own jitter stream).
    poller: Poller,
    timers: Timers,
    out: VecDeque<LinkOutput>,
    phase: Phase,
    conn: Conn,
    status: Status,
    visible: bool,
    channels: SortedSet<String>,
    seq: SeqTracker,
    sched: ReconnectScheduler,
    /// Consecutive failed attempts (reset by a drop after a stable connection).
    failures: u32,
    /// Whether the next open is a reconnect that must recover views (false only before the first
    /// open or failure).
    recover_on_open: bool,
    /// Whether a transport has been open since the last `connect` (`connecting` vs `reconnecting`).
    established: bool,
    /// SSE: channels added while open, whose views just fetched; the swap reopen skips them.
    fresh: SortedSet<String>,
    last_frame: Millis,
    next_ref: u64,
}

impl Link {
    /// A disconnected Link; nothing happens until [`Link::connect`]. The config is clamped by
    /// [`LinkConfig::normalized`].
    pub fn new(config: LinkConfig) -> Link {
        let cfg = config.normalized();
        Link {
            rng: SplitMix64::new(cfg.seed),
            poller: Poller::new(cfg.polling_ms, cfg.seed),
            cfg,
            timers: Timers::default(),
            out: VecDeque::new(),
            phase: Phase::Idle,
            conn: Conn::None,
            status: Status::Disconnected,
            visible: true,
            channels: SortedSet::new(),
            seq: SeqTracker::default(),
            sched: ReconnectScheduler::new(),
            failures: 0,
            recover_on_open: false,
            established: false,
            fresh: SortedSet::new(),
            last_frame: 0,
            next_ref: 1,
        }
    }

    // ----- getters -------------------------------------------------------------------------

    /// The current status (the last `Status` output, or `disconnected` initially).
    pub fn status(&self) -> Status {
        self.status
    }

    /// The channels the Link subscribes; the glue builds the SSE URL from it on `Connect`.
    pub fn channels(&self) -> &SortedSet<String> {
        &self.channels
    }

    /// Subscribed channels with a seen seq, mapped to the last one (what a resubscribe sends).
    pub fn since(&self) -> SortedMap<String, u64> {
        self.seq.since(&self.channels)
    }

    /// The clamped configuration in use.
    pub fn config(&self) -> &LinkConfig {
        &self.cfg
    }

    /// Whether the page is visible as last reported by [`Link::set_visible`] (initially true).
    pub fn is_visible(&self) -> bool {
        self.visible
    }

    /// Whether a `since` resubscribe still waits for some channel's `recovered` answer. The caller
    /// holds the per-channel recoveries until none waits, so a reconnect refetches each view once.
    pub fn is_recovering(&self) -> bool {
        self.seq.any_awaiting()
    }

    /// Consecutive failed connect attempts, for diagnostics.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The earliest deadline and why it exists, for traces and tests.
    pub fn next_timer(&self) -> Option<(Millis, Timer)> {
        self.timers.earliest()
    }

    // ----- outputs -------------------------------------------------------------------------

    /// The next thing for the glue to do; drain it after every input.
    pub fn poll_output(&mut self) -> Option<LinkOutput> {
        self.out.pop_front()
    }

    /// When [`Link::handle_timeout`] should be called next, or `None` when nothing is scheduled.
    pub fn poll_timeout(&self) -> Option<Millis> {
        self.timers.earliest().map(|(at, _)| at)
    }

    // ----- app commands --------------------------------------------------------------------

    /// Starts realtime (or polling when `enabled` is false). A no-op while already connecting,
    /// connected or reconnecting; while polling after giving up it tries the transport at once.
    /// After a final error this is how the app acts.
    pub fn connect(&mut self, now: Millis) {
        match self.phase {
            Phase::Idle | Phase::Failed => {
                self.timers.clear_all();
                self.sched.clear_pending();
                self.failures = 0;
                self.established = false;
                self.fresh.clear();
                if self.cfg.enabled {
                    self.phase = Phase::Realtime;
                    self.start_attempt(now, false);
                } else {
                    self.phase = Phase::Polling { gave_up: false };
                }
            }
            Phase::Polling { gave_up: true } if self.conn == Conn::None => {
                self.start_attempt(now, false);
            }
            Phase::Realtime | Phase::Polling { .. } => {}
        }
        self.sync_status(now);
    }

    /// Connects as the new holder of a connection another engine held until now (a shared
    /// connection's new leader, `shareConnection`): `since` is the last seq per channel that
    /// engine's frames carried. The first open then resubscribes with `since` and recovers like a
    /// reconnect, and the status is `reconnecting`, not `connecting`. Only from idle; otherwise
    /// the same as [`Link::connect`].
    pub fn resume<I: IntoIterator<Item = (String, u64)>>(&mut self, now: Millis, since: I) {
        if self.phase != Phase::Idle {
            return self.connect(now);
        }
        for (ch, seq) in since {
            if self.channels.contains(&ch) {
                self.seq.restore(&ch, seq);
            }
        }
        let before = self.status;
        self.connect(now);
        self.recover_on_open = true;
        self.established = true;
        // `connect` queued the status of a first connect; a takeover reports `reconnecting`.
        if let Some(LinkOutput::Status(_)) = self.out.back() {
            self.out.pop_back();
            self.status = before;
        }
        self.sync_status(now);
    }

    /// Stops everything (`rt.dispose`, the function `connectWebSocket` returns): closes the
    /// transport, cancels every timer and polling. Seqs are kept for a later `connect`.
    pub fn disconnect(&mut self, now: Millis) {
        if self.phase == Phase::Idle {
            return;
        }
        if self.conn != Conn::None {
            self.out.push_back(LinkOutput::Close);
        }
        self.lose_transport();
        self.timers.clear_all();
        self.sched.clear_pending();
        self.phase = Phase::Idle;
        self.sync_status(now);
    }

    /// Replaces the subscribed channel set (from `Views::channels` after `Views::poll_channels`).
    /// While a WebSocket is open this sends `subscribe` for the added and `unsubscribe` for the
    /// removed channels; over SSE the channels live in the URL, so the stream is reopened (the
    /// status stays `connected`). A removed channel's seq is forgotten.
    pub fn set_channels<I: IntoIterator<Item = String>>(&mut self, now: Millis, channels: I) {
        let new: SortedSet<String> = channels.into_iter().filter(|c| !c.is_empty()).collect();
        if new == self.channels {
            return;
        }
        let added: Vec<String> = new.difference(&self.channels).cloned().collect();
        let removed: Vec<String> = self.channels.difference(&new).cloned().collect();
        for ch in &removed {
            self.seq.forget(ch);
            self.fresh.remove(ch);
        }
        self.channels = new;
        match (self.cfg.transport, self.conn) {
            (Transport::Ws, Conn::Open { .. }) => {
                if !added.is_empty() {
                    self.send(channels_frame("subscribe", &added, None));
                }
                if !removed.is_empty() {
                    self.send(channels_frame("unsubscribe", &removed, None));
                }
            }
            (Transport::Sse, Conn::Open { .. }) => {
                self.fresh.extend(added);
                self.replace_transport(now, true);
            }
            (Transport::Sse, Conn::Opening { swap }) => {
                // The attempt in flight was built with the old channel list.
                self.fresh.extend(added);
                self.replace_transport(now, swap);
            }
            _ => {}
        }
        if !self.seq.any_awaiting() {
            self.timers.clear(Timer::RecoveryDeadline);
        }
        self.sync_status(now);
    }

    /// Reports page visibility (`document.visibilityState`). Becoming visible with a dead or stale
    /// transport posts a high-priority `Visible` intent, so a tab whose timers were throttled while
    /// hidden notices at once (realtime-js#121, #133); with a quiet but maybe-live WebSocket it
    /// probes with a ping. While polling, becoming visible brings the next poll forward to at most
    /// one visible interval away.
    pub fn set_visible(&mut self, now: Millis, visible: bool) {
        if visible == self.visible {
            return;
        }
        self.visible = visible;
        self.poller.set_visible(now, visible);
        self.timers.set_opt(Timer::Poll, self.poller.next());
        if !visible {
            return;
        }
        if matches!(self.phase, Phase::Realtime | Phase::Polling { gave_up: true }) {
            if self.is_stale(now) {
                self.intent(now, Intent::Visible, Priority::High);
            } else if matches!(self.conn, Conn::Open { .. })
                && now.saturating_sub(self.last_frame) >= self.cfg.heartbeat.timeout_ms
            {
                self.probe(now);
            }
        }
        self.sync_status(now);
    }

    /// Asks for a reconnect; intents are coalesced by the scheduler (1 s debounce unless `High`,
    /// 5 s between intent-started reconnects). What a due batch does: `AuthChange` and
    /// `TransportError` remake an open connection; `Visible`/`Online` remake it only when it is
    /// stale, else probe it with a ping; with no transport any intent connects now (except a lone
    /// `TransportError` while a backoff retry is pending: backoff owns retries). Ignored while
    /// disconnected, failed, or polling because realtime is disabled.
    pub fn intent(&mut self, now: Millis, intent: Intent, priority: Priority) {
        if !matches!(self.phase, Phase::Realtime | Phase::Polling { gave_up: true }) {
            return;
        }
        self.sched.post(now, intent, priority);
        if let Some(fired) = self.sched.take_due(now) {
            self.fire(now, fired);
        }
        self.arm_scheduler();
        self.sync_status(now);
    }

    // ----- transport inputs ----------------------------------------------------------------

    /// The transport of the last `Connect` is open (after the glue sent `auth`). Sends the
    /// resubscribe frame, starts the heartbeat, stops polling, and starts recovery when this is a
    /// reconnect. Ignored when no attempt is pending.
    pub fn handle_open(&mut self, now: Millis) {
        let Conn::Opening { .. } = self.conn else {
            return;
        };
        self.timers.clear(Timer::ConnectTimeout);
        if let Phase::Polling { .. } = self.phase {
            self.timers.clear(Timer::Retry);
        }
        self.phase = Phase::Realtime;
        self.conn = Conn::Open { since: now };
        self.established = true;
        self.last_frame = now;
        match self.cfg.transport {
            Transport::Ws => self.timers.set(Timer::Ping, now.saturating_add(self.cfg.heartbeat.interval_ms)),
            Transport::Sse => self.timers.set(Timer::SseIdle, now.saturating_add(SSE_IDLE_MS)),
        }
        self.sync_status(now);

        if self.cfg.transport == Transport::Ws && !self.channels.is_empty() {
            let since = self.seq.since(&self.channels);
            let frame = channels_frame("subscribe", &self.channels, Some(&since));
            self.send(frame);
        }
        if self.recover_on_open {
            let mut at_once = SortedSet::new();
            let candidates: Vec<String> = self.channels.difference(&self.fresh).cloned().collect();
            for ch in candidates {
                if self.cfg.transport == Transport::Ws && self.seq.has_seq(&ch) {
                    self.seq.await_recovery(&ch);
                } else {
                    self.seq.reset(&ch);
                    at_once.insert(ch);
                }
            }
            if self.seq.any_awaiting() {
                let deadline = now.saturating_add(self.cfg.heartbeat.timeout_ms);
                self.timers.set(Timer::RecoveryDeadline, deadline);
            }
            self.push_recover(at_once);
        }
        self.recover_on_open = true;
        self.fresh.clear();
    }

    /// The transport closed or failed (`code` from the CloseEvent; `None` for an error without
    /// one, or SSE). 4001/4003 are final: status `error`, an `Error` output, no retry. Anything else
    /// is a drop (reconnect) or a failed attempt (backoff). Ignored when no transport is current.
    pub fn handle_close(&mut self, now: Millis, code: Option<u16>) {
        let final_code = match code {
            Some(4001) => Some(LinkErrorCode::Unauthorized),
            Some(4003) => Some(LinkErrorCode::Forbidden),
            _ => None,
        };
        match (self.conn, final_code) {
            (Conn::None, _) => return,
            (_, Some(code)) => self.fail(code),
            (Conn::Opening { .. }, None) => {
                self.lose_transport();
                self.fresh.clear();
                self.attempt_failed(now);
            }
            (Conn::Open { since }, None) => self.lost_open(now, since),
        }
        self.sync_status(now);
    }

    /// Any frame arrived on the open transport: proof of life (answers the pending ping, restarts
    /// the SSE idle clock). Call it for every frame, before `handle_seq` / `handle_recovered`.
    pub fn handle_frame(&mut self, now: Millis) {
        if let Conn::Open { .. } = self.conn {
            self.last_frame = self.last_frame.max(now);
            self.timers.clear(Timer::PongDeadline);
            if self.cfg.transport == Transport::Sse {
                self.timers.set(Timer::SseIdle, now.saturating_add(SSE_IDLE_MS));
            }
        }
    }

    /// An event frame carried `seq` on `channel`. A gap emits one `Recover` for that channel and
    /// the count continues from this seq. Returns what the seq said (see [`SeqCheck`]).
    pub fn handle_seq(&mut self, channel: &str, seq: u64) -> SeqCheck {
        if !matches!(self.conn, Conn::Open { .. }) || !self.channels.contains(channel) {
            return SeqCheck::Ignored;
        }
        let check = self.seq.observe(channel, seq);
        if check == SeqCheck::Gap {
            self.push_recover(SortedSet::from([channel.to_owned()]));
        }
        if !self.seq.any_awaiting() {
            self.timers.clear(Timer::RecoveryDeadline);
        }
        check
    }

    /// The server answered a `since` resubscribe for `channel`: `ok` means the missed events follow
    /// and nothing needs refetching; otherwise the channel's views are recovered once and its count
    /// starts over. Ignored for a channel that is not waiting for an answer (already settled by a
    /// seq, or never resubscribed with `since`).
    pub fn handle_recovered(&mut self, channel: &str, ok: bool) {
        if !matches!(self.conn, Conn::Open { .. }) || !self.seq.is_awaiting(channel) {
            return;
        }
        self.seq.settle(channel);
        if !ok {
            self.seq.reset(channel);
            self.push_recover(SortedSet::from([channel.to_owned()]));
        }
        if !self.seq.any_awaiting() {
            self.timers.clear(Timer::RecoveryDeadline);
        }
    }

    /// Runs every timer whose deadline is at or before `now`. Spurious or early calls do nothing;
    /// late calls run what is due, once. Afterwards every deadline is later than `now`.
    pub fn handle_timeout(&mut self, now: Millis) {
        for _ in 0..MAX_TIMER_STEPS {
            match self.timers.earliest() {
                Some((at, timer)) if at <= now => {
                    self.timers.clear(timer);
                    self.on_timer(now, timer);
                }
                _ => break,
            }
        }
        self.sync_status(now);
    }

    // ----- internals -----------------------------------------------------------------------

    fn on_timer(&mut self, now: Millis, timer: Timer) {
        let open = matches!(self.conn, Conn::Open { .. });
        match timer {
            Timer::Reconnect => {
                if let Some(fired) = self.sched.take_due(now) {
                    self.fire(now, fired);
                }
                self.arm_scheduler();
            }
            Timer::Retry => {
                let retrying = matches!(self.phase, Phase::Realtime | Phase::Polling { gave_up: true });
                if retrying && self.conn == Conn::None {
                    self.start_attempt(now, false);
                }
            }
            Timer::ConnectTimeout => {
                if let Conn::Opening { .. } = self.conn {
                    self.out.push_back(LinkOutput::Close);
                    self.lose_transport();
                    self.fresh.clear();
                    self.attempt_failed(now);
                }
            }
            Timer::Ping => {
                if open && self.cfg.transport == Transport::Ws {
                    self.send_ping(now);
                    let next = now.saturating_add(self.cfg.heartbeat.interval_ms);
                    self.timers.set(Timer::Ping, next);
                }
            }
            Timer::PongDeadline | Timer::SseIdle => {
                if let Conn::Open { since } = self.conn {
                    self.out.push_back(LinkOutput::Close);
                    self.lost_open(now, since);
                }
            }
            Timer::RecoveryDeadline => {
                if open {
                    let unanswered = self.seq.take_awaiting();
                    for ch in &unanswered {
                        self.seq.reset(ch);
                    }
                    self.push_recover(unanswered);
                }
            }
            Timer::Poll => {
                if self.poller.fire(now, self.visible) {
                    self.out.push_back(LinkOutput::Poll);
                }
                self.timers.set_opt(Timer::Poll, self.poller.next());
            }
        }
    }

    /// Carries out a due batch of intents (see [`Link::intent`]).
    fn fire(&mut self, now: Millis, fired: Fired) {
        if !matches!(self.phase, Phase::Realtime | Phase::Polling { gave_up: true }) {
            return;
        }
        let remake = match self.conn {
            Conn::Open { .. } => {
                let must = fired.has(Intent::AuthChange) || fired.has(Intent::TransportError) || self.is_stale(now);
                if !must {
                    self.probe(now);
                }
                must
            }
            // An attempt is under way; only a new token makes it worth restarting.
            Conn::Opening { .. } => fired.has(Intent::AuthChange),
            Conn::None => {
                let backoff_owns = self.timers.get(Timer::Retry).is_some()
                    && fired.intents.iter().all(|&i| i == Intent::TransportError);
                !backoff_owns
            }
        };
        if remake {
            self.replace_transport(now, false);
            self.sched.started(now);
        }
    }

    /// Closes the current transport (if any) and connects again at once.
    fn replace_transport(&mut self, now: Millis, swap: bool) {
        if self.conn != Conn::None {
            self.out.push_back(LinkOutput::Close);
        }
        self.lose_transport();
        self.start_attempt(now, swap);
    }

    fn start_attempt(&mut self, now: Millis, swap: bool) {
        self.out.push_back(LinkOutput::Connect);
        self.conn = Conn::Opening { swap };
        self.timers.set(Timer::ConnectTimeout, now.saturating_add(CONNECT_TIMEOUT_MS));
        self.timers.clear(Timer::Retry);
    }

    /// Forgets the current transport and everything tied to it (heartbeat, pending recovery).
    fn lose_transport(&mut self) {
        self.conn = Conn::None;
        for t in [Timer::ConnectTimeout, Timer::Ping, Timer::PongDeadline, Timer::SseIdle, Timer::RecoveryDeadline] {
            self.timers.clear(t);
        }
        self.seq.take_awaiting();
    }

    /// An open transport ended without a final code (close event, dead heartbeat, SSE idle).
    fn lost_open(&mut self, now: Millis, since: Millis) {
        self.lose_transport();
        self.fresh.clear();
        if now.saturating_sub(since) >= STABLE_AFTER_MS {
            self.failures = 0;
            self.sched.note_drop();
            self.sched.post(now, Intent::TransportError, Priority::Medium);
            self.arm_scheduler();
        } else {
            self.attempt_failed(now);
        }
    }

    /// A connect attempt failed: back off, give up after `max_attempts`, or (already polling)
    /// try again in about `max_ms`.
    fn attempt_failed(&mut self, now: Millis) {
        self.recover_on_open = true;
        match self.phase {
            Phase::Realtime => {
                self.failures = self.failures.saturating_add(1);
                if self.failures >= self.cfg.backoff.max_attempts {
                    // Status `polling` from here; the polls that started with the drop keep
                    // their cadence (`sync_status`).
                    self.phase = Phase::Polling { gave_up: true };
                    self.arm_polling_retry(now);
                } else {
                    let delay = retry_delay(&self.cfg.backoff, self.failures, &mut self.rng);
                    self.timers.set(Timer::Retry, now.saturating_add(delay));
                }
            }
            Phase::Polling { gave_up: true } => self.arm_polling_retry(now),
            Phase::Idle | Phase::Failed | Phase::Polling { gave_up: false } => {}
        }
    }

    fn arm_polling_retry(&mut self, now: Millis) {
        let delay = polling_retry_delay(&self.cfg.backoff, &mut self.rng);
        self.timers.set(Timer::Retry, now.saturating_add(delay));
    }

    /// A final close: report it once and stay in `error` until the app acts.
    fn fail(&mut self, code: LinkErrorCode) {
        self.lose_transport();
        self.fresh.clear();
        self.timers.clear_all();
        self.sched.clear_pending();
        self.phase = Phase::Failed;
        let message = match code {
            LinkErrorCode::Unauthorized => "the server closed the connection: unauthorized (4001)",
            LinkErrorCode::Forbidden => "the server closed the connection: forbidden (4003)",
        };
        self.out.push_back(LinkOutput::Error { code, message: message.to_owned() });
    }

    /// Whether the transport is gone or has been silent longer than the heartbeat allows.
    fn is_stale(&self, now: Millis) -> bool {
        match self.conn {
            Conn::None => true,
            Conn::Opening { .. } => false,
            Conn::Open { .. } => {
                let silent = now.saturating_sub(self.last_frame);
                match self.cfg.transport {
                    Transport::Ws => {
                        let hb = &self.cfg.heartbeat;
                        self.timers.get(Timer::PongDeadline).is_some_and(|d| d <= now)
                            || silent >= hb.interval_ms.saturating_add(hb.timeout_ms)
                    }
                    Transport::Sse => silent >= SSE_IDLE_MS,
                }
            }
        }
    }

    /// Checks a quiet WebSocket with a ping now (SSE has nothing to send).
    fn probe(&mut self, now: Millis) {
        if matches!(self.conn, Conn::Open { .. }) && self.cfg.transport == Transport::Ws {
            self.send_ping(now);
        }
    }

    fn send_ping(&mut self, now: Millis) {
        let r = self.next_ref;
        self.next_ref = self.next_ref.wrapping_add(1);
        let mut frame = String::from("{\"ref\":");
        push_uint(&mut frame, r);
        frame.push_str(",\"type\":\"ping\"}");
        self.send(frame);
        if self.timers.get(Timer::PongDeadline).is_none() {
            let deadline = now.saturating_add(self.cfg.heartbeat.timeout_ms);
            self.timers.set(Timer::PongDeadline, deadline);
        }
    }

    fn send(&mut self, frame: String) {
        self.out.push_back(LinkOutput::Send(frame));
    }

    /// Queues a recovery, merged with one queued just before it, as `All` when it covers every
    /// channel.
    fn push_recover(&mut self, mut channels: SortedSet<String>) {
        if channels.is_empty() {
            return;
        }
        match self.out.back() {
            Some(LinkOutput::Recover(RecoverScope::All)) => return,
            Some(LinkOutput::Recover(RecoverScope::Channels(prev))) => {
                channels.extend(prev.iter().cloned());
                self.out.pop_back();
            }
            _ => {}
        }
        let scope = if self.channels.is_subset(&channels) {
            RecoverScope::All
        } else {
            RecoverScope::Channels(channels.into_iter().collect())
        };
        self.out.push_back(LinkOutput::Recover(scope));
    }

    fn arm_scheduler(&mut self) {
        self.timers.set_opt(Timer::Reconnect, self.sched.due());
    }

    fn derived_status(&self) -> Status {
        match (self.phase, self.conn) {
            (Phase::Idle, _) => Status::Disconnected,
            (Phase::Failed, _) => Status::Error,
            (Phase::Polling { .. }, _) => Status::Polling,
            (Phase::Realtime, Conn::Open { .. } | Conn::Opening { swap: true }) => Status::Connected,
            (Phase::Realtime, _) if self.established => Status::Reconnecting,
            (Phase::Realtime, _) => Status::Connecting,
        }
    }

    /// Reports a status change, and starts or stops polling by the status (one rule for our own
    /// transport and the JS-held connectors: `polling::polls_while`).
    fn sync_status(&mut self, now: Millis) {
        let status = self.derived_status();
        if status != self.status {
            self.status = status;
            self.out.push_back(LinkOutput::Status(status));
        }
        self.poller.follow(now, status, self.visible);
        self.timers.set_opt(Timer::Poll, self.poller.next());
    }
}

/// `{"channels":[..],"since":{..},"type":".."}`: a subscribe/unsubscribe frame, written with the
/// core's string writer (keys in the order serde_json's sorted map wrote them, so the text is the
/// same as before).
fn channels_frame<'a, I>(ty: &str, channels: I, since: Option<&SortedMap<String, u64>>) -> String
where
    I: IntoIterator<Item = &'a String>,
{
    let mut out = String::from("{\"channels\":[");
    for (i, ch) in channels.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(&mut out, ch);
    }
    out.push(']');
    if let Some(since) = since {
        out.push_str(",\"since\":{");
        for (i, (ch, seq)) in since.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_string(&mut out, ch);
            out.push(':');
            push_uint(&mut out, *seq);
        }
        out.push('}');
    }
    out.push_str(",\"type\":");
    write_string(&mut out, ty);
    out.push('}');
    out
}

/// The WebSocket's first frame when a token function is set: `{"token":"..","type":"auth"}`.
pub fn auth_frame(token: &str) -> String {
    let mut out = String::from("{\"token\":");
    write_string(&mut out, token);
    out.push_str(",\"type\":\"auth\"}");
    out
}

#[cfg(test)]
mod frame_tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    /// The frames are the text serde_json wrote for them before (the oracle: a sorted map).
    #[test]
    fn frames_match_serde_json() {
        let chans: BTreeSet<String> = ["a\"b".to_string(), "room:1".into(), "\u{1}x\u{e9}".into()].into();
        let since: BTreeMap<String, u64> = [("a\"b".to_string(), 7u64), ("room:1".into(), u64::MAX)].into();
        assert_eq!(
            channels_frame("subscribe", &chans, Some(&since.iter().map(|(k, v)| (k.clone(), *v)).collect())),
            serde_json::json!({ "type": "subscribe", "channels": chans, "since": since }).to_string()
        );
        assert_eq!(
            channels_frame("unsubscribe", &chans, None),
            serde_json::json!({ "type": "unsubscribe", "channels": chans }).to_string()
        );
        let empty: Vec<String> = Vec::new();
        assert_eq!(channels_frame("subscribe", &empty, None), r#"{"channels":[],"type":"subscribe"}"#);
        assert_eq!(auth_frame("t\n\\k"), serde_json::json!({ "type": "auth", "token": "t\n\\k" }).to_string());
    }
}
