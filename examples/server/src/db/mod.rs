//! Storage: SQLite (embedded, default, `sqlite.rs`) or PostgreSQL (`DATABASE_URL`, `postgres.rs`),
//! behind one `Db` the routes call.
//!
//! SQLite: every write runs in a transaction that also bumps the per-channel counters, and the
//! change is published right after the commit, still under the connection lock (commit order =
//! publish order).
//!
//! PostgreSQL: an `AFTER` trigger bumps the counters and calls `pg_notify('querywire_changes', …)`
//! in the writing transaction; a dedicated connection `LISTEN`s and publishes what it hears, so
//! writes made with psql directly are pushed too.
//!
//! Both write each change to the change log `qw_changes` in the writing transaction (SQLite: the
//! server, PostgreSQL: the trigger); at start-up the Centrifugo streams' history is rebuilt from it
//! (`crate::streams`), and `qw_meta` holds the streams' epoch.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::hub::{Change, Hub};
use crate::streams::StreamPub;

mod postgres;
mod sqlite;

pub use postgres::{parse_notification, pg_schema, Pg};
pub use sqlite::Sqlite;

pub const CHANGES_COUNTER: &str = "__changes__";
pub const NOTIFY_CHANNEL: &str = "querywire_changes";
/// `qw_meta` row holding the Centrifugo stream epoch.
pub const EPOCH_KEY: &str = "centrifugo_epoch";
/// Changes kept in the change log `qw_changes` (besides the history TTL).
pub const CHANGE_LOG_CAP: i64 = 100_000;

/// A change as the change log (and PostgreSQL's notification) holds it:
/// `{change, action, record, old, ts, seqs: [[channel, seq], …]}`.
pub fn change_json(c: &Change) -> String {
    serde_json::json!({
        "change": c.number,
        "action": c.action.as_str(),
        "record": c.record,
        "old": c.old,
        "ts": c.timestamp,
        "seqs": c.seqs.iter().map(|(ch, s)| serde_json::json!([ch, s])).collect::<Vec<_>>(),
    })
    .to_string()
}

/// Start-up: a logged change's publications into the streams' history.
fn replay_change(hub: &Hub, payload: &str, time_ms: i64) {
    let Some(change) = parse_notification(payload) else {
        eprintln!("querywire demo server: ignoring change log entry {payload}");
        return;
    };
    for p in crate::invalidation::publications(&change) {
        hub.streams.append(&p.channel, StreamPub { offset: p.seq, data: p.data, time_ms });
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WorkOrder {
    pub id: i64,
    pub factory_id: String,
    pub title: String,
    pub status: String,
    pub qty: i64,
    pub version: i64,
    pub updated_at: String,
}

impl WorkOrder {
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

#[derive(Debug, Clone)]
pub struct NewOrder {
    pub factory_id: String,
    pub title: String,
    pub status: String,
    pub qty: i64,
}

#[derive(Debug, Clone, Default)]
pub struct Patch {
    pub title: Option<String>,
    pub status: Option<String>,
    pub qty: Option<i64>,
    /// Add to qty (bursts).
    pub qty_delta: Option<i64>,
}

#[derive(Debug)]
pub struct DbError(pub String);

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for DbError {}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError(format!("sqlite: {e}"))
    }
}
impl From<tokio_postgres::Error> for DbError {
    fn from(e: tokio_postgres::Error) -> Self {
        DbError(format!("postgres: {e}"))
    }
}

pub struct Page {
    pub items: Vec<WorkOrder>,
    pub total: i64,
}

#[derive(Clone)]
pub enum Db {
    Sqlite(Arc<Sqlite>),
    Postgres(Arc<Pg>),
}

impl Db {
    pub fn kind(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    pub async fn list(&self, factory: Option<String>, page: i64, size: i64) -> Result<Page, DbError> {
        match self {
            Db::Sqlite(s) => s.run(move |_, c| Sqlite::list(c, factory.as_deref(), page, size)).await,
            Db::Postgres(p) => p.list(factory, page, size).await,
        }
    }
    pub async fn get(&self, id: i64) -> Result<Option<WorkOrder>, DbError> {
        match self {
            Db::Sqlite(s) => s.run(move |_, c| Sqlite::get(c, id)).await,
            Db::Postgres(p) => p.get(id).await,
        }
    }
    pub async fn create(&self, new: NewOrder) -> Result<WorkOrder, DbError> {
        match self {
            Db::Sqlite(s) => s.run(move |me, c| me.create(c, &new)).await,
            Db::Postgres(p) => p.create(new).await,
        }
    }
    pub async fn update(&self, id: i64, patch: Patch) -> Result<Option<WorkOrder>, DbError> {
        match self {
            Db::Sqlite(s) => s.run(move |me, c| me.update(c, id, &patch)).await,
            Db::Postgres(p) => p.update(id, patch).await,
        }
    }
    pub async fn delete(&self, id: i64) -> Result<Option<WorkOrder>, DbError> {
        match self {
            Db::Sqlite(s) => s.run(move |me, c| me.delete(c, id)).await,
            Db::Postgres(p) => p.delete(id).await,
        }
    }
    /// A stream reset: new epoch, no history (`POST /api/admin/centrifugo {"reset": true}`).
    pub async fn reset_streams(&self) -> Result<String, DbError> {
        match self {
            Db::Sqlite(s) => s.run(move |me, c| me.reset_streams(c)).await,
            Db::Postgres(p) => p.reset_streams().await,
        }
    }

    /// Ids of a factory's rows, newest first (bursts).
    pub async fn ids(&self, factory: String, limit: i64) -> Result<Vec<i64>, DbError> {
        Ok(self.list(Some(factory), 1, limit).await?.items.into_iter().map(|r| r.id).collect())
    }
}

pub(crate) fn seed_rows() -> Vec<NewOrder> {
    let row = |f: &str, t: &str, s: &str, q: i64| NewOrder {
        factory_id: f.into(),
        title: t.into(),
        status: s.into(),
        qty: q,
    };
    vec![
        row("f1", "Cut steel plates", "open", 40),
        row("f1", "Weld frame A-12", "open", 12),
        row("f1", "Paint housings", "in_progress", 25),
        row("f1", "Assemble gearbox", "open", 6),
        row("f2", "Mill aluminium blocks", "open", 30),
        row("f2", "Inspect batch 7", "in_progress", 100),
        row("f2", "Pack shipment 3", "open", 8),
    ]
}
