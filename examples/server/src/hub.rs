//! Realtime fan-out: per-channel sequence numbers, a bounded history per channel for `since`
//! recovery, and one broadcast of every committed change to all open connections.
//!
//! Sequence numbers are assigned by the database in the same transaction as the change (a counter
//! row per channel), so they keep counting across restarts and never repeat. A `since` is answered
//! `ok: true` only from this process's own history: right after a restart (no history yet for the
//! channel) it is `ok: false`; once the new process has published frames on the channel, a client
//! whose `since` is just before them is recovered from them.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use tokio::sync::broadcast;

use crate::clock::unix_ms;
use crate::invalidation::Publication;
use crate::streams::{StreamPub, Streams};

/// The only table the demo serves.
pub const TABLE: &str = "work_orders";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Insert,
    Update,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Insert => "insert",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }
    /// The Postgres / Supabase spelling.
    pub fn upper(self) -> &'static str {
        match self {
            Action::Insert => "INSERT",
            Action::Update => "UPDATE",
            Action::Delete => "DELETE",
        }
    }
    pub fn parse(s: &str) -> Option<Action> {
        match s.to_ascii_lowercase().as_str() {
            "insert" => Some(Action::Insert),
            "update" => Some(Action::Update),
            "delete" => Some(Action::Delete),
            _ => None,
        }
    }
}

/// One committed change to a `work_orders` row.
#[derive(Debug, Clone)]
pub struct Change {
    /// Persistent change number: the envelope id is `chg-<number>`.
    pub number: i64,
    pub action: Action,
    /// The row after the change (INSERT, UPDATE).
    pub record: Option<Value>,
    /// The row before the change (UPDATE, DELETE).
    pub old: Option<Value>,
    /// RFC 3339 commit time.
    pub timestamp: String,
    /// `(channel, seq)` for `doc:`, `list:` and `factory:` channels, in that order.
    pub seqs: Vec<(String, u64)>,
}

impl Change {
    /// The row the change is about: the new row, or the old one for a DELETE.
    pub fn row(&self) -> Option<&Value> {
        match self.action {
            Action::Delete => self.old.as_ref().or(self.record.as_ref()),
            _ => self.record.as_ref().or(self.old.as_ref()),
        }
    }
}

/// The channels a row's change is published to, in [`crate::invalidation::RULES`] order.
pub fn channels_for(id: &str, factory_id: &str) -> Vec<String> {
    crate::invalidation::channels(id, factory_id)
}

/// An event frame as sent to one channel's subscribers.
#[derive(Debug)]
pub struct Frame {
    pub channel: String,
    pub seq: u64,
    /// The frame's JSON text.
    pub text: String,
    /// The payload's JSON text (a Centrifugo publication's `data`).
    pub data: Arc<str>,
}

/// What every connection receives for each committed change.
#[derive(Debug)]
pub struct Published {
    pub change: Change,
    pub frames: Vec<Arc<Frame>>,
}

#[derive(Default)]
struct ChannelState {
    /// Highest seq known for the channel (from history or from the database's counters).
    last: u64,
    /// Contiguous frames, oldest first; its back is `last` whenever it is not empty.
    history: VecDeque<Arc<Frame>>,
}

pub struct Hub {
    channels: Mutex<HashMap<String, ChannelState>>,
    tx: broadcast::Sender<Arc<Published>>,
    history_limit: usize,
    /// The Centrifugo endpoint's persistent streams (offsets = seqs, history, epoch).
    pub streams: Streams,
}

/// Result of a `since` recovery request.
pub struct Recovery {
    pub ok: bool,
    /// Frames with seq > since, when `ok`.
    pub frames: Vec<Arc<Frame>>,
    /// The channel's last seq at the moment of the snapshot: live frames up to it must be skipped.
    pub last: u64,
}

impl Hub {
    pub fn new(history_limit: usize) -> Hub {
        Hub::with_streams(history_limit, Streams::new(1000, 600_000))
    }

    pub fn with_streams(history_limit: usize, streams: Streams) -> Hub {
        let (tx, _) = broadcast::channel(8192);
        Hub { channels: Mutex::new(HashMap::new()), tx, history_limit: history_limit.max(1), streams }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, ChannelState>> {
        // A panic while holding the lock cannot leave the map inconsistent in a way that matters
        // for a demo; keep serving.
        self.channels.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A receiver of every change published from now on. Take it before snapshotting `last`.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.tx.subscribe()
    }

    /// Number of open receivers (connections).
    pub fn receivers(&self) -> usize {
        self.tx.receiver_count()
    }

    /// Record a channel's persisted counter (at startup): frames up to it are not in history.
    pub fn set_last(&self, channel: &str, last: u64) {
        let mut map = self.lock();
        let st = map.entry(channel.to_string()).or_default();
        if last > st.last {
            st.last = last;
            st.history.clear();
        }
        drop(map);
        self.streams.set_top(channel, last);
    }

    pub fn last(&self, channel: &str) -> u64 {
        self.lock().get(channel).map(|s| s.last).unwrap_or(0)
    }

    /// Publish a committed change: the invalidation service's publications, one frame per
    /// channel, appended to both histories, broadcast.
    pub fn publish(&self, change: Change) {
        let pubs = crate::invalidation::publications(&change);
        self.publish_with(change, pubs);
    }

    /// [`Hub::publish`] with the publications already computed (the store persisted them).
    pub fn publish_with(&self, change: Change, pubs: Vec<Publication>) {
        let now = unix_ms();
        let mut map = self.lock();
        let mut frames = Vec::with_capacity(pubs.len());
        for p in pubs {
            let text = format!(
                "{{\"channel\":{},\"seq\":{},\"payload\":{}}}",
                Value::String(p.channel.clone()),
                p.seq,
                p.data
            );
            let frame = Arc::new(Frame { channel: p.channel, seq: p.seq, text, data: p.data });
            let seq = frame.seq;
            let channel = &frame.channel;
            let st = map.entry(channel.clone()).or_default();
            let contiguous = match st.history.back() {
                Some(back) => back.seq + 1 == seq,
                None => st.last + 1 == seq || st.last == 0,
            };
            if !contiguous {
                st.history.clear();
            }
            if seq > st.last || st.history.is_empty() {
                st.history.push_back(frame.clone());
                while st.history.len() > self.history_limit {
                    st.history.pop_front();
                }
            }
            st.last = st.last.max(seq);
            self.streams.append(channel, StreamPub { offset: seq, data: frame.data.clone(), time_ms: now });
            frames.push(frame);
        }
        // Sent under the lock so receivers see frames in seq order relative to snapshots.
        let _ = self.tx.send(Arc::new(Published { change, frames }));
    }

    /// Frames after `since` on `channel`, when this process's history covers them.
    pub fn recover(&self, channel: &str, since: u64) -> Recovery {
        let map = self.lock();
        let Some(st) = map.get(channel) else {
            return Recovery { ok: since == 0, frames: Vec::new(), last: 0 };
        };
        let last = st.last;
        // Only this process's own history proves anything: with none for the channel (e.g. right
        // after a restart) a `since` > 0 is answered ok:false, and the client refetches.
        let first = match (st.history.front(), st.history.back()) {
            (Some(front), Some(back)) if back.seq == last => front.seq,
            _ => return Recovery { ok: since == 0 && last == 0, frames: Vec::new(), last },
        };
        if since > last || since + 1 < first {
            return Recovery { ok: false, frames: Vec::new(), last };
        }
        let frames = st.history.iter().filter(|f| f.seq > since).cloned().collect();
        Recovery { ok: true, frames, last }
    }
}
