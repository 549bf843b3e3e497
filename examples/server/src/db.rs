//! Storage: SQLite (embedded, default) or PostgreSQL (`DATABASE_URL`).
//!
//! SQLite: every write runs in a transaction that also bumps the per-channel counters, and the
//! change is published right after the commit, still under the connection lock (commit order =
//! publish order).
//!
//! PostgreSQL: an `AFTER` trigger bumps the counters and calls `pg_notify('querywire_changes', …)`
//! in the writing transaction; a dedicated connection `LISTEN`s and publishes what it hears, so
//! writes made with psql directly are pushed too.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::hub::{channels_for, Action, Change, Hub};
use crate::streams::{new_epoch, StreamPub};
use crate::util::{now_rfc3339, unix_ms};

pub const CHANGES_COUNTER: &str = "__changes__";
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
        hub.streams.append(
            &p.channel,
            StreamPub {
                offset: p.seq,
                data: p.data,
                time_ms,
            },
        );
    }
}
pub const NOTIFY_CHANNEL: &str = "querywire_changes";

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

    pub async fn list(
        &self,
        factory: Option<String>,
        page: i64,
        size: i64,
    ) -> Result<Page, DbError> {
        match self {
            Db::Sqlite(s) => {
                s.run(move |_, c| Sqlite::list(c, factory.as_deref(), page, size))
                    .await
            }
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
        Ok(self
            .list(Some(factory), 1, limit)
            .await?
            .items
            .into_iter()
            .map(|r| r.id)
            .collect())
    }
}

fn seed_rows() -> Vec<NewOrder> {
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

// ---------------------------------------------------------------------------------------------
// SQLite

pub struct Sqlite {
    conn: Mutex<Connection>,
    hub: Arc<Hub>,
    /// First value of a fresh counter minus one: 0 for a file, the boot time in ms for
    /// `:memory:` (so seqs and change ids never repeat across restarts of an in-memory server).
    base: i64,
}

const COLS: &str = "id, factory_id, title, status, qty, version, updated_at";

fn row_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<WorkOrder> {
    Ok(WorkOrder {
        id: r.get(0)?,
        factory_id: r.get(1)?,
        title: r.get(2)?,
        status: r.get(3)?,
        qty: r.get(4)?,
        version: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

impl Sqlite {
    pub fn open(path: &str, hub: Arc<Hub>) -> Result<Arc<Sqlite>, DbError> {
        let memory = path == ":memory:";
        if !memory {
            if let Some(parent) = Path::new(path).parent() {
                if !parent.as_os_str().is_empty() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| DbError(format!("creating {}: {e}", parent.display())))?;
                }
            }
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        if !memory {
            conn.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))?;
            conn.execute_batch("PRAGMA synchronous=NORMAL;")?;
        }
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS work_orders (
               id INTEGER PRIMARY KEY AUTOINCREMENT,
               factory_id TEXT NOT NULL,
               title TEXT NOT NULL,
               status TEXT NOT NULL DEFAULT 'open',
               qty INTEGER NOT NULL DEFAULT 0,
               version INTEGER NOT NULL DEFAULT 1,
               updated_at TEXT NOT NULL);
             CREATE INDEX IF NOT EXISTS work_orders_factory ON work_orders(factory_id, id);
             CREATE TABLE IF NOT EXISTS qw_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS qw_changes (number INTEGER PRIMARY KEY, payload TEXT NOT NULL,
               time_ms INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS qw_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);",
        )?;
        let base = if memory { unix_ms() } else { 0 };
        // The Centrifugo streams: epoch and history (before the counters, which may be ahead).
        {
            let epoch: Option<String> = conn
                .query_row(
                    "SELECT value FROM qw_meta WHERE name = ?1",
                    params![EPOCH_KEY],
                    |r| r.get(0),
                )
                .optional()?;
            let epoch = match epoch {
                Some(e) => e,
                None => {
                    let e = new_epoch();
                    conn.execute(
                        "INSERT INTO qw_meta(name, value) VALUES (?1, ?2)",
                        params![EPOCH_KEY, e],
                    )?;
                    e
                }
            };
            hub.streams.set_epoch(epoch);
            let oldest = unix_ms() - hub.streams.ttl_ms;
            conn.execute("DELETE FROM qw_changes WHERE time_ms < ?1", params![oldest])?;
            let mut st = conn.prepare("SELECT payload, time_ms FROM qw_changes ORDER BY number")?;
            let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            for row in rows {
                let (payload, time_ms) = row?;
                replay_change(&hub, &payload, time_ms);
            }
        }
        // Known channel counters: seqs up to them are not in this process's history.
        {
            let mut st = conn.prepare("SELECT name, value FROM qw_counters")?;
            let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            for row in rows {
                let (name, value) = row?;
                if name != CHANGES_COUNTER {
                    hub.set_last(&name, value.max(0) as u64);
                }
            }
        }
        let me = Arc::new(Sqlite {
            conn: Mutex::new(conn),
            hub,
            base,
        });
        {
            let mut c = me
                .conn
                .lock()
                .map_err(|_| DbError("sqlite lock poisoned".into()))?;
            let count: i64 = c.query_row("SELECT COUNT(*) FROM work_orders", [], |r| r.get(0))?;
            if count == 0 {
                for new in seed_rows() {
                    me.create(&mut c, &new)?;
                }
            }
        }
        Ok(me)
    }

    async fn run<T, F>(self: &Arc<Self>, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&Sqlite, &mut Connection) -> Result<T, DbError> + Send + 'static,
    {
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = me
                .conn
                .lock()
                .map_err(|_| DbError("sqlite lock poisoned".into()))?;
            f(&me, &mut c)
        })
        .await
        .map_err(|e| DbError(format!("sqlite task: {e}")))?
    }

    fn list(
        c: &mut Connection,
        factory: Option<&str>,
        page: i64,
        size: i64,
    ) -> Result<Page, DbError> {
        let offset = (page - 1).max(0) * size;
        let mut st = c.prepare_cached(&format!(
            "SELECT {COLS} FROM work_orders WHERE (?1 IS NULL OR factory_id = ?1)
             ORDER BY id DESC LIMIT ?2 OFFSET ?3"
        ))?;
        let items = st
            .query_map(params![factory, size, offset], row_of)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let total: i64 = c.query_row(
            "SELECT COUNT(*) FROM work_orders WHERE (?1 IS NULL OR factory_id = ?1)",
            params![factory],
            |r| r.get(0),
        )?;
        Ok(Page { items, total })
    }

    fn get(c: &mut Connection, id: i64) -> Result<Option<WorkOrder>, DbError> {
        Ok(c.query_row(
            &format!("SELECT {COLS} FROM work_orders WHERE id = ?1"),
            params![id],
            row_of,
        )
        .optional()?)
    }

    fn bump(&self, tx: &rusqlite::Transaction<'_>, name: &str) -> Result<i64, DbError> {
        Ok(tx.query_row(
            "INSERT INTO qw_counters(name, value) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value",
            params![name, self.base + 1],
            |r| r.get(0),
        )?)
    }

    /// Bump counters, commit, publish. Called with the connection lock held.
    fn commit_change(
        &self,
        tx: rusqlite::Transaction<'_>,
        action: Action,
        new: Option<&WorkOrder>,
        old: Option<&WorkOrder>,
    ) -> Result<(), DbError> {
        let Some(row) = new.or(old) else {
            return Ok(());
        };
        let mut seqs = Vec::with_capacity(crate::invalidation::RULES.len());
        for ch in channels_for(&row.id.to_string(), &row.factory_id) {
            let seq = self.bump(&tx, &ch)?;
            seqs.push((ch, seq.max(0) as u64));
        }
        let number = self.bump(&tx, CHANGES_COUNTER)?;
        let change = Change {
            number,
            action,
            record: new.map(WorkOrder::to_json),
            old: old.map(WorkOrder::to_json),
            timestamp: now_rfc3339(),
            seqs,
        };
        // The change log is written in the same transaction: the streams' history survives a
        // restart (it is rebuilt from the log at start-up).
        tx.prepare_cached("INSERT INTO qw_changes(number, payload, time_ms) VALUES (?1, ?2, ?3)")?
            .execute(params![number, change_json(&change), unix_ms()])?;
        if number % 64 == 0 {
            tx.prepare_cached("DELETE FROM qw_changes WHERE number <= ?1 OR time_ms < ?2")?
                .execute(params![
                    number - CHANGE_LOG_CAP,
                    unix_ms() - self.hub.streams.ttl_ms
                ])?;
        }
        let pubs = crate::invalidation::publications(&change);
        tx.commit()?;
        self.hub.publish_with(change, pubs);
        Ok(())
    }

    /// Start a new stream epoch and forget the streams' history.
    fn reset_streams(&self, c: &mut Connection) -> Result<String, DbError> {
        let epoch = new_epoch();
        let tx = c.transaction()?;
        tx.execute("DELETE FROM qw_changes", [])?;
        tx.execute(
            "INSERT INTO qw_meta(name, value) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            params![EPOCH_KEY, epoch],
        )?;
        tx.commit()?;
        self.hub.streams.reset(epoch.clone());
        Ok(epoch)
    }

    fn create(&self, c: &mut Connection, new: &NewOrder) -> Result<WorkOrder, DbError> {
        let tx = c.transaction()?;
        let row = tx.query_row(
            &format!(
                "INSERT INTO work_orders(factory_id, title, status, qty, version, updated_at)
                 VALUES (?1, ?2, ?3, ?4, 1, ?5) RETURNING {COLS}"
            ),
            params![
                new.factory_id,
                new.title,
                new.status,
                new.qty,
                now_rfc3339()
            ],
            row_of,
        )?;
        self.commit_change(tx, Action::Insert, Some(&row), None)?;
        Ok(row)
    }

    fn update(&self, c: &mut Connection, id: i64, p: &Patch) -> Result<Option<WorkOrder>, DbError> {
        let tx = c.transaction()?;
        let old = tx
            .query_row(
                &format!("SELECT {COLS} FROM work_orders WHERE id = ?1"),
                params![id],
                row_of,
            )
            .optional()?;
        let Some(old) = old else { return Ok(None) };
        let new = tx.query_row(
            &format!(
                "UPDATE work_orders SET title = COALESCE(?2, title), status = COALESCE(?3, status),
                   qty = COALESCE(?4, qty) + ?5, version = version + 1, updated_at = ?6
                 WHERE id = ?1 RETURNING {COLS}"
            ),
            params![
                id,
                p.title,
                p.status,
                p.qty,
                p.qty_delta.unwrap_or(0),
                now_rfc3339()
            ],
            row_of,
        )?;
        self.commit_change(tx, Action::Update, Some(&new), Some(&old))?;
        Ok(Some(new))
    }

    fn delete(&self, c: &mut Connection, id: i64) -> Result<Option<WorkOrder>, DbError> {
        let tx = c.transaction()?;
        let old = tx
            .query_row(
                &format!("DELETE FROM work_orders WHERE id = ?1 RETURNING {COLS}"),
                params![id],
                row_of,
            )
            .optional()?;
        let Some(old) = old else { return Ok(None) };
        self.commit_change(tx, Action::Delete, None, Some(&old))?;
        Ok(Some(old))
    }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

pub struct Pg {
    client: tokio_postgres::Client,
    hub: Arc<Hub>,
}

/// Schema, counters, version/updated_at touch trigger and the change notification trigger (its
/// channels come from [`crate::invalidation`]). Run in one implicit transaction under an advisory
/// lock, so concurrent servers can start.
pub fn pg_schema() -> String {
    let seqs = crate::invalidation::pg_channel_exprs("r")
        .iter()
        .map(|e| format!("json_build_array({e}, qw_bump({e}))"))
        .collect::<Vec<_>>()
        .join(",\n    ");
    PG_SCHEMA.replace("__SEQS__", &seqs)
}

const PG_SCHEMA: &str = r#"
SELECT pg_advisory_xact_lock(7277001);
CREATE TABLE IF NOT EXISTS work_orders (
  id serial PRIMARY KEY,
  factory_id text NOT NULL,
  title text NOT NULL,
  status text NOT NULL DEFAULT 'open',
  qty integer NOT NULL DEFAULT 0,
  version integer NOT NULL DEFAULT 1,
  updated_at text NOT NULL DEFAULT to_char(clock_timestamp() AT TIME ZONE 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
);
CREATE INDEX IF NOT EXISTS work_orders_factory ON work_orders(factory_id, id);
CREATE TABLE IF NOT EXISTS qw_counters (name text PRIMARY KEY, value bigint NOT NULL);
CREATE TABLE IF NOT EXISTS qw_changes (number bigint PRIMARY KEY, payload text NOT NULL,
  time_ms bigint NOT NULL);
CREATE TABLE IF NOT EXISTS qw_meta (name text PRIMARY KEY, value text NOT NULL);
CREATE OR REPLACE FUNCTION qw_bump(n text) RETURNS bigint LANGUAGE sql AS $$
  INSERT INTO qw_counters(name, value) VALUES (n, 1)
  ON CONFLICT (name) DO UPDATE SET value = qw_counters.value + 1
  RETURNING value
$$;
CREATE OR REPLACE FUNCTION qw_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.version IS NOT DISTINCT FROM OLD.version THEN
    NEW.version := coalesce(OLD.version, 0) + 1;
  END IF;
  IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
    NEW.updated_at := to_char(clock_timestamp() AT TIME ZONE 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
  END IF;
  RETURN NEW;
END
$$;
CREATE OR REPLACE FUNCTION qw_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  r work_orders;
  seqs json;
  payload text;
BEGIN
  IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
  seqs := json_build_array(
    __SEQS__);
  payload := json_build_object(
    'change', qw_bump('__changes__'),
    'action', lower(TG_OP),
    'record', CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE to_json(NEW) END,
    'old', CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE to_json(OLD) END,
    'ts', to_char(clock_timestamp() AT TIME ZONE 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'seqs', seqs)::text;
  -- The change log, in the writing transaction: the streams' history survives a restart.
  INSERT INTO qw_changes(number, payload, time_ms)
    VALUES ((payload::json->>'change')::bigint, payload, (extract(epoch FROM clock_timestamp()) * 1000)::bigint);
  PERFORM pg_notify('querywire_changes', payload);
  RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS qw_touch ON work_orders;
CREATE TRIGGER qw_touch BEFORE UPDATE ON work_orders FOR EACH ROW EXECUTE FUNCTION qw_touch();
DROP TRIGGER IF EXISTS qw_notify ON work_orders;
CREATE TRIGGER qw_notify AFTER INSERT OR UPDATE OR DELETE ON work_orders
  FOR EACH ROW EXECUTE FUNCTION qw_notify();
"#;

const PG_COLS: &str = "id, factory_id, title, status, qty, version, updated_at";

fn pg_row(r: &tokio_postgres::Row) -> Result<WorkOrder, DbError> {
    Ok(WorkOrder {
        id: i64::from(r.try_get::<_, i32>(0)?),
        factory_id: r.try_get(1)?,
        title: r.try_get(2)?,
        status: r.try_get(3)?,
        qty: i64::from(r.try_get::<_, i32>(4)?),
        version: i64::from(r.try_get::<_, i32>(5)?),
        updated_at: r.try_get(6)?,
    })
}

fn to_i32(v: i64, what: &str) -> Result<i32, DbError> {
    i32::try_from(v).map_err(|_| DbError(format!("{what} out of range")))
}

/// A notification from the trigger, as published.
pub fn parse_notification(payload: &str) -> Option<Change> {
    let v: Value = serde_json::from_str(payload).ok()?;
    let action = Action::parse(v.get("action")?.as_str()?)?;
    let seqs = v
        .get("seqs")?
        .as_array()?
        .iter()
        .filter_map(|p| {
            let p = p.as_array()?;
            Some((p.first()?.as_str()?.to_string(), p.get(1)?.as_u64()?))
        })
        .collect();
    let non_null = |k: &str| v.get(k).filter(|x| !x.is_null()).cloned();
    Some(Change {
        number: v.get("change")?.as_i64()?,
        action,
        record: non_null("record"),
        old: non_null("old"),
        timestamp: v
            .get("ts")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(now_rfc3339),
        seqs,
    })
}

async fn pg_connect(url: &str) -> Result<tokio_postgres::Client, DbError> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            eprintln!("querywire demo server: postgres connection closed: {e}");
        }
    });
    Ok(client)
}

/// Open a LISTEN connection; notifications are published on the hub. Returns when it drops.
async fn pg_listen(url: &str, hub: Arc<Hub>) -> Result<tokio::task::JoinHandle<()>, DbError> {
    let (client, mut conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| conn.poll_message(cx));
        while let Some(msg) = messages.next().await {
            match msg {
                Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                    if tx.send(n.payload().to_string()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    eprintln!("querywire demo server: postgres LISTEN connection error: {e}");
                    break;
                }
            }
        }
    });
    client
        .batch_execute(&format!("LISTEN {NOTIFY_CHANNEL}"))
        .await?;
    // Counters after LISTEN: anything committed later arrives as a notification.
    for row in client
        .query("SELECT name, value FROM qw_counters", &[])
        .await?
    {
        let name: String = row.try_get(0)?;
        let value: i64 = row.try_get(1)?;
        if name != CHANGES_COUNTER {
            hub.set_last(&name, value.max(0) as u64);
        }
    }
    Ok(tokio::spawn(async move {
        // The session keeps its LISTEN open (and prunes the change log the trigger writes).
        while let Some(payload) = rx.recv().await {
            match parse_notification(&payload) {
                Some(change) => {
                    let number = change.number;
                    hub.publish(change);
                    if number % 64 == 0 {
                        let oldest = unix_ms() - hub.streams.ttl_ms;
                        let below = number - CHANGE_LOG_CAP;
                        if let Err(e) = client
                            .execute(
                                "DELETE FROM qw_changes WHERE number <= $1 OR time_ms < $2",
                                &[&below, &oldest],
                            )
                            .await
                        {
                            eprintln!("querywire demo server: pruning the change log failed: {e}");
                        }
                    }
                }
                None => eprintln!("querywire demo server: ignoring notification {payload}"),
            }
        }
        driver.abort();
    }))
}

/// The streams' epoch (created once per database) and history, before the counters are read.
async fn pg_load_streams(client: &tokio_postgres::Client, hub: &Hub) -> Result<(), DbError> {
    client
        .execute(
            "INSERT INTO qw_meta(name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[&EPOCH_KEY, &new_epoch()],
        )
        .await?;
    let epoch: String = client
        .query_one("SELECT value FROM qw_meta WHERE name = $1", &[&EPOCH_KEY])
        .await?
        .try_get(0)?;
    hub.streams.set_epoch(epoch);
    let oldest = unix_ms() - hub.streams.ttl_ms;
    client
        .execute("DELETE FROM qw_changes WHERE time_ms < $1", &[&oldest])
        .await?;
    for row in client
        .query(
            "SELECT payload, time_ms FROM qw_changes ORDER BY number",
            &[],
        )
        .await?
    {
        let payload: String = row.try_get(0)?;
        let time_ms: i64 = row.try_get(1)?;
        replay_change(hub, &payload, time_ms);
    }
    Ok(())
}

impl Pg {
    async fn reset_streams(&self) -> Result<String, DbError> {
        let epoch = new_epoch(); // hex digits only: safe inline, and one simple query is atomic
        self.client
            .batch_execute(&format!(
                "BEGIN; DELETE FROM qw_changes;
                 INSERT INTO qw_meta(name, value) VALUES ('{EPOCH_KEY}', '{epoch}')
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value; COMMIT;"
            ))
            .await?;
        self.hub.streams.reset(epoch.clone());
        Ok(epoch)
    }

    pub async fn open(url: &str, hub: Arc<Hub>) -> Result<Arc<Pg>, DbError> {
        let client = pg_connect(url).await?;
        client.batch_execute(&pg_schema()).await?;
        pg_load_streams(&client, &hub).await?;
        let first = pg_listen(url, hub.clone()).await?;
        let url_owned = url.to_string();
        let me_hub = hub.clone();
        tokio::spawn(async move {
            let mut current = first;
            loop {
                let _ = (&mut current).await;
                eprintln!("querywire demo server: LISTEN connection lost, reconnecting");
                loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    match pg_listen(&url_owned, hub.clone()).await {
                        Ok(h) => {
                            current = h;
                            break;
                        }
                        Err(e) => eprintln!("querywire demo server: LISTEN reconnect failed: {e}"),
                    }
                }
            }
        });
        let me = Arc::new(Pg {
            client,
            hub: me_hub,
        });
        // Seed under the same advisory lock the schema uses.
        me.client
            .batch_execute("BEGIN; SELECT pg_advisory_xact_lock(7277001);")
            .await?;
        let count: i64 = me
            .client
            .query_one("SELECT COUNT(*) FROM work_orders", &[])
            .await?
            .try_get(0)?;
        if count == 0 {
            for new in seed_rows() {
                me.client
                    .execute(
                        "INSERT INTO work_orders(factory_id, title, status, qty, version, updated_at)
                         VALUES ($1, $2, $3, $4, 1, $5)",
                        &[&new.factory_id, &new.title, &new.status, &to_i32(new.qty, "qty")?, &now_rfc3339()],
                    )
                    .await?;
            }
        }
        me.client.batch_execute("COMMIT").await?;
        Ok(me)
    }

    async fn list(&self, factory: Option<String>, page: i64, size: i64) -> Result<Page, DbError> {
        let offset = (page - 1).max(0) * size;
        let rows = self
            .client
            .query(
                &format!(
                    "SELECT {PG_COLS} FROM work_orders WHERE ($1::text IS NULL OR factory_id = $1)
                     ORDER BY id DESC LIMIT $2 OFFSET $3"
                ),
                &[&factory, &size, &offset],
            )
            .await?;
        let items = rows.iter().map(pg_row).collect::<Result<Vec<_>, _>>()?;
        let total: i64 = self
            .client
            .query_one(
                "SELECT COUNT(*) FROM work_orders WHERE ($1::text IS NULL OR factory_id = $1)",
                &[&factory],
            )
            .await?
            .try_get(0)?;
        Ok(Page { items, total })
    }

    async fn get(&self, id: i64) -> Result<Option<WorkOrder>, DbError> {
        let Ok(id) = i32::try_from(id) else {
            return Ok(None);
        };
        let row = self
            .client
            .query_opt(
                &format!("SELECT {PG_COLS} FROM work_orders WHERE id = $1"),
                &[&id],
            )
            .await?;
        row.as_ref().map(pg_row).transpose()
    }

    async fn create(&self, new: NewOrder) -> Result<WorkOrder, DbError> {
        let row = self
            .client
            .query_one(
                &format!(
                    "INSERT INTO work_orders(factory_id, title, status, qty, version, updated_at)
                     VALUES ($1, $2, $3, $4, 1, $5) RETURNING {PG_COLS}"
                ),
                &[
                    &new.factory_id,
                    &new.title,
                    &new.status,
                    &to_i32(new.qty, "qty")?,
                    &now_rfc3339(),
                ],
            )
            .await?;
        pg_row(&row)
    }

    async fn update(&self, id: i64, p: Patch) -> Result<Option<WorkOrder>, DbError> {
        let Ok(id) = i32::try_from(id) else {
            return Ok(None);
        };
        let qty = p.qty.map(|q| to_i32(q, "qty")).transpose()?;
        let delta = to_i32(p.qty_delta.unwrap_or(0), "qty")?;
        let row = self
            .client
            .query_opt(
                &format!(
                    "UPDATE work_orders SET title = COALESCE($2, title), status = COALESCE($3, status),
                       qty = COALESCE($4, qty) + $5, version = version + 1, updated_at = $6
                     WHERE id = $1 RETURNING {PG_COLS}"
                ),
                &[&id, &p.title, &p.status, &qty, &delta, &now_rfc3339()],
            )
            .await?;
        row.as_ref().map(pg_row).transpose()
    }

    async fn delete(&self, id: i64) -> Result<Option<WorkOrder>, DbError> {
        let Ok(id) = i32::try_from(id) else {
            return Ok(None);
        };
        let row = self
            .client
            .query_opt(
                &format!("DELETE FROM work_orders WHERE id = $1 RETURNING {PG_COLS}"),
                &[&id],
            )
            .await?;
        row.as_ref().map(pg_row).transpose()
    }
}
