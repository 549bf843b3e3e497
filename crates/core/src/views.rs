//! Views: which channels the open UI needs, and which queries a recovery or a poll refetches.
//!
//! A *view* is what a mounted component shows: one document (`{ kind: 'doc', type, id }`) or the list
//! of a type (`{ kind: 'list', type }`). Components subscribe and unsubscribe as they mount and
//! unmount; [`Views`] reference-counts them so the same view twice opens one channel, and React
//! StrictMode's mount → unmount → mount in one tick leaves exactly one channel open without a
//! close/open round trip (realtime-js#169, supabase-js#1440, supabase-cache-helpers#162 are that trap).
//!
//! Channel names (contract, "Views, connections and recovery"):
//!
//! | view | channel | recovery / polling keys (prefix match) |
//! | --- | --- | --- |
//! | doc | `doc:<type>:<id>` | `["doc", type, id]` |
//! | list, factoryId set | `list:<type>:<factoryId>` | `["list", type, factoryId]` |
//! | list, no factoryId | `list:<type>` | `["list", type]` (every factory's lists) |
//! | any view open, factoryId set | `factory:<factoryId>` | every open view's keys |
//!
//! Without a scope `factoryId` a list view cannot name one factory, so it listens on `list:<type>`
//! and its recovery refetches every list of that type: more refetches, but nothing left stale.
//!
//! Nothing here does I/O: the glue calls [`Views::poll_channels`] after a batch of changes and opens
//! or closes transport subscriptions from the [`ChannelDiff`] (or hands [`Views::channels`] to
//! `Link::set_channels`).

use crate::concat;
use crate::key::write_string;
use crate::sorted::{SortedMap, SortedSet};

/// A handle returned by [`Views::subscribe`]; releasing it twice is a no-op, which is what makes the
/// JS unsubscribe function safe to call again. Handles start at 1, so 0 can mean "none" in the glue.
pub type ViewHandle = u64;

/// What a mounted component shows; the unit that is reference counted and mapped to channels and keys.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum View {
    /// One document, `{ kind: 'doc', type, id }`; `id` is kept as text (`String(id)` in JS) so
    /// `12` and `"12"` are the same view, as they are the same `['doc', type, '12']` query.
    Doc {
        /// The table / event type, e.g. `work_orders`.
        ty: String,
        /// The document id as text.
        id: String,
    },
    /// The list of one type in the current scope, `{ kind: 'list', type }`.
    List {
        /// The table / event type, e.g. `work_orders`.
        ty: String,
    },
}

impl View {
    /// The shipped reader of `rt.subscribe(view)`: the glue hands over the JS object's `kind`,
    /// `type` and `id` (a number already as JS `String(id)` text), and this decides what is a view.
    pub fn from_parts(kind: Option<&str>, ty: Option<String>, id: Option<String>) -> Result<View, &'static str> {
        let ty = ty.filter(|t| !t.is_empty());
        match (kind, ty) {
            (Some("doc"), Some(ty)) => match id.filter(|i| !i.is_empty()) {
                Some(id) => Ok(View::Doc { ty, id }),
                None => Err("a doc view needs an id (string or number)"),
            },
            (Some("list"), Some(ty)) => Ok(View::List { ty }),
            _ => Err("a view is { kind: 'doc', type, id } or { kind: 'list', type }"),
        }
    }

    /// Builds a doc view; a convenience for the glue and tests.
    pub fn doc(ty: impl Into<String>, id: impl Into<String>) -> View {
        View::Doc { ty: ty.into(), id: id.into() }
    }

    /// Builds a list view; a convenience for the glue and tests.
    pub fn list(ty: impl Into<String>) -> View {
        View::List { ty: ty.into() }
    }

    /// The channel this view listens on under `factory` (see the module table).
    pub fn channel(&self, factory: Option<&str>) -> String {
        match (self, factory) {
            (View::Doc { ty, id }, _) => concat(&["doc:", ty, ":", id]),
            (View::List { ty }, Some(f)) => concat(&["list:", ty, ":", f]),
            (View::List { ty }, None) => concat(&["list:", ty]),
        }
    }

    /// The query key prefix a recovery or a poll refetches for this view under `factory`, as its
    /// canonical hash (TanStack `hashKey`, e.g. `["doc","wo","1"]`): what `Engine::refetch` takes.
    pub fn query_key(&self, factory: Option<&str>) -> String {
        let (kind, ty, last) = match (self, factory) {
            (View::Doc { ty, id }, _) => ("doc", ty, Some(id.as_str())),
            (View::List { ty }, f) => ("list", ty, f),
        };
        let mut out = String::from("[");
        write_string(&mut out, kind);
        out.push(',');
        write_string(&mut out, ty);
        if let Some(last) = last {
            out.push(',');
            write_string(&mut out, last);
        }
        out.push(']');
        out
    }
}

/// What a channel name stands for: the one place that knows, so nothing re-parses a name
/// (a connector's default filters ask here, `connector.rs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChannelMeaning {
    /// `doc:<type>:<id>`.
    Doc { ty: String, id: String },
    /// `list:<type>:<factoryId>`, or `list:<type>` without a scope factory.
    List { ty: String, factory: Option<String> },
    /// `factory:<factoryId>`.
    Factory(String),
}

/// Channels to open and to close since the last [`Views::poll_channels`], so a transport that
/// subscribes per channel (supabase-js, centrifuge-js, the WebSocket `subscribe` frame) does only the
/// net change. Both lists are sorted and disjoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChannelDiff {
    /// Channels wanted now that were not reported open before.
    pub open: Vec<String>,
    /// Channels reported open before that nothing wants any more.
    pub close: Vec<String>,
}

/// The reference-counted set of open views and the scope's `factoryId`; the single source of truth
/// for "which channels should be open" and "which queries does recovery refetch".
#[derive(Clone, Debug, Default)]
pub struct Views {
    factory: Option<String>,
    next_handle: ViewHandle,
    handles: SortedMap<ViewHandle, View>,
    counts: SortedMap<View, usize>,
    /// The channel set last handed out by `poll_channels`; diffs are computed against it, which is
    /// what turns a same-tick unsubscribe + subscribe into no change at all.
    reported: SortedSet<String>,
}

impl Views {
    /// Starts with no views under the scope's `factoryId` (`None` when the scope has none; an
    /// empty string counts as none, since `factory:` would name nothing).
    pub fn new(factory: Option<String>) -> Views {
        Views { factory: normalize_factory(factory), next_handle: 1, ..Views::default() }
    }

    /// Opens (or shares) a view and returns the handle that releases it.
    pub fn subscribe(&mut self, view: View) -> ViewHandle {
        let handle = self.next_handle.max(1);
        self.next_handle = handle + 1;
        *self.counts.get_or_insert_with(&view, || view.clone(), || 0) += 1;
        self.handles.insert(handle, view);
        handle
    }

    /// Releases a handle; returns whether it was live. Releasing it again (or an unknown handle)
    /// does nothing, like calling the same JS unsubscribe function twice.
    pub fn unsubscribe(&mut self, handle: ViewHandle) -> bool {
        let Some(view) = self.handles.remove(&handle) else {
            return false;
        };
        if let Some(count) = self.counts.get_mut(&view) {
            *count -= 1;
            if *count == 0 {
                self.counts.remove(&view);
            }
        }
        true
    }

    /// Moves every open view to a new scope (`rt.setScope`); the next `poll_channels` closes the old
    /// scope's list and factory channels and opens the new ones. Doc channels do not move.
    pub fn set_factory(&mut self, factory: Option<String>) {
        self.factory = normalize_factory(factory);
    }

    /// The current scope's `factoryId`, if any.
    pub fn factory(&self) -> Option<&str> {
        self.factory.as_deref()
    }

    /// The distinct open views, in a stable order.
    pub fn views(&self) -> impl Iterator<Item = &View> {
        self.counts.keys()
    }

    /// How many handles hold `view` open (0 when closed); for diagnostics and tests.
    pub fn ref_count(&self, view: &View) -> usize {
        self.counts.get(view).copied().unwrap_or(0)
    }

    /// Whether no view is open.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// The channels the open views need right now (sorted, distinct).
    pub fn channels(&self) -> SortedSet<String> {
        let factory = self.factory();
        let mut set: SortedSet<String> = self.counts.keys().map(|v| v.channel(factory)).collect();
        if let (Some(f), false) = (factory, self.counts.is_empty()) {
            set.insert(factory_channel(f));
        }
        set
    }

    /// The net channel change since the previous call, or `None` when nothing changed. Call it once
    /// after a batch of subscribe/unsubscribe/set_factory (e.g. at the end of a JS task), so churn
    /// inside the batch never reaches the transport.
    pub fn poll_channels(&mut self) -> Option<ChannelDiff> {
        let now = self.channels();
        if now == self.reported {
            return None;
        }
        let open = now.difference(&self.reported).cloned().collect();
        let close = self.reported.difference(&now).cloned().collect();
        self.reported = now;
        Some(ChannelDiff { open, close })
    }

    /// What a channel stands for: an open view's channel as that view names it; any other name
    /// (another tab's channel, `shareConnection`'s leader opens them too) read from the name alone
    /// by the same table (`doc:<type>:<id>`, `list:<type>:<factoryId>`, `list:<type>`,
    /// `factory:<factoryId>`; a type has no `:`, so the rest after it is the id or factory).
    /// `None` for a name of no such shape.
    pub fn meaning(&self, channel: &str) -> Option<ChannelMeaning> {
        let factory = self.factory();
        if let Some(f) = factory {
            if channel == factory_channel(f) && !self.counts.is_empty() {
                return Some(ChannelMeaning::Factory(f.to_string()));
            }
        }
        if let Some(v) = self.counts.keys().find(|v| v.channel(factory) == channel) {
            return Some(match v {
                View::Doc { ty, id } => ChannelMeaning::Doc { ty: ty.clone(), id: id.clone() },
                View::List { ty } => ChannelMeaning::List { ty: ty.clone(), factory: factory.map(str::to_string) },
            });
        }
        let (kind, rest) = crate::split_byte(channel, b':')?;
        let named = |s: &str| (!s.is_empty()).then(|| s.to_string());
        match (kind, crate::split_byte(rest, b':')) {
            ("doc", Some((ty, id))) => Some(ChannelMeaning::Doc { ty: named(ty)?, id: named(id)? }),
            ("list", Some((ty, f))) => Some(ChannelMeaning::List { ty: named(ty)?, factory: Some(named(f)?) }),
            ("list", None) => Some(ChannelMeaning::List { ty: named(rest)?, factory: None }),
            ("factory", _) => Some(ChannelMeaning::Factory(named(rest)?)),
            _ => None,
        }
    }

    /// The keys a recovery of these channels refetches, each once (see [`Views::keys_for_channel`]).
    pub fn keys_for_channels<'a>(&self, channels: impl IntoIterator<Item = &'a String>) -> Vec<String> {
        dedup(channels.into_iter().flat_map(|c| self.keys_for_channel(c)))
    }

    /// Every open view's query key prefix, distinct: what polling and a full recovery refetch.
    pub fn active_keys(&self) -> Vec<String> {
        let factory = self.factory();
        dedup(self.counts.keys().map(|v| v.query_key(factory)))
    }

    /// The keys a recovery of one channel refetches: the views listening on it, or every open view
    /// for the current `factory:` channel (it carries every change of the factory). A channel no
    /// open view uses (e.g. one already closed) yields nothing.
    pub fn keys_for_channel(&self, channel: &str) -> Vec<String> {
        let factory = self.factory();
        if let Some(f) = factory {
            if channel == factory_channel(f) {
                return self.active_keys();
            }
        }
        dedup(self.counts.keys().filter(|v| v.channel(factory) == channel).map(|v| v.query_key(factory)))
    }
}

/// `factory:<factoryId>`: every change of one factory, open while any view is.
fn factory_channel(factory: &str) -> String {
    concat(&["factory:", factory])
}

fn normalize_factory(factory: Option<String>) -> Option<String> {
    factory.filter(|f| !f.is_empty())
}

/// Keeps the first of equal keys; views are few, so a linear check is fine.
fn dedup(keys: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for key in keys {
        if !out.contains(&key) {
            out.push(key);
        }
    }
    out
}
