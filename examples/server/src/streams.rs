//! Centrifugo-style channel streams: per channel a top offset (the channel's persistent `seq`), a
//! bounded history of publications (`history_size`, `history_ttl`) and one stream epoch for the
//! whole server. A subscribe with `recover`, `offset` and `epoch` is answered from here with the
//! rules of Centrifugo's stream recovery (centrifugal/centrifuge `isStreamRecovered`): recovered
//! when the epoch matches and the history holds every publication after `offset` up to the top.
//!
//! Unlike the `/ws` history (this process's frames only), the streams are rebuilt at start-up from
//! the change log the store writes in each writing transaction (`qw_changes`; the epoch in `qw_meta`),
//! so they survive a restart like Centrifugo's Redis engine; a reset
//! (`POST /api/admin/centrifugo {"reset": true}`) clears them and starts a new epoch, like a
//! Centrifugo whose history was lost.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::clock::unix_ms;

/// One stored publication.
#[derive(Debug, Clone)]
pub struct StreamPub {
    pub offset: u64,
    /// The publication's `data` as JSON text.
    pub data: Arc<str>,
    /// Unix ms when it was published (history TTL).
    pub time_ms: i64,
}

#[derive(Default)]
struct Stream {
    /// Highest offset of the channel (history or the store's counter).
    top: u64,
    /// Contiguous publications, oldest first; when not empty its back is `top`.
    pubs: VecDeque<StreamPub>,
}

struct Inner {
    epoch: String,
    channels: HashMap<String, Stream>,
}

pub struct Streams {
    inner: Mutex<Inner>,
    pub size: usize,
    pub ttl_ms: i64,
}

/// The answer to a subscribe.
#[derive(Debug)]
pub struct Position {
    pub epoch: String,
    /// The stream's top offset at the snapshot (live publications up to it are skipped).
    pub top: u64,
    /// `Some` when recovery was asked: whether it succeeded.
    pub recovered: Option<bool>,
    /// The publications after the asked offset, when recovered.
    pub pubs: Vec<StreamPub>,
}

/// A fresh epoch: unique enough across restarts and resets of one demo.
pub fn new_epoch() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let x = (unix_ms() as u64) ^ (u64::from(std::process::id()) << 40) ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    format!("{:x}", x & 0xffff_ffff_ffff)
}

impl Streams {
    pub fn new(size: usize, ttl_ms: i64) -> Streams {
        Streams {
            inner: Mutex::new(Inner { epoch: new_epoch(), channels: HashMap::new() }),
            size: size.max(1),
            ttl_ms: ttl_ms.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn epoch(&self) -> String {
        self.lock().epoch.clone()
    }

    /// Startup: the store's epoch.
    pub fn set_epoch(&self, epoch: String) {
        self.lock().epoch = epoch;
    }

    /// Drop every publication and start `epoch` (a stream reset).
    pub fn reset(&self, epoch: String) {
        let mut g = self.lock();
        g.epoch = epoch;
        for st in g.channels.values_mut() {
            st.pubs.clear();
        }
    }

    /// Startup: the store's counter for a channel; history that does not reach it is useless.
    pub fn set_top(&self, channel: &str, top: u64) {
        let mut g = self.lock();
        let st = g.channels.entry(channel.to_string()).or_default();
        if top > st.top {
            st.top = top;
            if st.pubs.back().is_some_and(|b| b.offset != top) {
                st.pubs.clear();
            }
        }
    }

    /// Append a publication (live, or loaded from the store in offset order).
    pub fn append(&self, channel: &str, p: StreamPub) {
        let now = unix_ms();
        let mut g = self.lock();
        let st = g.channels.entry(channel.to_string()).or_default();
        if p.offset <= st.top && st.top != 0 {
            return; // already known (or older): offsets only go forward
        }
        if p.offset != st.top + 1 {
            st.pubs.clear(); // a gap: what came before cannot prove continuity
        }
        st.top = p.offset;
        st.pubs.push_back(p);
        Self::prune(st, self.size, now - self.ttl_ms);
    }

    fn prune(st: &mut Stream, size: usize, oldest: i64) {
        while st.pubs.len() > size || st.pubs.front().is_some_and(|f| f.time_ms < oldest) {
            st.pubs.pop_front();
        }
    }

    /// A subscribe: the position, and with `recover` the publications after `offset` when the
    /// history proves there are no others (same epoch, nothing missing between `offset` and top).
    pub fn subscribe(&self, channel: &str, recover: Option<(u64, &str)>) -> Position {
        let now = unix_ms();
        let mut g = self.lock();
        let epoch = g.epoch.clone();
        let st = g.channels.entry(channel.to_string()).or_default();
        Self::prune(st, self.size, now - self.ttl_ms);
        let top = st.top;
        let Some((offset, asked_epoch)) = recover else {
            return Position { epoch, top, recovered: None, pubs: Vec::new() };
        };
        let same_epoch = asked_epoch.is_empty() || asked_epoch == epoch;
        let recovered = same_epoch
            && offset <= top
            && match (st.pubs.front(), st.pubs.back()) {
                _ if offset == top => true,
                (Some(front), Some(back)) => front.offset <= offset + 1 && back.offset == top,
                _ => false,
            };
        let pubs = if recovered { st.pubs.iter().filter(|p| p.offset > offset).cloned().collect() } else { Vec::new() };
        Position { epoch, top, recovered: Some(recovered), pubs }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(offset: u64) -> StreamPub {
        StreamPub { offset, data: Arc::from("{}"), time_ms: unix_ms() }
    }

    #[test]
    fn recovery_follows_history() {
        let s = Streams::new(3, 60_000);
        let e = s.epoch();
        s.set_top("c", 10);
        assert_eq!(s.subscribe("c", Some((10, &e))).recovered, Some(true));
        assert_eq!(s.subscribe("c", Some((9, &e))).recovered, Some(false), "10 is not in history");
        for o in 11..=14 {
            s.append("c", p(o));
        }
        // size 3: 12, 13, 14
        let r = s.subscribe("c", Some((11, &e)));
        assert_eq!((r.recovered, r.pubs.len(), r.top), (Some(true), 3, 14));
        assert_eq!(s.subscribe("c", Some((10, &e))).recovered, Some(false), "11 fell out");
        assert_eq!(s.subscribe("c", Some((12, "other"))).recovered, Some(false), "epoch changed");
        assert_eq!(s.subscribe("c", Some((15, &e))).recovered, Some(false), "ahead of the stream");
        // A counter ahead of history (writes no one published): nothing provable.
        s.set_top("c", 20);
        assert_eq!(s.subscribe("c", Some((14, &e))).recovered, Some(false));
        s.append("c", p(21));
        assert_eq!(s.subscribe("c", Some((20, &e))).pubs.len(), 1);
        s.reset("e2".into());
        let r = s.subscribe("c", Some((20, &e)));
        assert_eq!((r.recovered, r.epoch.as_str(), r.top), (Some(false), "e2", 21));
        assert_eq!(s.subscribe("c", Some((21, "e2"))).recovered, Some(true));
    }
}
