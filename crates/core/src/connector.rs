//! A JS-held connector: a client the app owns (supabase-js, centrifuge-js, or any other that
//! subscribes per channel), and every decision about it. The connector reports facts with the
//! time; this machine answers with the channels to open and close, the status, and its deadlines.
//! The JS side (`js/channelSync.js` and the connectors) applies what it is told and holds the
//! client's handles; it decides nothing (issue 11). docs/CONNECTORS.md is the JS interface.
//!
//! Facts in: [`Connector::handle_channel`] (`Joined`, `Down`, `Closed`, `Left`, `Refused`),
//! [`Connector::handle_client`] (the client's connection state), and the wanted channel set
//! ([`Connector::set_wanted`], from the views, synced on the next tick by `Realtime`).
//! Outputs: [`ConnectorOutput`], drained with [`Connector::poll_output`]; one deadline,
//! [`Connector::poll_timeout`].
//!
//! The policy, each number once:
//! - a channel that comes back (joined again after it had joined, without the server replaying
//!   what it missed) is a *return*; each return (re)starts a settle window of [`SETTLE_MS`], or
//!   [`SETTLE_WHILE_DOWN_MS`] while other channels that had joined are still down, so channels
//!   returning together after one socket drop refetch each view once (the batch itself is
//!   `recovery.rs`'s, shared with our own transport's recoveries);
//! - a channel the server closed (`Closed`: supabase-js drops such a channel for good) is opened
//!   again [`REOPEN_MS`] after it closed, one at a time: the next waits until the previous one
//!   joined or failed, so a server that closes everything is not hit by every channel at once;
//! - a channel closed on purpose is reopened only once its old handle is gone (`Left`): supabase-js
//!   hands back a leaving channel of the same topic (supabase-js#1440, a StrictMode remount);
//! - the status: see [`Connector::status`].

use crate::sorted::SortedSet;

use crate::link::Status;
use crate::views::{ChannelMeaning, Views};
use crate::Millis;

/// The settle window before channels that came back are recovered (refetched).
pub const SETTLE_MS: Millis = 150;
/// The settle window while other channels that had joined are still down: they usually come back
/// in the same reconnect, and waiting for them refetches each view once instead of twice.
pub const SETTLE_WHILE_DOWN_MS: Millis = 4 * SETTLE_MS;
/// How long after the server closed a channel it is opened again.
pub const REOPEN_MS: Millis = 1_000;

/// What the connector's client says about the server's history when a channel joins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replay {
    /// Nothing (supabase-js: postgres_changes has no replay).
    Unknown,
    /// The server replayed what the channel missed (Centrifugo `wasRecovering && recovered`).
    Replayed,
    /// The server tried and could not (Centrifugo `wasRecovering && !recovered`): refetch.
    Lost,
}

/// A fact about one channel, reported by the connector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelFact {
    /// The client's channel is subscribed (supabase `SUBSCRIBED`, centrifuge `subscribed`).
    Joined(Replay),
    /// It is down and the client rejoins it by itself (`CHANNEL_ERROR`, `TIMED_OUT`).
    Down,
    /// The server closed it and the client will not rejoin it (supabase `CLOSED` not caused by us).
    Closed,
    /// The handle of a channel we were told to close is gone (`removeChannel` resolved).
    Left,
    /// The channel cannot be opened (a topic held by a channel this connector did not create).
    Refused,
}

impl ChannelFact {
    /// The connector interface's strings (docs/CONNECTORS.md).
    pub fn parse(s: &str) -> Option<ChannelFact> {
        Some(match s {
            "joined" => ChannelFact::Joined(Replay::Unknown),
            "replayed" => ChannelFact::Joined(Replay::Replayed),
            "lost" => ChannelFact::Joined(Replay::Lost),
            "down" => ChannelFact::Down,
            "closed" => ChannelFact::Closed,
            "left" => ChannelFact::Left,
            "refused" => ChannelFact::Refused,
            _ => return None,
        })
    }
}

/// The client's own connection state, for connectors whose client has one (centrifuge-js).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientState {
    Connecting,
    Connected,
    /// The app disconnected the client; subscriptions stay registered on it.
    Disconnected,
    /// The user signed out (supabase auth): every channel is closed until the next state.
    SignedOut,
    /// Signed in again, for a client with no connection state of its own (supabase-js): the
    /// channels' facts alone tell the status again.
    SignedIn,
    /// The client gave up for good and will not reconnect by itself (centrifuge-js after a
    /// server's final disconnect, e.g. 3500 invalid token): status `error` until the next state.
    Failed,
}

impl ClientState {
    /// The connector interface's strings (docs/CONNECTORS.md).
    pub fn parse(s: &str) -> Option<ClientState> {
        Some(match s {
            "connecting" => ClientState::Connecting,
            "connected" => ClientState::Connected,
            "disconnected" => ClientState::Disconnected,
            "signedOut" => ClientState::SignedOut,
            "signedIn" => ClientState::SignedIn,
            "failed" => ClientState::Failed,
            _ => return None,
        })
    }
}

/// How a connector's channels subscribe to table changes (supabase-js `postgres_changes`);
/// connectors that subscribe by channel name alone (centrifuge-js) ignore the bindings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectorOptions {
    /// One binding per table; empty = one binding on the whole schema, without a filter.
    pub tables: Vec<String>,
    /// A filter used as is on every binding (`factory_id=eq.f1`); `None` = the default filters.
    pub filter: Option<String>,
    /// The id column of a doc channel's default filter (the first `primaryKey` column).
    pub id_column: String,
    /// The scope column of list and factory channels' default filter (`factoryId` → `factory_id`).
    pub scope_column: String,
}

/// One table subscription of a channel: `table` (none = the whole schema) and its filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub table: Option<String>,
    pub filter: Option<String>,
}

/// A Centrifugo stream position: the offset of the last publication seen and the stream's epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    pub offset: u64,
    pub epoch: String,
}

/// A channel to open: its name (the supabase-js topic, the Centrifugo channel) and its bindings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelSpec {
    pub name: String,
    pub bindings: Vec<Binding>,
    /// `shareConnection` takeover: the position another tab's client had reached on this channel;
    /// the client subscribes from it (centrifuge-js `since`), so the server replays what the
    /// handover missed. `None`: subscribe from now.
    pub since: Option<Position>,
}

/// What the connector must do, or what changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectorOutput {
    Open(ChannelSpec),
    /// Release this channel's handle, then report `Left`.
    Close(String),
    /// The connector's status changed.
    Status(Status),
    /// This channel came back without a replay: refetch its views once, with the batch, no sooner
    /// than `settle_ms` from now (`recovery.rs`).
    Returned {
        channel: String,
        settle_ms: Millis,
    },
    /// A held client ([`Connector::hold_client`]): connect it (`true`) or disconnect it.
    Connection(bool),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Told to open; not joined yet.
    Opening,
    Joined,
    Down,
    /// Closed by the server at this time; reopened after [`REOPEN_MS`].
    Closed(Millis),
    /// Told to close; its handle is not gone yet.
    Leaving,
    Refused,
}

#[derive(Clone, Copy, Debug)]
struct Chan {
    state: State,
    /// It joined at least once (so its next join is a return).
    ever_joined: bool,
}

/// The machine for one attached connector (see the module docs).
#[derive(Clone, Debug)]
pub struct Connector {
    opts: ConnectorOptions,
    /// The channels told to open and not yet gone, in the order they opened (a few: a `Vec` costs
    /// less wasm than another map instantiation, docs/SIZE.md).
    chans: Vec<(String, Chan)>,
    wanted: SortedSet<String>,
    client: Option<ClientState>,
    ever_connected: bool,
    /// The reopened channel waiting for its answer; the next reopen waits for it.
    reopening: Option<String>,
    status: Option<Status>,
    /// `shareConnection` takeover: channels opened now count as having joined before (the last
    /// leader tab's client held them), so their first join is a return and refetches their views.
    carry: bool,
    /// The positions a takeover subscribes from (`since`), by channel; set only while it opens.
    since: Vec<(String, Position)>,
    /// `shareConnection` with a client that has a connection of its own (centrifuge-js): `Some(up)`
    /// once the core holds that connection, up while this tab leads; `None`: the app holds it.
    held: Option<bool>,
    out: Vec<ConnectorOutput>,
}

impl Connector {
    /// A connector with no channel yet; it reports a status with its first fact or channel sync.
    pub fn new(opts: ConnectorOptions) -> Connector {
        Connector {
            opts,
            chans: Vec::new(),
            wanted: SortedSet::new(),
            client: None,
            ever_connected: false,
            reopening: None,
            status: None,
            carry: false,
            since: Vec::new(),
            held: None,
            out: Vec::new(),
        }
    }

    // ---- facts --------------------------------------------------------------------------------

    /// The channels the open views need now; opens and closes the difference.
    pub fn set_wanted(&mut self, now: Millis, wanted: SortedSet<String>, views: &Views) {
        self.wanted = wanted;
        self.reconcile(now, views);
    }

    /// `shareConnection`: this tab's client takes over channels another tab's client held (the
    /// leader tab went). supabase-js cannot replay, so each channel's first join is a return: its
    /// views refetch once, with the settle window, as after a socket drop.
    /// A channel with a position in `since` (a client that can replay: centrifuge-js) subscribes
    /// from it instead: a join the server `Replayed` refetches nothing. A held client taking over
    /// a connection another tab held is `reconnecting` until it connects, not `connecting`.
    pub fn take_over(&mut self, now: Millis, wanted: SortedSet<String>, since: Vec<(String, Position)>, views: &Views) {
        self.carry = true;
        self.since = since;
        if self.held.is_some() {
            self.ever_connected = true;
        }
        self.set_wanted(now, wanted, views);
        self.carry = false;
        self.since.clear();
    }

    /// `shareConnection` with a client that has a connection of its own (centrifuge-js): from now
    /// on the core holds it, connected while `up` (this tab leads) and disconnected otherwise. A
    /// client that connects while it should not (the app called `connect()` in a follower tab)
    /// is disconnected again: one connection per browser.
    pub fn hold_client(&mut self, up: bool) {
        if self.held != Some(up) {
            self.held = Some(up);
            if up {
                // About to connect: not the `disconnected` of the idle follower it was (the
                // status follows with the channels the caller sets next).
                self.client = Some(ClientState::Connecting);
            }
            self.out.push(ConnectorOutput::Connection(up));
        }
    }

    /// Whether the core holds the client's connection ([`Connector::hold_client`]).
    pub fn holds_client(&self) -> bool {
        self.held.is_some()
    }

    /// A fact about one channel. Facts about channels this machine did not open are ignored, and so
    /// are facts about a channel being closed on purpose (its statuses no longer matter).
    pub fn handle_channel(&mut self, now: Millis, name: &str, fact: ChannelFact, views: &Views) {
        let Some(at) = self.find(name) else { return };
        if self.chans[at].1.state == State::Leaving {
            if fact == ChannelFact::Left {
                self.chans.remove(at);
                self.reconcile(now, views);
            }
            return;
        }
        let others_down = self.chans.iter().any(|(n, c)| n != name && c.ever_joined && c.state != State::Joined);
        let ch = &mut self.chans[at].1;
        let answered = self.reopening.as_deref() == Some(name) && fact != ChannelFact::Down;
        match fact {
            ChannelFact::Joined(replay) => {
                let came_back = ch.ever_joined && ch.state != State::Joined && replay != Replay::Replayed;
                ch.state = State::Joined;
                ch.ever_joined = true;
                self.ever_connected = true;
                if came_back || replay == Replay::Lost {
                    let settle_ms = if others_down { SETTLE_WHILE_DOWN_MS } else { SETTLE_MS };
                    self.out.push(ConnectorOutput::Returned { channel: name.to_string(), settle_ms });
                }
            }
            ChannelFact::Down => {
                if !matches!(ch.state, State::Closed(_)) {
                    ch.state = State::Down;
                }
            }
            ChannelFact::Closed => ch.state = State::Closed(now),
            ChannelFact::Left => {}
            ChannelFact::Refused => ch.state = State::Refused,
        }
        if answered {
            self.reopening = None;
        }
        self.update_status();
    }

    /// The client's connection state.
    pub fn handle_client(&mut self, now: Millis, state: ClientState, views: &Views) {
        if self.held == Some(false) && matches!(state, ClientState::Connecting | ClientState::Connected) {
            self.out.push(ConnectorOutput::Connection(false));
        }
        match state {
            ClientState::Connected => self.ever_connected = true,
            ClientState::Disconnected | ClientState::SignedOut | ClientState::Failed => self.ever_connected = false,
            ClientState::Connecting | ClientState::SignedIn => {}
        }
        self.client = if state == ClientState::SignedIn { None } else { Some(state) };
        self.reconcile(now, views);
    }

    /// Closes every channel (the app disconnected the connector); nothing opens afterwards.
    pub fn detach(&mut self) {
        self.wanted.clear();
        for (name, ch) in std::mem::take(&mut self.chans) {
            if matches!(ch.state, State::Opening | State::Joined | State::Down) {
                self.out.push(ConnectorOutput::Close(name));
            }
        }
        self.reopening = None;
        if self.held.take() == Some(true) {
            self.out.push(ConnectorOutput::Connection(false)); // the core connected it
        }
        self.set_status(Status::Disconnected);
    }

    // ---- time ---------------------------------------------------------------------------------

    /// Its deadline: the next reopen.
    pub fn poll_timeout(&self) -> Option<Millis> {
        if self.reopening.is_some() {
            None
        } else {
            self.next_reopen().map(|(_, at)| at)
        }
    }

    /// Acts on the deadlines that have passed; a spurious call does nothing.
    pub fn handle_timeout(&mut self, now: Millis, views: &Views) {
        if self.reopening.is_none() {
            if let Some((name, at)) = self.next_reopen() {
                if at <= now {
                    let carried = self.find(&name).is_some_and(|i| self.chans.remove(i).1.ever_joined);
                    if self.wanted.contains(&name) && self.may_hold_channels() {
                        self.open(name.clone(), carried, views);
                        self.reopening = Some(name);
                    }
                }
            }
        }
        self.update_status();
    }

    // ---- outputs ------------------------------------------------------------------------------

    pub fn poll_output(&mut self) -> Option<ConnectorOutput> {
        (!self.out.is_empty()).then(|| self.out.remove(0))
    }

    /// The status the facts add up to:
    /// - the client disconnected or signed out: `disconnected`;
    /// - the client is connecting, or a channel is down or closed: `reconnecting` once something
    ///   was connected (a channel joined or the client connected), `connecting` before;
    /// - nothing was connected yet: `connecting`;
    /// - otherwise `connected` (a channel still opening does not hold it back once connected).
    pub fn status(&self) -> Status {
        self.status.unwrap_or(Status::Connecting)
    }

    // ---- inside -------------------------------------------------------------------------------

    fn find(&self, name: &str) -> Option<usize> {
        self.chans.iter().position(|(n, _)| n == name)
    }

    fn may_hold_channels(&self) -> bool {
        self.client != Some(ClientState::SignedOut)
    }

    /// The closed channel to reopen next (the one closed longest ago) and when.
    fn next_reopen(&self) -> Option<(String, Millis)> {
        // Loops here, not adapter chains: each is a monomorphization of its own (docs/SIZE.md).
        let mut best: Option<(&String, Millis)> = None;
        for (n, c) in &self.chans {
            if let State::Closed(at) = c.state {
                let at = at.saturating_add(REOPEN_MS);
                if best.is_none_or(|(bn, bat)| (at, n) < (bat, bn)) {
                    best = Some((n, at));
                }
            }
        }
        best.map(|(n, at)| (n.clone(), at))
    }

    fn reconcile(&mut self, _now: Millis, views: &Views) {
        let wanted: SortedSet<String> = if self.may_hold_channels() { self.wanted.clone() } else { SortedSet::new() };
        let mut gone = Vec::new();
        for (n, _) in &self.chans {
            if !wanted.contains(n) {
                gone.push(n.clone());
            }
        }
        for name in gone {
            let Some(at) = self.find(&name) else { continue };
            match self.chans[at].1.state {
                State::Leaving => {}
                State::Opening | State::Joined | State::Down => {
                    self.chans[at].1.state = State::Leaving;
                    self.out.push(ConnectorOutput::Close(name));
                }
                // The client already dropped it: nothing to release.
                State::Closed(_) | State::Refused => {
                    self.chans.remove(at);
                    if self.reopening.as_deref() == Some(name.as_str()) {
                        self.reopening = None;
                    }
                }
            }
        }
        for name in wanted {
            if self.find(&name).is_none() {
                self.open(name, self.carry, views);
            }
        }
        self.update_status();
    }

    fn open(&mut self, name: String, carried: bool, views: &Views) {
        let bindings = self.bindings(&name, views);
        let since = self.since.iter().find(|(n, _)| *n == name).map(|(_, p)| p.clone());
        self.chans.push((name.clone(), Chan { state: State::Opening, ever_joined: carried }));
        self.out.push(ConnectorOutput::Open(ChannelSpec { name, bindings, since }));
    }

    /// The default filters: a doc channel on its id (on its own table's binding), list and factory
    /// channels on the scope column; a list without a factory, and the whole-schema binding, none.
    fn bindings(&self, name: &str, views: &Views) -> Vec<Binding> {
        let meaning = views.meaning(name);
        let filter_for = |table: Option<&str>| -> Option<String> {
            if let Some(f) = &self.opts.filter {
                return Some(f.clone()).filter(|f| !f.is_empty());
            }
            let table = table?;
            match &meaning {
                Some(ChannelMeaning::Doc { ty, id }) if ty == table => Some(eq_filter(&self.opts.id_column, id)),
                Some(ChannelMeaning::List { factory: Some(f), .. }) | Some(ChannelMeaning::Factory(f)) => {
                    Some(eq_filter(&self.opts.scope_column, f))
                }
                _ => None,
            }
        };
        if self.opts.tables.is_empty() {
            return vec![Binding { table: None, filter: filter_for(None) }];
        }
        let mut out = Vec::new();
        for t in &self.opts.tables {
            out.push(Binding { table: Some(t.clone()), filter: filter_for(Some(t)) });
        }
        out
    }

    fn update_status(&mut self) {
        let s = match self.client {
            Some(ClientState::Disconnected | ClientState::SignedOut) => Status::Disconnected,
            Some(ClientState::Failed) => Status::Error,
            _ => {
                let troubled = self.client == Some(ClientState::Connecting)
                    || self.chans.iter().any(|(_, c)| matches!(c.state, State::Down | State::Closed(_)));
                match (troubled, self.ever_connected) {
                    (true, true) => Status::Reconnecting,
                    (_, false) => Status::Connecting,
                    (false, true) => Status::Connected,
                }
            }
        };
        self.set_status(s);
    }

    fn set_status(&mut self, s: Status) {
        if self.status != Some(s) {
            self.status = Some(s);
            self.out.push(ConnectorOutput::Status(s));
        }
    }
}

/// A realtime `column=eq.value` filter (built without `core::fmt`, as the core's other texts).
fn eq_filter(column: &str, value: &str) -> String {
    crate::concat(&[column, "=eq.", value])
}
