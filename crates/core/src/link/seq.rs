//! Per-channel `seq` bookkeeping: gap detection, the `since` map of a resubscribe, and which
//! channels still wait for the server's `recovered` answer after a reconnect.
//!
//! The server counts `seq` up by one per channel, so the next seq says whether anything was missed:
//! `last + 1` means nothing, more means a gap. After a gap or a failed recovery the channel's views
//! are refetched once and the count starts over from the next seq, so one loss never causes two
//! refetches.

use crate::sorted::{SortedMap, SortedSet};

/// What one `seq` said about its channel; the glue may skip `Duplicate` frames (the engine's
/// event-id dedupe drops them anyway).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeqCheck {
    /// The first seq of a new count (first on the channel, or after a reset).
    First,
    /// Exactly one more than the last: nothing missed.
    InOrder,
    /// Not above the last one seen: a replay or a duplicate.
    Duplicate,
    /// Above last + 1: events were missed; the Link emitted one recovery for the channel.
    Gap,
    /// Not applicable: no open transport, or a channel the Link does not subscribe.
    Ignored,
}

#[derive(Clone, Debug, Default)]
struct ChannelSeq {
    last: Option<u64>,
    awaiting_recovery: bool,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct SeqTracker {
    channels: SortedMap<String, ChannelSeq>,
}

impl SeqTracker {
    /// Records `seq` on `channel`. A gap or a contiguous seq also settles a pending recovery: the
    /// seq itself then tells whether anything was lost.
    pub(crate) fn observe(&mut self, channel: &str, seq: u64) -> SeqCheck {
        let c = self.channels.get_or_insert_with(channel, || channel.to_owned(), ChannelSeq::default);
        let check = match c.last {
            None => SeqCheck::First,
            Some(last) if seq <= last => return SeqCheck::Duplicate,
            Some(last) if seq == last + 1 => SeqCheck::InOrder,
            Some(_) => SeqCheck::Gap,
        };
        c.last = Some(seq);
        if check != SeqCheck::First {
            c.awaiting_recovery = false;
        }
        check
    }

    /// Sets a channel's last seq as another engine saw it (a shared connection's new leader takes
    /// over the count the old leader's frames carried); a later seq is judged against it.
    pub(crate) fn restore(&mut self, channel: &str, seq: u64) {
        let c = self.channels.get_or_insert_with(channel, || channel.to_owned(), ChannelSeq::default);
        c.last = Some(seq);
    }

    /// Channels with a seen seq mapped to the last one: the `since` of a resubscribe.
    pub(crate) fn since(&self, subscribed: &SortedSet<String>) -> SortedMap<String, u64> {
        subscribed.iter().filter_map(|ch| Some((ch.clone(), self.channels.get(ch)?.last?))).collect()
    }

    pub(crate) fn has_seq(&self, channel: &str) -> bool {
        self.channels.get(channel).is_some_and(|c| c.last.is_some())
    }

    /// Starts a new count: the next seq is `First`, never a gap.
    pub(crate) fn reset(&mut self, channel: &str) {
        if let Some(c) = self.channels.get_mut(channel) {
            c.last = None;
            c.awaiting_recovery = false;
        }
    }

    /// Drops everything known about a channel (unsubscribed: a later subscribe starts fresh).
    pub(crate) fn forget(&mut self, channel: &str) {
        self.channels.remove(channel);
    }

    pub(crate) fn await_recovery(&mut self, channel: &str) {
        self.channels.get_or_insert_with(channel, || channel.to_owned(), ChannelSeq::default).awaiting_recovery = true;
    }

    pub(crate) fn is_awaiting(&self, channel: &str) -> bool {
        self.channels.get(channel).is_some_and(|c| c.awaiting_recovery)
    }

    pub(crate) fn any_awaiting(&self) -> bool {
        self.channels.values().any(|c| c.awaiting_recovery)
    }

    /// Settles one awaited recovery (the `recovered` answer arrived).
    pub(crate) fn settle(&mut self, channel: &str) {
        if let Some(c) = self.channels.get_mut(channel) {
            c.awaiting_recovery = false;
        }
    }

    /// Ends every awaited recovery and returns the channels that were still waiting.
    pub(crate) fn take_awaiting(&mut self) -> SortedSet<String> {
        let mut out = SortedSet::new();
        for (ch, c) in self.channels.iter_mut() {
            if std::mem::take(&mut c.awaiting_recovery) {
                out.insert(ch.clone());
            }
        }
        out
    }
}
