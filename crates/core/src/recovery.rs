//! Channels that came back and must refetch their views: held as one batch and released together,
//! so a view under several channels (its own and `factory:`) refetches once (issue 11: this used to
//! live in `realtime.rs` for our transport and in `js/channelSync.js` for the JS-held connectors).
//!
//! Two things hold a batch back: a settle window (a JS-held connector's channels come back one by
//! one after a socket drop; [`Returns::settle`] restarts it with each one), and the link still
//! waiting for `recovered` answers of other channels (the caller says so when it asks to release).

use crate::sorted::SortedSet;
use crate::Millis;

/// The batch of channels waiting to be recovered.
#[derive(Clone, Debug, Default)]
pub struct Returns {
    channels: SortedSet<String>,
    settle_at: Option<Millis>,
}

impl Returns {
    /// These channels came back; they wait for the batch.
    pub fn hold<I: IntoIterator<Item = String>>(&mut self, channels: I) {
        self.channels.extend(channels);
    }

    /// (Re)starts the settle window: the batch is released no sooner than `ms` from `now`.
    pub fn settle(&mut self, now: Millis, ms: Millis) {
        self.settle_at = Some(now.saturating_add(ms));
    }

    /// Forgets the batch (every view is being refetched anyway, or nothing is connected any more).
    pub fn clear(&mut self) {
        self.channels.clear();
        self.settle_at = None;
    }

    /// The settle window's end, while one is open.
    pub fn poll_timeout(&self) -> Option<Millis> {
        self.settle_at
    }

    /// The channels whose views to refetch (each view once), when the batch is due: its settle window is over and nothing
    /// else holds it (`waiting`: the link still expects `recovered` answers). `None` otherwise.
    pub fn release(&mut self, now: Millis, waiting: bool) -> Option<Vec<String>> {
        if self.settle_at.is_some_and(|t| t > now) || waiting {
            return None;
        }
        self.settle_at = None;
        if self.channels.is_empty() {
            return None;
        }
        Some(std::mem::take(&mut self.channels).into_vec())
    }
}
