//! The invalidation service (seed 000, "Handling complex queries"): the one place that knows what a
//! write affects. Each committed change to a `work_orders` row is mapped to the channels it is
//! published on and what each channel carries:
//!
//! | channel | carries |
//! | --- | --- |
//! | `doc:work_orders:<id>` | the row payload (envelope) |
//! | `list:work_orders:<factory_id>` | the row payload |
//! | `factory:<factory_id>` | the row payload |
//! | `entity:work_orders:<id>` | `{ event: 'invalidate', queryKey: ['doc', 'work_orders', '<id>'] }` |
//! | `org:<factory_id>` | `{ event: 'invalidate', queryKey: ['list', 'work_orders', '<factory_id>'] }` |
//!
//! The first three are querywire's view channels: the client's doc/list policy turns a row into
//! patches and invalidations itself. The last two are seed 000's server-authoritative channels: the
//! server names the query keys, the client only invalidates them (an app that subscribes to them
//! needs no rules). Every transport carries the same publications: `/ws` and `/sse` frames, the
//! Centrifugo endpoint's publications and their history; the Supabase endpoint sends the change's
//! rows as `postgres_changes`.
//!
//! Sequence numbers (Centrifugo offsets) are assigned per channel in the writing transaction: the
//! SQLite store bumps a counter for each channel [`channels`] names, and the PostgreSQL trigger is
//! generated from the same table ([`pg_channel_exprs`]), so both stores agree with this module.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::hub::{Change, TABLE};

/// What a channel carries for a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carries {
    /// The row payload: `{ type: 'realtime', entity, action, data, timestamp, id }`.
    Row,
    /// `{ event: 'invalidate', queryKey: ['doc', TABLE, '<id>'] }`.
    InvalidateDoc,
    /// `{ event: 'invalidate', queryKey: ['list', TABLE, '<factory_id>'] }` (every page).
    InvalidateList,
}

/// One channel a change is published on: `prefix` followed by the row's `column`.
#[derive(Clone, Copy, Debug)]
pub struct ChannelRule {
    pub prefix: &'static str,
    pub column: &'static str,
    pub carries: Carries,
}

/// Every channel a `work_orders` write reaches, in publication order.
pub const RULES: [ChannelRule; 5] = [
    ChannelRule { prefix: "doc:work_orders:", column: "id", carries: Carries::Row },
    ChannelRule { prefix: "list:work_orders:", column: "factory_id", carries: Carries::Row },
    ChannelRule { prefix: "factory:", column: "factory_id", carries: Carries::Row },
    ChannelRule { prefix: "entity:work_orders:", column: "id", carries: Carries::InvalidateDoc },
    ChannelRule { prefix: "org:", column: "factory_id", carries: Carries::InvalidateList },
];

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The channels a row's change is published on, in [`RULES`] order.
pub fn channels(id: &str, factory_id: &str) -> Vec<String> {
    RULES
        .iter()
        .map(|r| {
            let value = if r.column == "id" { id } else { factory_id };
            format!("{}{value}", r.prefix)
        })
        .collect()
}

/// The SQL expressions naming the same channels for a row variable `r` (the PostgreSQL trigger).
pub fn pg_channel_exprs(row: &str) -> Vec<String> {
    RULES.iter().map(|r| format!("'{}' || {row}.{}", r.prefix, r.column)).collect()
}

fn rule_for(channel: &str) -> Option<&'static ChannelRule> {
    RULES.iter().find(|r| channel.starts_with(r.prefix))
}

/// One publication of a change on one channel.
#[derive(Debug, Clone)]
pub struct Publication {
    pub channel: String,
    pub seq: u64,
    /// The payload's JSON text (a Centrifugo publication's `data`, a wire frame's `payload`).
    pub data: Arc<str>,
}

/// What the change publishes: one payload per `(channel, seq)` of `change.seqs`.
pub fn publications(change: &Change) -> Vec<Publication> {
    let row = change.row().cloned().unwrap_or(Value::Null);
    let field = |c: &str| row.get(c).map(text).unwrap_or_default();
    let mut row_payload: Option<Arc<str>> = None;
    change
        .seqs
        .iter()
        .map(|(channel, seq)| {
            let carries = rule_for(channel).map(|r| r.carries).unwrap_or(Carries::Row);
            let data: Arc<str> = match carries {
                Carries::Row => row_payload
                    .get_or_insert_with(|| {
                        json!({
                            "type": "realtime",
                            "entity": TABLE,
                            "action": change.action.as_str(),
                            "data": row,
                            "timestamp": change.timestamp,
                            "id": format!("chg-{}", change.number),
                        })
                        .to_string()
                        .into()
                    })
                    .clone(),
                Carries::InvalidateDoc => json!({
                    "event": "invalidate",
                    "queryKey": ["doc", TABLE, field("id")],
                })
                .to_string()
                .into(),
                Carries::InvalidateList => json!({
                    "event": "invalidate",
                    "queryKey": ["list", TABLE, field("factory_id")],
                })
                .to_string()
                .into(),
            };
            Publication { channel: channel.clone(), seq: *seq, data }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::Action;

    #[test]
    fn a_write_reaches_five_channels_with_their_payloads() {
        let chs = channels("7", "f1");
        assert_eq!(chs, ["doc:work_orders:7", "list:work_orders:f1", "factory:f1", "entity:work_orders:7", "org:f1"]);
        let change = Change {
            number: 3,
            action: Action::Update,
            record: Some(json!({ "id": 7, "factory_id": "f1", "title": "t" })),
            old: None,
            timestamp: "2026-12-01T00:00:00.000Z".into(),
            seqs: chs.into_iter().zip(1..).collect(),
        };
        let pubs = publications(&change);
        let data: Vec<Value> = pubs.iter().map(|p| serde_json::from_str(&p.data).unwrap()).collect();
        assert_eq!(data[0]["id"], "chg-3");
        assert_eq!(data[0]["data"]["title"], "t");
        assert_eq!(data[1], data[0]);
        assert_eq!(data[3], json!({ "event": "invalidate", "queryKey": ["doc", "work_orders", "7"] }));
        assert_eq!(data[4], json!({ "event": "invalidate", "queryKey": ["list", "work_orders", "f1"] }));
        assert_eq!(pubs[4].seq, 5);
        assert_eq!(pg_channel_exprs("r")[3], "'entity:work_orders:' || r.id");
    }
}
