//! One connection per browser (`shareConnection`): what a tab's engine needs to know when the tabs
//! of an origin share one realtime connection. Who leads is an INPUT here (the JS shim elects a
//! leader with Web Locks, `js/share.js`); what the leader subscribes (its own channels plus every
//! other tab's, reference-counted by tab) and what a follower does with a forwarded frame, status
//! or recovery outcome are decided here, in [`crate::Realtime`], with this state.
//!
//! Protocol between the tabs: `docs/SHARING.md`.

use crate::connector::Position;
use crate::link::Status;
use crate::sorted::SortedSet;

/// Which part this engine plays in a shared connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Holds the connection: opens the transport, subscribes the union of every tab's channels,
    /// and forwards what it receives ([`Shared`]).
    Leader,
    /// Holds no connection: applies what the leader forwards.
    Follower,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "leader" => Some(Role::Leader),
            "follower" => Some(Role::Follower),
            _ => None,
        }
    }
}

/// What a leader hands the other tabs, in order (an output of [`crate::Realtime`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shared {
    /// A wire frame exactly as the transport received it (every frame, control frames included).
    Frame(String),
    /// The connection's status changed.
    Status(Status),
    /// A recovery outcome: events may have been missed on these channels (`None`: on every
    /// channel, e.g. a polling tick or a reconnect nothing could replay); each tab refetches its
    /// own views of them once.
    Recover(Option<Vec<String>>),
    /// A connector's channel joined at this stream position (centrifuge-js `streamPosition`):
    /// every tab keeps it, so whoever leads next subscribes from it (`since`).
    Position(String, Position),
    /// Any role: this tab's own channel set changed; the shim announces it to the other tabs.
    LocalChannels,
    /// Any role, for this tab's shim alone: connect (`true`) or disconnect connector `id`'s
    /// client (a client with a connection of its own, held by role: centrifuge-js).
    Connection(u32, bool),
}

/// The sharing state of one engine.
#[derive(Clone, Debug)]
pub struct Share {
    role: Role,
    /// Other tabs' channel sets, by tab id: a channel stays subscribed while any tab (this one
    /// included) needs it. A few tabs: a Vec.
    remote: Vec<(String, SortedSet<String>)>,
    /// The last `seq` seen per channel, from frames this tab received or was forwarded: what a new
    /// leader resubscribes with as `since`. Tens of channels, unordered: a Vec.
    seen: Vec<(String, u64)>,
    /// The stream epoch per channel (Centrifugo), beside `seen`'s offset: a position is both.
    epochs: Vec<(String, String)>,
    /// This tab's own channels as of the last channel sync: frames on other channels are another
    /// tab's and are not applied here.
    local: SortedSet<String>,
    /// The last status the leader reported (a follower's `rt.status()`).
    leader_status: Option<Status>,
    /// A leader existed before (this tab heard one, led itself, or another tab said so): whoever
    /// leads next takes a connection over, with recovery, rather than opening the first one.
    led_before: bool,
}

impl Share {
    /// Sharing starts as a follower: nothing connects until the election makes this tab leader.
    pub fn new() -> Share {
        Share {
            role: Role::Follower,
            remote: Vec::new(),
            seen: Vec::new(),
            epochs: Vec::new(),
            local: SortedSet::new(),
            leader_status: None,
            led_before: false,
        }
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn is_leader(&self) -> bool {
        self.role == Role::Leader
    }

    pub(crate) fn set_role(&mut self, role: Role) {
        self.role = role;
    }

    /// Replaces tab `tab`'s channel set; returns whether the union may have changed.
    pub fn set_remote(&mut self, tab: &str, channels: impl IntoIterator<Item = String>) -> bool {
        let set: SortedSet<String> = channels.into_iter().filter(|c| !c.is_empty()).collect();
        if set.is_empty() {
            return self.forget(tab);
        }
        match self.remote.iter_mut().find(|(t, _)| t == tab) {
            Some((_, old)) if *old == set => false,
            Some((_, old)) => {
                *old = set;
                true
            }
            None => {
                self.remote.push((tab.to_owned(), set));
                true
            }
        }
    }

    /// Tab `tab` is gone (closed, crashed, disposed): its channels are released.
    pub fn forget(&mut self, tab: &str) -> bool {
        let before = self.remote.len();
        self.remote.retain(|(t, _)| t != tab);
        self.remote.len() != before
    }

    /// This tab's channels plus every other tab's: what the leader subscribes.
    pub fn union(&self, local: &SortedSet<String>) -> SortedSet<String> {
        let mut all = SortedSet::new();
        all.extend(local.iter().cloned());
        for (_, set) in &self.remote {
            all.extend(set.iter().cloned());
        }
        all
    }

    /// How many tabs (this one included, when `local` is not empty) need `channel`.
    pub fn ref_count(&self, channel: &str) -> usize {
        self.remote.iter().filter(|(_, s)| s.contains(channel)).count() + usize::from(self.local.contains(channel))
    }

    pub(crate) fn set_local(&mut self, local: SortedSet<String>) {
        self.local = local;
    }

    /// Whether a frame on `channel` is for this tab's views.
    pub fn wants(&self, channel: &str) -> bool {
        self.local.contains(channel)
    }

    /// Records the `seq` a frame carried. The latest one counts, not the highest: after a failed
    /// recovery the server's count may start over, and a `since` above it could never be replayed.
    pub fn observe(&mut self, channel: &str, seq: u64) {
        match self.seen.iter_mut().find(|(c, _)| c == channel) {
            Some((_, s)) => *s = seq,
            None => self.seen.push((channel.to_owned(), seq)),
        }
    }

    /// Another tab's seqs (announced when it joins): fills channels this tab has not seen.
    /// `led_before`: that tab knew of a leader.
    pub fn merge_seen(&mut self, other: impl IntoIterator<Item = (String, u64)>, led_before: bool) {
        self.led_before |= led_before;
        for (ch, seq) in other {
            if self.seen_seq(&ch).is_none() {
                self.seen.push((ch, seq));
            }
        }
    }

    /// Forgets the seqs of channels no tab subscribes any more (as the link forgets an
    /// unsubscribed channel's): a later subscribe starts a new count.
    pub(crate) fn retain_seen(&mut self, subscribed: &SortedSet<String>) {
        self.seen.retain(|(ch, _)| subscribed.contains(ch));
        self.epochs.retain(|(ch, _)| subscribed.contains(ch));
    }

    /// A stream position a connector's channel reported, or the leader forwarded: its offset is
    /// the channel's latest seq, its epoch the stream's.
    pub fn observe_position(&mut self, channel: &str, pos: &Position) {
        self.observe(channel, pos.offset);
        self.set_epoch(channel, &pos.epoch);
    }

    fn set_epoch(&mut self, channel: &str, epoch: &str) {
        match self.epochs.iter_mut().find(|(c, _)| c == channel) {
            Some((_, e)) => epoch.clone_into(e),
            None => self.epochs.push((channel.to_owned(), epoch.to_owned())),
        }
    }

    /// Another tab's epochs (announced when it joins): fills channels this tab has none for.
    pub fn merge_epochs(&mut self, other: impl IntoIterator<Item = (String, String)>) {
        for (ch, epoch) in other {
            if self.epoch(&ch).is_none() {
                self.epochs.push((ch, epoch));
            }
        }
    }

    /// The epoch per channel (unordered).
    pub fn epochs(&self) -> &[(String, String)] {
        &self.epochs
    }

    pub fn epoch(&self, channel: &str) -> Option<&str> {
        self.epochs.iter().find(|(c, _)| c == channel).map(|(_, e)| e.as_str())
    }

    /// What a new leader's connector subscribes from: every channel with both an offset and an
    /// epoch (a stream position). Channels with a seq alone (our own transport's) have none.
    pub fn positions(&self) -> Vec<(String, Position)> {
        // A loop, not an adapter chain: each `collect` is a monomorphization of its own (docs/SIZE.md).
        let mut out = Vec::new();
        for (ch, offset) in &self.seen {
            if let Some(e) = self.epoch(ch) {
                out.push((ch.clone(), Position { offset: *offset, epoch: e.to_owned() }));
            }
        }
        out
    }

    /// The last seq per channel (unordered).
    pub fn seen(&self) -> &[(String, u64)] {
        &self.seen
    }

    /// The last seq seen on `channel`.
    pub fn seen_seq(&self, channel: &str) -> Option<u64> {
        self.seen.iter().find(|(c, _)| c == channel).map(|(_, s)| *s)
    }

    pub(crate) fn set_leader_status(&mut self, s: Status) {
        self.leader_status = Some(s);
        self.led_before = true;
    }

    /// Whether a leader existed before (see the field).
    pub fn led_before(&self) -> bool {
        self.led_before
    }

    pub fn leader_status(&self) -> Option<Status> {
        self.leader_status
    }
}

impl Default for Share {
    fn default() -> Share {
        Share::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(xs: &[&str]) -> SortedSet<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn union_is_reference_counted_by_tab() {
        let mut s = Share::new();
        assert!(s.set_remote("b", ["doc:wo:1".to_string(), "factory:f1".to_string()]));
        assert!(s.set_remote("c", ["doc:wo:2".to_string(), "factory:f1".to_string()]));
        assert!(!s.set_remote("c", ["doc:wo:2".to_string(), "factory:f1".to_string()]));
        let local = set(&["list:wo:f1", "factory:f1"]);
        s.set_local(local.clone());
        assert_eq!(s.union(&local), set(&["doc:wo:1", "doc:wo:2", "factory:f1", "list:wo:f1"]));
        assert_eq!(s.ref_count("factory:f1"), 3);
        assert!(s.forget("b"));
        assert_eq!(s.union(&local), set(&["doc:wo:2", "factory:f1", "list:wo:f1"]));
        assert!(s.set_remote("c", Vec::<String>::new()));
        assert_eq!(s.union(&local), local);
        assert!(!s.forget("c"));
    }

    #[test]
    fn seen_keeps_the_latest_and_merges_only_unknown_channels() {
        let mut s = Share::new();
        s.observe("a", 5);
        s.observe("a", 6);
        s.observe("a", 1); // a new count after a failed recovery
        assert!(!s.led_before());
        s.merge_seen([("a".to_string(), 9), ("b".to_string(), 3)], true);
        assert!(s.led_before());
        assert_eq!(s.seen_seq("a"), Some(1));
        assert_eq!(s.seen_seq("b"), Some(3));
    }

    #[test]
    fn a_position_is_the_latest_offset_with_the_streams_epoch() {
        let mut s = Share::new();
        let pos = |offset: u64, epoch: &str| Position { offset, epoch: epoch.into() };
        s.observe("a", 4); // a seq alone (our own transport's frames) is no position
        assert_eq!(s.positions(), vec![]);
        s.observe_position("a", &pos(5, "e1"));
        s.observe("a", 7); // a publication after the join
        s.observe_position("b", &pos(0, "e2"));
        let mut got = s.positions();
        got.sort_by(|x, y| x.0.cmp(&y.0));
        assert_eq!(got, vec![("a".to_string(), pos(7, "e1")), ("b".to_string(), pos(0, "e2"))]);
        // A stream reset: a new epoch and a new count replace the old position.
        s.observe_position("a", &pos(1, "e3"));
        assert_eq!(s.positions().into_iter().find(|(c, _)| c == "a"), Some(("a".to_string(), pos(1, "e3"))));
        // Another tab's epochs fill only what this tab does not know.
        s.merge_epochs([("a".to_string(), "old".to_string()), ("c".to_string(), "e4".to_string())]);
        assert_eq!((s.epoch("a"), s.epoch("c")), (Some("e3"), Some("e4")));
        // A channel no tab subscribes any more forgets its position.
        s.retain_seen(&set(&["b"]));
        assert_eq!(s.positions(), vec![("b".to_string(), pos(0, "e2"))]);
        assert_eq!(s.epoch("c"), None);
    }
}
