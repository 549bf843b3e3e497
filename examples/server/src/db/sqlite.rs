//! SQLite: every write runs in a transaction that also bumps the per-channel counters, and the
//! change is published right after the commit, still under the connection lock (commit order =
//! publish order).

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};

use super::{
    change_json, replay_change, seed_rows, DbError, NewOrder, Page, Patch, WorkOrder, CHANGES_COUNTER, CHANGE_LOG_CAP,
    EPOCH_KEY,
};
use crate::clock::{now_rfc3339, unix_ms};
use crate::hub::{channels_for, Action, Change, Hub};
use crate::streams::new_epoch;

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
                .query_row("SELECT value FROM qw_meta WHERE name = ?1", params![EPOCH_KEY], |r| r.get(0))
                .optional()?;
            let epoch = match epoch {
                Some(e) => e,
                None => {
                    let e = new_epoch();
                    conn.execute("INSERT INTO qw_meta(name, value) VALUES (?1, ?2)", params![EPOCH_KEY, e])?;
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
        let me = Arc::new(Sqlite { conn: Mutex::new(conn), hub, base });
        {
            let mut c = me.conn.lock().map_err(|_| DbError("sqlite lock poisoned".into()))?;
            let count: i64 = c.query_row("SELECT COUNT(*) FROM work_orders", [], |r| r.get(0))?;
            if count == 0 {
                for new in seed_rows() {
                    me.create(&mut c, &new)?;
                }
            }
        }
        Ok(me)
    }

    pub(super) async fn run<T, F>(self: &Arc<Self>, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&Sqlite, &mut Connection) -> Result<T, DbError> + Send + 'static,
    {
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = me.conn.lock().map_err(|_| DbError("sqlite lock poisoned".into()))?;
            f(&me, &mut c)
        })
        .await
        .map_err(|e| DbError(format!("sqlite task: {e}")))?
    }

    pub(super) fn list(c: &mut Connection, factory: Option<&str>, page: i64, size: i64) -> Result<Page, DbError> {
        let offset = (page - 1).max(0) * size;
        let mut st = c.prepare_cached(&format!(
            "SELECT {COLS} FROM work_orders WHERE (?1 IS NULL OR factory_id = ?1)
             ORDER BY id DESC LIMIT ?2 OFFSET ?3"
        ))?;
        let items = st.query_map(params![factory, size, offset], row_of)?.collect::<rusqlite::Result<Vec<_>>>()?;
        let total: i64 = c.query_row(
            "SELECT COUNT(*) FROM work_orders WHERE (?1 IS NULL OR factory_id = ?1)",
            params![factory],
            |r| r.get(0),
        )?;
        Ok(Page { items, total })
    }

    pub(super) fn get(c: &mut Connection, id: i64) -> Result<Option<WorkOrder>, DbError> {
        Ok(c.query_row(&format!("SELECT {COLS} FROM work_orders WHERE id = ?1"), params![id], row_of).optional()?)
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
        tx.prepare_cached("INSERT INTO qw_changes(number, payload, time_ms) VALUES (?1, ?2, ?3)")?.execute(params![
            number,
            change_json(&change),
            unix_ms()
        ])?;
        if number % 64 == 0 {
            tx.prepare_cached("DELETE FROM qw_changes WHERE number <= ?1 OR time_ms < ?2")?
                .execute(params![number - CHANGE_LOG_CAP, unix_ms() - self.hub.streams.ttl_ms])?;
        }
        let pubs = crate::invalidation::publications(&change);
        tx.commit()?;
        self.hub.publish_with(change, pubs);
        Ok(())
    }

    /// Start a new stream epoch and forget the streams' history.
    pub(super) fn reset_streams(&self, c: &mut Connection) -> Result<String, DbError> {
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

    pub(super) fn create(&self, c: &mut Connection, new: &NewOrder) -> Result<WorkOrder, DbError> {
        let tx = c.transaction()?;
        let row = tx.query_row(
            &format!(
                "INSERT INTO work_orders(factory_id, title, status, qty, version, updated_at)
                 VALUES (?1, ?2, ?3, ?4, 1, ?5) RETURNING {COLS}"
            ),
            params![new.factory_id, new.title, new.status, new.qty, now_rfc3339()],
            row_of,
        )?;
        self.commit_change(tx, Action::Insert, Some(&row), None)?;
        Ok(row)
    }

    pub(super) fn update(&self, c: &mut Connection, id: i64, p: &Patch) -> Result<Option<WorkOrder>, DbError> {
        let tx = c.transaction()?;
        let old =
            tx.query_row(&format!("SELECT {COLS} FROM work_orders WHERE id = ?1"), params![id], row_of).optional()?;
        let Some(old) = old else { return Ok(None) };
        let new = tx.query_row(
            &format!(
                "UPDATE work_orders SET title = COALESCE(?2, title), status = COALESCE(?3, status),
                   qty = COALESCE(?4, qty) + ?5, version = version + 1, updated_at = ?6
                 WHERE id = ?1 RETURNING {COLS}"
            ),
            params![id, p.title, p.status, p.qty, p.qty_delta.unwrap_or(0), now_rfc3339()],
            row_of,
        )?;
        self.commit_change(tx, Action::Update, Some(&new), Some(&old))?;
        Ok(Some(new))
    }

    pub(super) fn delete(&self, c: &mut Connection, id: i64) -> Result<Option<WorkOrder>, DbError> {
        let tx = c.transaction()?;
        let old = tx
            .query_row(&format!("DELETE FROM work_orders WHERE id = ?1 RETURNING {COLS}"), params![id], row_of)
            .optional()?;
        let Some(old) = old else { return Ok(None) };
        self.commit_change(tx, Action::Delete, None, Some(&old))?;
        Ok(Some(old))
    }
}
