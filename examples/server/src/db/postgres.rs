//! PostgreSQL: an `AFTER` trigger bumps the counters and calls `pg_notify('querywire_changes', …)`
//! in the writing transaction; a dedicated connection `LISTEN`s and publishes what it hears, so
//! writes made with psql directly are pushed too.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;

use super::{
    replay_change, seed_rows, DbError, NewOrder, Page, Patch, WorkOrder, CHANGES_COUNTER, CHANGE_LOG_CAP, EPOCH_KEY,
    NOTIFY_CHANNEL,
};
use crate::clock::{now_rfc3339, unix_ms};
use crate::hub::{Action, Change, Hub};
use crate::streams::new_epoch;

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
        timestamp: v.get("ts").and_then(Value::as_str).map(str::to_string).unwrap_or_else(now_rfc3339),
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
    client.batch_execute(&format!("LISTEN {NOTIFY_CHANNEL}")).await?;
    // Counters after LISTEN: anything committed later arrives as a notification.
    for row in client.query("SELECT name, value FROM qw_counters", &[]).await? {
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
                            .execute("DELETE FROM qw_changes WHERE number <= $1 OR time_ms < $2", &[&below, &oldest])
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
    let epoch: String =
        client.query_one("SELECT value FROM qw_meta WHERE name = $1", &[&EPOCH_KEY]).await?.try_get(0)?;
    hub.streams.set_epoch(epoch);
    let oldest = unix_ms() - hub.streams.ttl_ms;
    client.execute("DELETE FROM qw_changes WHERE time_ms < $1", &[&oldest]).await?;
    for row in client.query("SELECT payload, time_ms FROM qw_changes ORDER BY number", &[]).await? {
        let payload: String = row.try_get(0)?;
        let time_ms: i64 = row.try_get(1)?;
        replay_change(hub, &payload, time_ms);
    }
    Ok(())
}

impl Pg {
    pub(super) async fn reset_streams(&self) -> Result<String, DbError> {
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
        let me = Arc::new(Pg { client, hub: me_hub });
        // Seed under the same advisory lock the schema uses.
        me.client.batch_execute("BEGIN; SELECT pg_advisory_xact_lock(7277001);").await?;
        let count: i64 = me.client.query_one("SELECT COUNT(*) FROM work_orders", &[]).await?.try_get(0)?;
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

    pub(super) async fn list(&self, factory: Option<String>, page: i64, size: i64) -> Result<Page, DbError> {
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
            .query_one("SELECT COUNT(*) FROM work_orders WHERE ($1::text IS NULL OR factory_id = $1)", &[&factory])
            .await?
            .try_get(0)?;
        Ok(Page { items, total })
    }

    pub(super) async fn get(&self, id: i64) -> Result<Option<WorkOrder>, DbError> {
        let Ok(id) = i32::try_from(id) else {
            return Ok(None);
        };
        let row = self.client.query_opt(&format!("SELECT {PG_COLS} FROM work_orders WHERE id = $1"), &[&id]).await?;
        row.as_ref().map(pg_row).transpose()
    }

    pub(super) async fn create(&self, new: NewOrder) -> Result<WorkOrder, DbError> {
        let row = self
            .client
            .query_one(
                &format!(
                    "INSERT INTO work_orders(factory_id, title, status, qty, version, updated_at)
                     VALUES ($1, $2, $3, $4, 1, $5) RETURNING {PG_COLS}"
                ),
                &[&new.factory_id, &new.title, &new.status, &to_i32(new.qty, "qty")?, &now_rfc3339()],
            )
            .await?;
        pg_row(&row)
    }

    pub(super) async fn update(&self, id: i64, p: Patch) -> Result<Option<WorkOrder>, DbError> {
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

    pub(super) async fn delete(&self, id: i64) -> Result<Option<WorkOrder>, DbError> {
        let Ok(id) = i32::try_from(id) else {
            return Ok(None);
        };
        let row = self
            .client
            .query_opt(&format!("DELETE FROM work_orders WHERE id = $1 RETURNING {PG_COLS}"), &[&id])
            .await?;
        row.as_ref().map(pg_row).transpose()
    }
}
