//! `Realtime`: the whole sans-IO machine the glue drives: the cache [`Engine`], the reference-counted
//! [`Views`] and, while a transport is connected, the [`Link`] policy. It routes between them, so
//! the glue never decides anything: a `seq` gap or a reconnect becomes a refetch of the right
//! views' keys here, a view change becomes subscribe frames here, a polling tick becomes a refetch.
//!
//! A JS-held connector (supabase-js, centrifuge-js) is a [`Connector`]: its facts come in through
//! `connector_*`, and the channels it must open and close go out as [`Output::OpenChannel`] /
//! [`Output::CloseChannel`], tagged with the connector's id.
//!
//! Run loop (as for every part of the core): after any input, drain [`Realtime::poll_output`], then
//! arm one timer for [`Realtime::poll_timeout`] and call [`Realtime::handle_timeout`] when it fires.

use crate::adapt::fields::snake_case;
use crate::config::{as_bool, as_u64, option, scan_options};
use crate::connector::{ChannelFact, ChannelSpec, ClientState, Connector, ConnectorOptions, ConnectorOutput, Position};
use crate::engine::{Engine, Ingested};
use crate::error::{Error, ErrorCode};
use crate::link::polling::Poller;
use crate::link::{Intent, Link, LinkConfig, LinkOutput, Priority, RecoverScope, SeqCheck, Status, Transport};
use crate::plan::FlushPlan;
use crate::recovery::Returns;
use crate::scan::{Kind, Tape};
use crate::share::{Role, Share, Shared};
use crate::sorted::SortedSet;
use crate::views::{View, ViewHandle, Views};
use crate::wire::{self, Frame, FrameError};
use crate::Millis;
#[cfg(feature = "serde_json")]
use serde_json::Value;
use std::collections::VecDeque;

/// What the glue must carry out.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Apply to the QueryClient.
    Plan(FlushPlan),
    /// Open this channel on the JS-held connector with this id (`Realtime::attach_connector`).
    OpenChannel(u32, ChannelSpec),
    /// Release this channel's handle on connector `id`, then report `ChannelFact::Left`.
    CloseChannel(u32, String),
    /// Open the transport (fetch a fresh token first), then report `transport_open`/`transport_close`.
    Connect,
    /// Close the transport without reporting its close.
    Close,
    /// Send this text frame on the open WebSocket.
    Send(String),
    Status(Status),
    /// Report to `onError`.
    Error(Error),
    /// `shareConnection`, leader only: hand this to the other tabs (in order).
    Share(Shared),
}

pub struct Realtime {
    engine: Engine,
    views: Views,
    link: Option<Link>,
    /// The attached JS-held connector and its id (a late fact of a detached connector carries an
    /// old id and is ignored).
    connector: Option<(u32, Connector)>,
    /// The `createRealtime` options' JSON text, the base every connection's options are merged
    /// over (read again from the tape at each `connect`).
    options: String,
    transport_name: &'static str,
    visible: bool,
    /// Views changed: the channel set is synced at this time (the next macrotask), so a React
    /// StrictMode mount/unmount/mount in one tick never reaches the wire.
    sync_at: Option<Millis>,
    /// Channels that came back (our link's, or a connector's), released together (`recovery.rs`).
    returns: Returns,
    /// Polls the active views while a JS-held connector reports its socket down (`link::polling`,
    /// the rules our own transport's Link follows).
    connector_poll: Poller,
    status: Status,
    outputs: VecDeque<Output>,
    /// `shareConnection`: this tab's part in a connection shared by the tabs of an origin (`None`:
    /// not shared, everything as without the option).
    share: Option<Share>,
    /// The attached connector takes part in sharing (`share_connector`: supabase-js); one that does
    /// not (centrifuge-js today) connects in every tab as without the option.
    connector_shared: bool,
}

impl Realtime {
    #[cfg(feature = "serde_json")]
    /// Builds the machine from the `createRealtime` options. With `enabled: false` polling starts now.
    /// Kept for callers holding a `Value` (tests, `src/replay.rs`), written as text with
    /// `key::value_json`; the shipped path is [`Realtime::from_text`].
    pub fn new(now: Millis, options: &Value) -> Result<Realtime, Error> {
        Realtime::from_text(now, &crate::key::value_json(options))
    }

    /// [`Realtime::new`] from the options' JSON text (what the glue's `JSON.stringify` wrote).
    pub fn from_text(now: Millis, options: &str) -> Result<Realtime, Error> {
        match options {
            // No options (`createRealtime({ queryClient })`): every default, built without the tape
            // reader, which V8 then does not compile at creation (it compiles a wasm function on its
            // first call; docs/SIZE.md "Creation"). The same machine as `read` builds from this text
            // (test `no_options_build_what_the_reader_builds`).
            "{}" | "null" => {
                Ok(Realtime::build(now, crate::config::Config::default(), None, None, options.to_string()))
            }
            _ => Realtime::read(now, options),
        }
    }

    /// The options read from their tape.
    #[inline(never)]
    fn read(now: Millis, options: &str) -> Result<Realtime, Error> {
        let mut tape = Tape::new();
        scan_options(&mut tape, options)?;
        let (t, x) = (&tape, options);
        let config = crate::config::Config::from_tape(t, x, 0)?;
        let polling_ms = option(t, x, 0, "pollingMs").and_then(|v| t.f64(x, v)).map(|ms| ms.max(0.0) as u64);
        let seed = t.get(x, 0, "seed").and_then(|v| as_u64(t, x, v));
        let disabled = t.get(x, 0, "enabled").is_some_and(|v| t.kind(v) == Kind::False);
        let text = if t.kind(0) == Kind::Object { options.to_string() } else { "null".to_string() };
        let mut rt = Realtime::build(now, config, polling_ms, seed, text);
        if disabled {
            rt.connect_text(now, Transport::Ws, "null")?;
        }
        Ok(rt)
    }

    /// The machine for read options: `pollingMs`, `seed` (`None`: the defaults) and the options' text.
    fn build(
        now: Millis,
        config: crate::config::Config,
        polling_ms: Option<u64>,
        seed: Option<u64>,
        options: String,
    ) -> Realtime {
        let engine = Engine::new(config);
        let factory = engine.config().scope_get("factoryId").map(str::to_string);
        Realtime {
            engine,
            views: Views::new(factory),
            link: None,
            connector: None,
            options,
            transport_name: "websocket",
            visible: true,
            sync_at: None,
            returns: Returns::default(),
            connector_poll: Poller::new(polling_ms, seed.unwrap_or(now ^ 0x6a09_e667_f3bc_c909)),
            status: Status::Disconnected,
            outputs: VecDeque::new(),
            share: None,
            connector_shared: false,
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }

    pub fn views(&self) -> &Views {
        &self.views
    }

    /// The connection policy of our own transport, while one is connected (its options as read).
    pub fn link(&self) -> Option<&Link> {
        self.link.as_ref()
    }

    pub fn status(&self) -> Status {
        self.status
    }

    // ---- payloads -----------------------------------------------------------------------------

    /// One payload from the app (`rt.ingest`), as JSON text.
    pub fn ingest_text(&mut self, now: Millis, source: &str, text: &str) -> Result<Ingested, Error> {
        let r = self.engine.handle_text(now, source, text);
        self.drive(now);
        r
    }

    /// A Supabase payload from the object path as typed slots ([`Engine::handle_slots`], `slots.rs`).
    pub fn ingest_slots(&mut self, now: Millis, epoch: u32, words: &[u32], text: &str) -> crate::engine::Slotted {
        let r = self.engine.handle_slots(now, epoch, words, text);
        if matches!(r, crate::engine::Slotted::Read(_)) {
            self.drive(now);
        }
        r
    }

    /// One wire-protocol frame from our WebSocket or EventSource (CONTRACT "Wire protocol"):
    /// a control frame, an event frame `{ channel?, seq?, source?, payload }`, or a bare payload.
    pub fn transport_frame(&mut self, now: Millis, text: &str) -> Result<Option<Ingested>, Error> {
        if let Some(l) = self.link.as_mut() {
            l.handle_frame(now); // any frame is proof of life
        }
        if self.share.as_ref().is_some_and(Share::is_leader) {
            self.outputs.push_back(Output::Share(Shared::Frame(text.to_owned())));
        }
        let r = self.frame(now, text);
        self.drive(now);
        r
    }

    fn frame(&mut self, now: Millis, text: &str) -> Result<Option<Ingested>, Error> {
        let (channel, seq, source, payload) = match wire::decode(self.engine.tape_mut(), self.transport_name, text) {
            Ok(Frame::Pong) => return Ok(None),
            Ok(Frame::Recovered { channel, ok }) => {
                if let Some(l) = self.link.as_mut() {
                    l.handle_recovered(&channel, ok);
                }
                return Ok(None);
            }
            Ok(Frame::Event { channel, seq, source, payload }) => (channel, seq, source, payload),
            Err(FrameError { error, counted }) => {
                if counted {
                    self.engine.record_invalid();
                }
                return Err(error);
            }
        };
        let seq_check = match (channel, seq) {
            (Some(ch), Some(seq)) => self.observe_seq(ch, seq),
            _ => None,
        };
        if let (Some(share), Some(ch)) = (self.share.as_ref(), channel) {
            if !share.wants(ch) {
                return Ok(None); // another tab's channel (a shared connection carries them all)
            }
        }
        if seq_check == Some(SeqCheck::Duplicate) {
            // A replay of what this channel already delivered (overlapping recovery).
            self.engine.record_duplicate();
            return Ok(Some(Ingested::Duplicate));
        }
        let Some(source) = source else {
            self.engine.record_invalid();
            return Err(Error::new(
                ErrorCode::WrongType,
                self.transport_name,
                "frame payload has no recognisable shape",
            ));
        };
        self.engine.handle_scanned(now, source, text, payload).map(Some)
    }

    // ---- views --------------------------------------------------------------------------------

    pub fn subscribe(&mut self, now: Millis, view: View) -> ViewHandle {
        let h = self.views.subscribe(view);
        self.sync_at.get_or_insert(now);
        self.drive(now);
        h
    }

    pub fn unsubscribe(&mut self, now: Millis, handle: ViewHandle) {
        self.views.unsubscribe(handle);
        self.sync_at.get_or_insert(now);
        self.drive(now);
    }

    /// Replaces the scope: later events are judged against it; open views move to its channels.
    #[cfg(feature = "serde_json")]
    pub fn set_scope(&mut self, now: Millis, scope: &Value) -> Result<(), Error> {
        self.set_scope_text(now, &crate::key::value_json(scope))
    }

    /// [`Realtime::set_scope`] from the scope's JSON text.
    pub fn set_scope_text(&mut self, now: Millis, scope: &str) -> Result<(), Error> {
        self.engine.set_scope_text(scope)?;
        self.views.set_factory(self.engine.config().scope_get("factoryId").map(str::to_string));
        self.sync_at.get_or_insert(now);
        self.drive(now);
        Ok(())
    }

    // ---- a JS-held connector ----------------------------------------------------------------------

    /// Attaches a JS-held connector under the caller's `id` (replacing any other, which is dropped
    /// without further outputs: its JS side releases its own handles); it is told to open the
    /// channels the views need on the next tick. Facts carrying another id are ignored, so give each attach a
    /// new one. `tables`/`filter`: see [`ConnectorOptions`].
    pub fn attach_connector(&mut self, now: Millis, id: u32, tables: Vec<String>, filter: Option<String>) {
        let opts = ConnectorOptions {
            tables,
            filter,
            id_column: self.engine.config().primary_key.first().cloned().unwrap_or_else(|| "id".into()),
            scope_column: snake_case("factoryId"),
        };
        // Its channels open on the next tick, like any channel change: the connector's JS side has
        // returned from attaching by then.
        self.connector = Some((id, Connector::new(opts)));
        self.connector_shared = false;
        self.sync_at.get_or_insert(now);
        self.drive(now);
    }

    /// `shareConnection`: connector `id` (just attached) is shared: only the leader tab's opens
    /// channels, every tab's, and forwards what they deliver ([`Realtime::connector_ingest`]).
    /// `client`: its client has a connection of its own (centrifuge-js), which the core then holds:
    /// connected in the leader tab only ([`Connector::hold_client`]).
    pub fn share_connector(&mut self, now: Millis, id: u32, client: bool) {
        let leads = self.is_share_leader();
        if self.share.is_none() {
            return;
        }
        let Some(c) = self.connector_mut(id) else { return };
        if client {
            c.hold_client(leads);
        }
        self.connector_shared = true;
        // A follower's status is the leader's (as for `connect`).
        if let Some(s) = self.share.as_ref().filter(|s| !s.is_leader()).and_then(Share::leader_status) {
            self.set_status(s);
        }
        self.sync_at.get_or_insert(now);
        self.drive(now);
    }

    /// Sharing is on and the attached connector is shared: `Some(leads)`.
    fn connector_share(&self) -> Option<bool> {
        self.share.as_ref().filter(|_| self.connector_shared && self.connector.is_some()).map(Share::is_leader)
    }

    /// A payload connector `id`'s client delivered on `channel` (`port.ingest`). Without
    /// `shareConnection` it is [`Realtime::ingest_text`]. Shared, the leader hands it to the other
    /// tabs first as a wire event frame `{ channel, source, payload }` (what `share_frame` applies),
    /// and each tab, this one included, applies it only when `channel` is one of its own.
    /// `seq`: the payload's position in its channel's stream (a Centrifugo publication's
    /// `offset`), carried in the frame and kept by every tab for a takeover's `since`.
    pub fn connector_ingest(
        &mut self,
        now: Millis,
        channel: &str,
        seq: Option<u64>,
        source: &str,
        text: &str,
    ) -> Result<Option<Ingested>, Error> {
        let Some(leads) = self.connector_share() else { return self.ingest_text(now, source, text).map(Some) };
        if leads {
            let quote = |s: &str| {
                let mut q = String::new();
                crate::key::write_string(&mut q, s);
                q
            };
            let mut at = String::new();
            if let Some(n) = seq {
                at.push_str(",\"seq\":");
                crate::scan::push_uint(&mut at, n);
            }
            let frame = crate::concat(&[
                "{\"channel\":",
                &quote(channel),
                &at,
                ",\"source\":",
                &quote(source),
                ",\"payload\":",
                text,
                "}",
            ]);
            self.outputs.push_back(Output::Share(Shared::Frame(frame)));
            if let (Some(s), Some(n)) = (self.share.as_mut(), seq) {
                s.observe(channel, n); // as every other tab does when it reads the frame
            }
        }
        if !self.share.as_ref().is_some_and(|s| s.wants(channel)) {
            self.drive(now);
            return Ok(None); // another tab's channel
        }
        self.ingest_text(now, source, text).map(Some)
    }

    /// The app disconnected connector `id`: every channel it holds is closed, status `disconnected`.
    pub fn detach_connector(&mut self, now: Millis, id: u32) {
        if let Some(c) = self.connector_mut(id) {
            c.detach();
            if self.link.is_none() {
                self.returns.clear(); // its returns: nothing is connected to recover
            }
            self.drive(now);
            self.connector = None;
            self.connector_shared = false;
        }
    }

    /// A fact about one of connector `id`'s channels.
    pub fn connector_channel(&mut self, now: Millis, id: u32, channel: &str, fact: ChannelFact) {
        if let Some((_, c)) = self.connector.as_mut().filter(|(i, _)| *i == id) {
            c.handle_channel(now, channel, fact, &self.views);
        }
        self.drive(now);
    }

    /// Connector `id`'s client state.
    pub fn connector_client(&mut self, now: Millis, id: u32, state: ClientState) {
        if let Some((_, c)) = self.connector.as_mut().filter(|(i, _)| *i == id) {
            c.handle_client(now, state, &self.views);
        }
        self.drive(now);
    }

    fn connector_mut(&mut self, id: u32) -> Option<&mut Connector> {
        self.connector.as_mut().filter(|(i, _)| *i == id).map(|(_, c)| c)
    }

    // ---- the transport --------------------------------------------------------------------------

    /// Starts a connection policy for our own transport (replacing any previous one). `opts` are the
    /// connect call's options, merged over the `createRealtime` options.
    #[cfg(feature = "serde_json")]
    pub fn connect(&mut self, now: Millis, transport: Transport, opts: &Value) -> Result<(), Error> {
        self.connect_text(now, transport, &crate::key::value_json(opts))
    }

    /// [`Realtime::connect`] with the connect options' JSON text. A member of `opts` (even `null`)
    /// replaces the `createRealtime` option of that name.
    pub fn connect_text(&mut self, now: Millis, transport: Transport, opts: &str) -> Result<(), Error> {
        let (mut base, mut over) = (Tape::new(), Tape::new());
        scan_options(&mut base, &self.options)?;
        scan_options(&mut over, opts)?;
        let (bx, ox) = (self.options.as_str(), opts);
        let merged = |k: &str| -> Option<(&Tape, &str, u32)> {
            match over.get(ox, 0, k) {
                Some(v) => Some((&over, ox, v)),
                None => base.get(bx, 0, k).map(|v| (&base, bx, v)),
            }
        };
        // `null` (or a non-finite number, JSON's null) means the default.
        let present =
            |k: &str| merged(k).filter(|&(t, x, v)| t.kind(v) != Kind::Null && t.f64(x, v).is_none_or(f64::is_finite));
        let mut cfg = LinkConfig::default();
        let bad = |m: String| Error::new(ErrorCode::InvalidOption, "options", m);
        // Read by hand, not with serde's derived Deserialize: that path pulls serde's error texts and
        // with them float formatting (~18 KB of wasm, docs/SIZE.md).
        if let Some((t, x, b)) = present("backoff") {
            let [initial, max, attempts] =
                uint_fields(t, x, b, "backoff", &["initialMs", "maxMs", "maxAttempts"]).map_err(bad)?;
            let d = &mut cfg.backoff;
            d.initial_ms = initial.map_or(d.initial_ms, clamp_ms);
            d.max_ms = max.map_or(d.max_ms, clamp_ms);
            if let Some(a) = attempts {
                d.max_attempts = u32::try_from(a).map_err(|_| bad("backoff.maxAttempts is too large".into()))?;
            }
        }
        if let Some((t, x, h)) = present("heartbeat") {
            let [interval, timeout] = uint_fields(t, x, h, "heartbeat", &["intervalMs", "timeoutMs"]).map_err(bad)?;
            let d = &mut cfg.heartbeat;
            d.interval_ms = interval.map_or(d.interval_ms, clamp_ms);
            d.timeout_ms = timeout.map_or(d.timeout_ms, clamp_ms);
        }
        if let Some((t, _, e)) = present("enabled") {
            cfg.enabled = as_bool(t, e).ok_or_else(|| bad("enabled must be a boolean".into()))?;
        }
        if let Some((t, x, p)) = present("pollingMs") {
            cfg.polling_ms = Some(clamp_ms(
                t.f64(x, p).filter(|x| *x >= 0.0).ok_or_else(|| bad("pollingMs must be a number".into()))? as u64,
            ));
        }
        cfg.seed = merged("seed").and_then(|(t, x, v)| as_u64(t, x, v)).unwrap_or(now ^ 0x9e37_79b9_7f4a_7c15);
        cfg.transport = transport;
        self.transport_name = match transport {
            Transport::Ws => "websocket",
            Transport::Sse => "eventsource",
        };
        if let Some(mut old) = self.link.take() {
            old.disconnect(now);
            self.drain_link(now, &mut old);
        }
        let mut link = Link::new(cfg.normalized());
        link.set_visible(now, self.visible);
        link.set_channels(now, self.link_channels());
        match self.share.as_ref().map(|s| (s.role(), s.leader_status())) {
            None => link.connect(now),
            Some((Role::Leader, _)) => self.lead(now, &mut link),
            // A follower connects nothing; its status is the leader's.
            Some((Role::Follower, status)) => {
                if let Some(s) = status {
                    self.set_status(s);
                }
            }
        }
        self.link = Some(link);
        self.drive(now);
        Ok(())
    }

    /// The app disconnected: the transport closes and polling stops; status `disconnected`.
    pub fn disconnect(&mut self, now: Millis) {
        if let Some(mut l) = self.link.take() {
            l.disconnect(now);
            self.drain_link(now, &mut l);
        }
        self.set_status(Status::Disconnected);
        self.drive(now);
    }

    pub fn transport_open(&mut self, now: Millis) {
        if let Some(l) = self.link.as_mut() {
            l.handle_open(now);
        }
        self.drive(now);
    }

    pub fn transport_close(&mut self, now: Millis, code: Option<u16>) {
        if let Some(l) = self.link.as_mut() {
            l.handle_close(now, code);
        }
        self.drive(now);
    }

    /// A reconnect intent from the page (`online`) or the app (auth change).
    pub fn intent(&mut self, now: Millis, intent: Intent, priority: Priority) {
        if let Some(l) = self.link.as_mut() {
            l.intent(now, intent, priority);
        }
        self.drive(now);
    }

    /// `document.visibilityState`: the engine flushes on visible, the link checks its socket.
    pub fn set_visible(&mut self, now: Millis, visible: bool) {
        self.visible = visible;
        self.connector_poll.set_visible(now, visible);
        self.engine.set_visible(now, visible);
        if let Some(l) = self.link.as_mut() {
            l.set_visible(now, visible);
        }
        self.drive(now);
    }

    /// A status from outside the link: what a JS-held connector's facts add up to
    /// (`connector.rs`). Every connector status enters here.
    pub fn external_status(&mut self, now: Millis, status: Status) {
        self.apply_external_status(now, status);
        self.drive(now);
    }

    // ---- one connection per browser (`shareConnection`, docs/SHARING.md) -------------------------

    /// The election's verdict (the shim elects with Web Locks): who leads is an input, what that
    /// means is decided here. The first call turns sharing on. A leader connects the transport of
    /// the app's `connect*` call (resuming from the seqs every tab saw when another tab led before)
    /// and subscribes the union of every tab's channels; a follower closes any transport it held
    /// and from then on applies what the leader forwards.
    pub fn share_role(&mut self, now: Millis, role: Role) {
        let fresh = self.share.is_none();
        let share = self.share.get_or_insert_with(Share::new);
        if fresh {
            share.set_local(self.views.channels());
        } else if share.role() == role {
            return;
        }
        share.set_role(role);
        match role {
            Role::Leader => {
                self.share_out(Shared::Status(self.status));
                if let Some(mut l) = self.link.take() {
                    self.lead(now, &mut l);
                    self.link = Some(l);
                }
                // A JS-held connector (supabase-js) opens every tab's channels with this tab's
                // client; after another tab led, each comes back as a return (no replay).
                // A client with a connection of its own (centrifuge-js) connects now, and its
                // channels subscribe from the positions every tab kept (`since`): what the
                // handover missed is replayed, not refetched.
                let union = self.link_channels();
                let led_before = self.share.as_ref().is_some_and(Share::led_before);
                let since = self.share.as_ref().map(Share::positions).unwrap_or_default();
                if let Some((_, c)) = self.connector.as_mut().filter(|_| self.connector_shared) {
                    if c.holds_client() {
                        c.hold_client(true);
                    }
                    if led_before {
                        c.take_over(now, union, since, &self.views);
                    } else {
                        c.set_wanted(now, union, &self.views);
                    }
                    let s = c.status();
                    self.apply_external_status(now, s);
                }
            }
            Role::Follower => {
                let status = self.status;
                if let Some(l) = self.link.as_mut() {
                    let since = l.since();
                    l.disconnect(now);
                    for (ch, seq) in since {
                        share.observe(&ch, seq);
                    }
                    // A leader existed (this tab): whoever leads next takes over, with recovery.
                    share.set_leader_status(status);
                }
                if let Some((_, c)) = self.connector.as_mut().filter(|_| self.connector_shared) {
                    // Its channels close (supabase-js drops the socket with the last one); the
                    // new leader's client opens them. Polling is the leader's too.
                    c.set_wanted(now, SortedSet::new(), &self.views);
                    if c.holds_client() {
                        c.hold_client(false);
                    }
                    self.connector_poll.stop();
                    if let Some(s) = self.share.as_mut() {
                        s.set_leader_status(status);
                    }
                }
            }
        }
        self.drive(now);
    }

    /// Sharing is on and this tab leads.
    pub fn is_share_leader(&self) -> bool {
        self.share.as_ref().is_some_and(Share::is_leader)
    }

    pub fn share(&self) -> Option<&Share> {
        self.share.as_ref()
    }

    /// Another tab's channel set (it announced its views' channels); the leader subscribes them too.
    pub fn share_channels(&mut self, now: Millis, tab: &str, channels: impl IntoIterator<Item = String>) {
        if self.share.as_mut().is_some_and(|s| s.set_remote(tab, channels)) {
            self.sync_at.get_or_insert(now);
        }
        self.drive(now);
    }

    /// Another tab is gone (closed, crashed, disposed): channels only it needed are released.
    pub fn share_forget(&mut self, now: Millis, tab: &str) {
        if self.share.as_mut().is_some_and(|s| s.forget(tab)) {
            self.sync_at.get_or_insert(now);
        }
        self.drive(now);
    }

    /// A frame the leader forwarded, as its transport received it: applied with this tab's views,
    /// scope, rules and window, its `seq` remembered for a takeover. Ignored unless this tab is a
    /// follower whose app connected.
    pub fn share_frame(&mut self, now: Millis, text: &str) -> Result<Option<Ingested>, Error> {
        if !self.is_share_follower() {
            return Ok(None);
        }
        let r = self.frame(now, text);
        self.drive(now);
        r
    }

    /// The leader's connection status: every tab's `rt.status()`.
    pub fn share_status(&mut self, now: Millis, status: Status) {
        let Some(share) = self.share.as_mut().filter(|s| !s.is_leader()) else { return };
        share.set_leader_status(status);
        if self.link.is_some() || self.connector_share().is_some() {
            self.set_status(status);
        }
        self.drive(now);
    }

    /// A recovery outcome the leader forwarded: events may have been missed on `channels` (`None`:
    /// on all of them). This tab's views of those channels refetch once.
    pub fn share_recover(&mut self, now: Millis, channels: Option<&[String]>) {
        if !self.is_share_follower() {
            return;
        }
        let keys = match channels {
            None => self.views.active_keys(),
            Some(chs) => self.views.keys_for_channels(chs),
        };
        if !keys.is_empty() {
            self.engine.refetch(now, keys);
        }
        self.drive(now);
    }

    /// `shareConnection`, a stream position: one of this tab's connector's channels joined at it
    /// (centrifuge-js `streamPosition`; the leader hands it to the other tabs), or the leader
    /// forwarded one (a follower). Every tab keeps it, so whoever leads next subscribes from it
    /// (`since`). Ignored unless a shared connector is attached.
    pub fn share_position(&mut self, now: Millis, channel: &str, pos: Position) {
        if self.connector_share().is_none() {
            return;
        }
        if let Some(s) = self.share.as_mut() {
            s.observe_position(channel, &pos);
        }
        self.share_out(Shared::Position(channel.to_owned(), pos));
        self.drive(now);
    }

    /// Another tab's last seqs and whether it knew of a leader (announced when a tab joins): a
    /// channel this tab has no seq for takes that tab's.
    pub fn share_merge_seen(&mut self, seen: impl IntoIterator<Item = (String, u64)>, led_before: bool) {
        if let Some(s) = self.share.as_mut() {
            s.merge_seen(seen, led_before);
        }
    }

    /// Another tab's stream epochs (announced with its seqs): a channel this tab has no epoch
    /// for takes that tab's.
    pub fn share_merge_epochs(&mut self, epochs: impl IntoIterator<Item = (String, String)>) {
        if let Some(s) = self.share.as_mut() {
            s.merge_epochs(epochs);
        }
    }

    /// Sharing is on, this tab follows, and its app connected (a transport or a connector).
    fn is_share_follower(&self) -> bool {
        (self.link.is_some() || self.connector_share().is_some()) && self.share.as_ref().is_some_and(|s| !s.is_leader())
    }

    /// What the link subscribes: this tab's channels, plus every other tab's when shared.
    fn link_channels(&self) -> SortedSet<String> {
        let local = self.views.channels();
        match &self.share {
            Some(s) => s.union(&local),
            None => local,
        }
    }

    /// Starts `link` as the shared connection's leader: a takeover (a leader existed before)
    /// resubscribes with `since` from the seqs this tab saw and recovers the rest.
    fn lead(&mut self, now: Millis, link: &mut Link) {
        link.set_channels(now, self.link_channels());
        match self.share.as_ref() {
            Some(s) if s.led_before() => link.resume(now, s.seen().to_vec()),
            _ => link.connect(now),
        }
    }

    fn observe_seq(&mut self, channel: &str, seq: u64) -> Option<SeqCheck> {
        if let Some(s) = self.share.as_mut() {
            s.observe(channel, seq);
        }
        self.link.as_mut().map(|l| l.handle_seq(channel, seq))
    }

    fn share_out(&mut self, m: Shared) {
        if self.is_share_leader() {
            self.outputs.push_back(Output::Share(m));
        }
    }

    fn apply_external_status(&mut self, now: Millis, status: Status) {
        self.set_status(status);
        self.connector_poll.follow(now, status, self.visible);
    }

    // ---- time -----------------------------------------------------------------------------------

    pub fn poll_timeout(&self) -> Option<Millis> {
        // Straight-line (the glue asks after every call): no array iterator at opt-level z.
        let t = earliest(self.engine.poll_timeout(), self.returns.poll_timeout());
        let t = earliest(earliest(t, self.sync_at), self.connector_poll.next());
        let t = earliest(t, self.link.as_ref().and_then(Link::poll_timeout));
        earliest(t, self.connector.as_ref().and_then(|(_, c)| c.poll_timeout()))
    }

    pub fn handle_timeout(&mut self, now: Millis) {
        if self.sync_at.is_some_and(|t| t <= now) {
            self.sync_at = None;
            self.sync_channels(now);
        }
        if let Some((_, c)) = self.connector.as_mut() {
            c.handle_timeout(now, &self.views);
        }
        if self.connector_poll.fire(now, self.visible) {
            self.share_out(Shared::Recover(None)); // the other tabs' views are polled with ours
            self.refetch_active(now);
        }
        self.engine.handle_timeout(now);
        if let Some(l) = self.link.as_mut() {
            l.handle_timeout(now);
        }
        self.drive(now);
    }

    /// A mutation went pending with these key prefixes (JSON array): see [`Engine::mutation_started`].
    pub fn mutation_started(&mut self, id: crate::hold::MutationId, keys: &str) -> Result<(), Error> {
        self.engine.mutation_started(id, keys)
    }

    /// A mutation settled: what waited for it goes out now (see [`Engine::mutation_settled`]).
    pub fn mutation_settled(&mut self, now: Millis, id: crate::hold::MutationId) {
        self.engine.mutation_settled(now, id);
        self.drive(now);
    }

    /// Flushes now (`rt.flush()`).
    pub fn flush(&mut self, now: Millis) {
        self.engine.flush(now);
        self.drive(now);
    }

    /// Flushes, then stops the transport, polling and the connector (`rt.dispose()`).
    pub fn dispose(&mut self, now: Millis) {
        self.connector_poll.stop();
        self.engine.flush(now);
        if let Some(id) = self.connector.as_ref().map(|(id, _)| *id) {
            self.detach_connector(now, id);
        }
        self.disconnect(now);
    }

    // ---- outputs --------------------------------------------------------------------------------

    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// Gives a plan from [`Output::Plan`] back once it is applied ([`Engine::recycle_plan`]).
    pub fn recycle_plan(&mut self, plan: FlushPlan) {
        self.engine.recycle_plan(plan);
    }

    /// Queues an error for `onError` behind the outputs already waiting, so the glue reports bad
    /// input in order with everything else, from its one drain loop.
    pub fn report_error(&mut self, e: Error) {
        self.outputs.push_back(Output::Error(e));
    }

    /// Refetches every active view's queries once (through the window, so a recovery and a poll
    /// that meet refetch each key once).
    fn refetch_active(&mut self, now: Millis) {
        let keys = self.views.active_keys();
        if !keys.is_empty() {
            self.engine.refetch(now, keys);
        }
    }

    fn set_status(&mut self, s: Status) {
        if s != self.status {
            self.status = s;
            self.outputs.push_back(Output::Status(s));
            if self.share.as_ref().is_some_and(Share::is_leader) {
                self.outputs.push_back(Output::Share(Shared::Status(s)));
            }
        }
    }

    /// Moves everything the parts produced to the output queue, routing what belongs elsewhere.
    fn drive(&mut self, now: Millis) {
        if let Some(mut l) = self.link.take() {
            self.drain_link(now, &mut l);
            self.link = Some(l);
        }
        self.drain_connector(now);
        self.release_returns(now);
        while let Some(p) = self.engine.poll_plan() {
            self.outputs.push_back(Output::Plan(p));
        }
    }

    /// Hands a changed channel set to the link (subscribe/unsubscribe frames) and to the connector
    /// (channels to open and close).
    fn sync_channels(&mut self, now: Millis) {
        let diff = self.views.poll_channels();
        if self.share.is_some() {
            // Another tab's channels may have changed too: the link subscribes the union.
            let channels = self.link_channels();
            let local = diff.is_some().then(|| self.views.channels());
            if let Some(share) = self.share.as_mut() {
                if let Some(local) = local {
                    share.set_local(local);
                    // This tab's set changed: the shim announces it to the other tabs.
                    self.outputs.push_back(Output::Share(Shared::LocalChannels));
                }
                share.retain_seen(&channels);
            }
            if let Some(l) = self.link.as_mut() {
                l.set_channels(now, channels);
            }
        } else if diff.is_some() {
            if let Some(l) = self.link.as_mut() {
                l.set_channels(now, self.views.channels());
            }
        }
        // Always: the connector may have attached after the last diff; an unchanged set is a no-op.
        // Shared, the leader's connector opens every tab's channels, a follower's none.
        let wanted = match self.connector_share() {
            None => self.views.channels(),
            Some(true) => self.link_channels(),
            Some(false) => SortedSet::new(),
        };
        if let Some((_, c)) = self.connector.as_mut() {
            c.set_wanted(now, wanted, &self.views);
        }
    }

    fn drain_connector(&mut self, now: Millis) {
        let Some(id) = self.connector.as_ref().map(|(id, _)| *id) else { return };
        while let Some(out) = self.connector.as_mut().and_then(|(_, c)| c.poll_output()) {
            match out {
                ConnectorOutput::Open(spec) => self.outputs.push_back(Output::OpenChannel(id, spec)),
                ConnectorOutput::Close(name) => self.outputs.push_back(Output::CloseChannel(id, name)),
                ConnectorOutput::Connection(up) => self.outputs.push_back(Output::Share(Shared::Connection(id, up))),
                // A follower's status is the leader's, not its idle connector's.
                ConnectorOutput::Status(s) if self.connector_share() != Some(false) => {
                    self.apply_external_status(now, s)
                }
                ConnectorOutput::Status(_) => {}
                ConnectorOutput::Returned { channel, settle_ms } => {
                    self.returns.hold([channel]);
                    self.returns.settle(now, settle_ms);
                }
            }
        }
        while let Some(p) = self.engine.poll_plan() {
            self.outputs.push_back(Output::Plan(p));
        }
    }

    fn drain_link(&mut self, now: Millis, l: &mut Link) {
        while let Some(out) = l.poll_output() {
            match out {
                LinkOutput::Connect => self.outputs.push_back(Output::Connect),
                LinkOutput::Close => self.outputs.push_back(Output::Close),
                LinkOutput::Send(s) => self.outputs.push_back(Output::Send(s)),
                // A follower's status is the leader's, not its idle link's.
                LinkOutput::Status(s) if self.share.as_ref().is_none_or(Share::is_leader) => self.set_status(s),
                LinkOutput::Status(_) => {}
                LinkOutput::Recover(RecoverScope::All) | LinkOutput::Poll => {
                    self.returns.clear(); // every view is refetched anyway
                    self.share_out(Shared::Recover(None));
                    let keys = self.views.active_keys();
                    if !keys.is_empty() {
                        self.engine.refetch(now, keys);
                    }
                }
                LinkOutput::Recover(RecoverScope::Channels(chs)) => self.returns.hold(chs),
                LinkOutput::Error { code, message } => {
                    let code = match code.as_str() {
                        "forbidden" => ErrorCode::Forbidden,
                        _ => ErrorCode::Unauthorized,
                    };
                    self.outputs.push_back(Output::Error(Error::new(code, self.transport_name, message)));
                }
            }
        }
        while let Some(p) = self.engine.poll_plan() {
            self.outputs.push_back(Output::Plan(p));
        }
    }

    /// Refetches the batch of channels that came back once nothing holds it (`recovery.rs`), and
    /// tells the other tabs which channels they were (a shared connection's recovery outcome).
    fn release_returns(&mut self, now: Millis) {
        let waiting = self.link.as_ref().is_some_and(Link::is_recovering);
        if let Some(chs) = self.returns.release(now, waiting) {
            let keys = self.views.keys_for_channels(&chs);
            self.share_out(Shared::Recover(Some(chs)));
            if !keys.is_empty() {
                self.engine.refetch(now, keys);
            }
        }
        while let Some(p) = self.engine.poll_plan() {
            self.outputs.push_back(Output::Plan(p));
        }
    }
}

/// Longest duration a connection option may ask for: one day. Larger values (up to `u64::MAX`,
/// which JS can send) are clamped, so no later sum or `± 10 %` of them can overflow (issue 10:
/// `backoff.maxMs` near `u64::MAX` overflowed in the polling retry).
const MAX_OPTION_MS: u64 = 86_400_000;

fn clamp_ms(ms: u64) -> u64 {
    ms.min(MAX_OPTION_MS)
}

/// The named fields of option object `v` (others ignored), each absent or a non-negative integer.
fn uint_fields<const N: usize>(
    t: &Tape,
    x: &str,
    v: u32,
    what: &str,
    names: &[&str; N],
) -> Result<[Option<u64>; N], String> {
    if t.kind(v) != Kind::Object {
        return Err(crate::concat(&[what, " must be an object"]));
    }
    let mut out = [None; N];
    for (slot, name) in out.iter_mut().zip(names) {
        if let Some(n) = t.get(x, v, name) {
            *slot = Some(
                as_u64(t, x, n).ok_or_else(|| crate::concat(&[what, ".", name, " must be a non-negative integer"]))?,
            );
        }
    }
    Ok(out)
}

/// The earlier of two deadlines, either possibly absent.
fn earliest(a: Option<Millis>, b: Option<Millis>) -> Option<Millis> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drives `rt` through creation, a view, payloads, a connector that goes down (polling, whose
    /// jitter comes from the seed) and its return; everything it put out, with the deadlines.
    fn run(mut rt: Realtime) -> Vec<String> {
        let mut log = Vec::new();
        let drain = |rt: &mut Realtime, log: &mut Vec<String>| {
            while let Some(o) = rt.poll_output() {
                log.push(format!("{o:?}"));
            }
            log.push(format!("timeout {:?} status {:?}", rt.poll_timeout(), rt.status()));
        };
        let mut now = 1_000;
        rt.set_visible(now, true);
        drain(&mut rt, &mut log);
        rt.subscribe(now, View::list("work_orders"));
        rt.subscribe(now, View::doc("work_orders", "7"));
        rt.attach_connector(now, 1, vec![], None);
        drain(&mut rt, &mut log);
        for text in [
            r#"{"table":"work_orders","eventType":"UPDATE","commit_timestamp":"2025-01-01T00:00:00Z","new":{"id":7,"status":"done"},"old":{"id":7}}"#,
            r#"{"table":"work_orders","eventType":"INSERT","new":{"id":8},"old":{}}"#,
        ] {
            log.push(format!("{:?}", rt.ingest_text(now, "supabase", text).map(|_| ())));
        }
        for ch in ["doc:work_orders:7", "list:work_orders"] {
            rt.connector_channel(now, 1, ch, ChannelFact::Joined(crate::connector::Replay::Unknown));
        }
        drain(&mut rt, &mut log);
        for ch in ["doc:work_orders:7", "list:work_orders"] {
            rt.connector_channel(now, 1, ch, ChannelFact::Down);
        }
        for _ in 0..6 {
            drain(&mut rt, &mut log);
            now = rt.poll_timeout().unwrap_or(now + 1_000).max(now + 1);
            rt.handle_timeout(now);
        }
        rt.connector_client(now, 1, ClientState::Connected);
        drain(&mut rt, &mut log);
        log.push(format!(
            "{:?} {:?} {} {:?}",
            rt.engine().config(),
            rt.engine().stats(),
            rt.options,
            rt.connector_poll
        ));
        log
    }

    #[test]
    fn no_options_build_what_the_reader_builds() {
        for text in ["{}", "null"] {
            let fast = run(Realtime::from_text(0, text).unwrap());
            assert_eq!(fast, run(Realtime::read(0, text).unwrap()), "{text}");
            assert!(fast.iter().any(|l| l.starts_with("Plan")), "{text}: the run reaches a plan");
        }
        // and what any other text with no option in it builds (the reader's path)
        assert_eq!(
            run(Realtime::from_text(0, "{}").unwrap()),
            run(Realtime::from_text(0, r#"{"x":1}"#).unwrap())[..]
                .iter()
                .map(|l| l.replace(r#"{"x":1}"#, "{}"))
                .collect::<Vec<_>>()
        );
    }
}
