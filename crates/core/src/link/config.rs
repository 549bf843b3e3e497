//! `LinkConfig`: the contract's connection options (`backoff`, `heartbeat`, `enabled`, `pollingMs`)
//! with their documented defaults. The app's camelCase options are read by hand in
//! `Realtime::connect` (the one reader that ships; no serde derive here, so tests exercise it).

/// All policy numbers of one connection. Every field has the contract's default, so `{}` is a valid
/// configuration; unknown fields (`token`, `url`, ...) are ignored because the glue passes the
/// user's whole options object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkConfig {
    /// Retry delays after failed attempts, and when to give up and poll.
    pub backoff: BackoffConfig,
    /// Ping cadence and the answer deadline (WebSocket only).
    pub heartbeat: HeartbeatConfig,
    /// Which transport the glue runs; decides pings vs the SSE idle rule and subscribe frames.
    pub transport: Transport,
    /// `false` is the kill switch: never open a transport, poll from `connect` on.
    pub enabled: bool,
    /// Overrides the 5 s visible polling interval (seed 004's `VITE_DEADMODE_FORCE_POLLING_MS`);
    /// clamped to 1 s..60 s, and the hidden interval is never shorter than 15 s.
    pub polling_ms: Option<u64>,
    /// Seeds the jitter PRNG; give each tab a different seed (e.g. from `Math.random()`) so clients
    /// do not retry in lockstep, and tests a fixed one.
    pub seed: u64,
}

/// Exponential backoff with full jitter between failed attempts (contract defaults).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackoffConfig {
    /// Upper bound of the first retry delay.
    pub initial_ms: u64,
    /// Cap of every retry delay, and the period of retries while polling (default 10 s: a server
    /// that is back is reached within this long).
    pub max_ms: u64,
    /// Consecutive failed attempts after which the Link gives up and polls.
    pub max_attempts: u32,
}

/// WebSocket heartbeat: a ping every `interval_ms`, and a reconnect when no frame arrives within
/// `timeout_ms` of a ping (a half-open socket never reports a close on its own).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeartbeatConfig {
    /// Time between pings.
    pub interval_ms: u64,
    /// How long after a ping some frame must arrive.
    pub timeout_ms: u64,
}

/// The transport the glue runs for this Link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Transport {
    /// WebSocket: subscribe/unsubscribe/ping frames, `since` resubscribe.
    #[default]
    Ws,
    /// Server-Sent Events: channels in the URL, no client frames, 45 s idle = reconnect.
    Sse,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            backoff: BackoffConfig::default(),
            heartbeat: HeartbeatConfig::default(),
            transport: Transport::Ws,
            enabled: true,
            polling_ms: None,
            seed: 0,
        }
    }
}

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig { initial_ms: 1_000, max_ms: 10_000, max_attempts: 10 }
    }
}

impl Default for HeartbeatConfig {
    fn default() -> Self {
        HeartbeatConfig { interval_ms: 30_000, timeout_ms: 10_000 }
    }
}

impl LinkConfig {
    /// Clamps values that would make the machine spin or never retry: every duration at least 1 ms,
    /// `max_ms >= initial_ms`, at least one attempt. User input is clamped rather than rejected, so
    /// a bad option degrades the policy instead of breaking realtime.
    pub fn normalized(mut self) -> LinkConfig {
        self.backoff.initial_ms = self.backoff.initial_ms.max(1);
        self.backoff.max_ms = self.backoff.max_ms.max(self.backoff.initial_ms);
        self.backoff.max_attempts = self.backoff.max_attempts.max(1);
        self.heartbeat.interval_ms = self.heartbeat.interval_ms.max(1);
        self.heartbeat.timeout_ms = self.heartbeat.timeout_ms.max(1);
        self
    }
}
