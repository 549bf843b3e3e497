//! The demo server over PostgreSQL. Runs only when DATABASE_URL is set:
//!
//!     export DATABASE_URL="$(bash scripts/postgres.sh)"
//!     cargo test --manifest-path examples/server/Cargo.toml --test postgres
//!
//! Tests share the database; each works on rows of its own factory id.

mod common;

use std::time::Duration;

use common::*;
use querywire_demo_server::Config;
use serde_json::{json, Value};

fn pg_config() -> Option<Config> {
    let url = std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty())?;
    let mut cfg = config();
    cfg.database_url = Some(url);
    Some(cfg)
}

macro_rules! require_pg {
    () => {
        match pg_config() {
            Some(c) => c,
            None => {
                assert!(
                    std::env::var_os("QUERYWIRE_REQUIRE_PG").is_none(),
                    "QUERYWIRE_REQUIRE_PG is set but DATABASE_URL is not"
                );
                eprintln!("skipped: DATABASE_URL is not set (see examples/server/README.md)");
                return;
            }
        }
    };
}

fn factory(name: &str) -> String {
    format!("pg-{}-{}-{name}", std::process::id(), querywire_demo_server::clock::unix_ms())
}

fn seq(v: &Value) -> u64 {
    v["seq"].as_u64().unwrap_or_else(|| panic!("frame without seq: {v}"))
}

async fn sql() -> tokio_postgres::Client {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("psql connect");
    tokio::spawn(conn);
    client
}

async fn subscribed(a: std::net::SocketAddr, channels: Value) -> Ws {
    let mut w = ws(a, "/ws").await;
    send(&mut w, json!({ "type": "subscribe", "channels": channels })).await;
    send(&mut w, json!({ "type": "ping", "ref": 0 })).await;
    // A write made just before subscribing reaches the server through NOTIFY, possibly after the
    // subscription: its frame may come first (the subscriber is then simply told about it).
    loop {
        let v = next_json(&mut w).await;
        if v["type"] == "pong" {
            break;
        }
        assert!(v.get("seq").is_some(), "an event frame or the pong: {v}");
    }
    w
}

#[tokio::test]
async fn pg_rest_and_realtime() {
    let cfg = require_pg!();
    let server = start_with(cfg).await;
    let a = server.addr;
    let stats = get_json(a, "/api/stats").await;
    assert_eq!(stats["db"], "postgres");
    let seeded = get_json(a, "/api/work_orders?factory_id=f1").await;
    assert!(seeded["total"].as_i64().unwrap_or(0) >= 1, "seeded: {seeded}");

    let f = factory("rest");
    let mut w = subscribed(a, json!([format!("list:work_orders:{f}"), format!("factory:{f}")])).await;
    let row = create(a, &f, "PG order").await;
    assert_eq!(row["version"], 1);
    let id = row["id"].as_i64().expect("id");
    let mut frames = [next_json(&mut w).await, next_json(&mut w).await];
    frames.sort_by_key(|f| f["channel"].as_str().map(str::to_string));
    assert_eq!(frames[0]["channel"], format!("factory:{f}"));
    assert_eq!(frames[0]["payload"]["action"], "insert");
    assert_eq!(frames[0]["payload"]["data"], row);
    assert_eq!(seq(&frames[0]), 1, "fresh channel starts at 1");
    assert!(frames[0]["payload"]["id"].as_str().is_some_and(|i| i.starts_with("chg-")));

    send(&mut w, json!({ "type": "subscribe", "channels": [format!("doc:work_orders:{id}")] })).await;
    send(&mut w, json!({ "type": "ping", "ref": 1 })).await;
    assert_eq!(next_json(&mut w).await["type"], "pong");
    let updated = patch(a, id, json!({ "status": "in_progress", "qty": 3 })).await;
    assert_eq!(updated["version"], 2, "one bump, not two (trigger leaves explicit bumps alone)");
    let mut frames = [next_json(&mut w).await, next_json(&mut w).await, next_json(&mut w).await];
    frames.sort_by_key(|f| f["channel"].as_str().map(str::to_string));
    assert_eq!(frames[0]["channel"], format!("doc:work_orders:{id}"));
    assert_eq!(frames[0]["payload"]["data"], updated);
    assert_eq!(seq(&frames[1]), 2);

    let r = http(a, "POST", &format!("/api/work_orders/{id}/approve"), None).await;
    assert_eq!(r.json()["version"], 3);
    assert_eq!(r.json()["status"], "approved");
    for _ in 0..3 {
        next_json(&mut w).await;
    }
    let r = http(a, "DELETE", &format!("/api/work_orders/{id}"), None).await;
    assert_eq!(r.status, 204);
    let del = next_json(&mut w).await;
    assert_eq!(del["payload"]["action"], "delete");
    assert_eq!(del["payload"]["data"]["id"], id);
    assert_eq!(http(a, "GET", &format!("/api/work_orders/{id}"), None).await.status, 404);
    server.shutdown().await;
}

/// Writes made with SQL directly (as with psql) are pushed too, with version bumped by trigger.
#[tokio::test]
async fn pg_direct_sql_writes_are_pushed() {
    let cfg = require_pg!();
    let server = start_with(cfg).await;
    let a = server.addr;
    let db = sql().await;
    let f = factory("sql");
    let mut w = subscribed(a, json!([format!("list:work_orders:{f}")])).await;
    let row = db
        .query_one("INSERT INTO work_orders(factory_id, title) VALUES ($1, 'typed in psql') RETURNING id", &[&f])
        .await
        .expect("insert");
    let id: i32 = row.get(0);
    let ins = next_json(&mut w).await;
    assert_eq!(ins["payload"]["action"], "insert");
    assert_eq!(ins["payload"]["data"]["id"], id);
    assert_eq!(ins["payload"]["data"]["version"], 1);
    assert_eq!(ins["payload"]["data"]["status"], "open");

    db.execute("UPDATE work_orders SET status = 'done' WHERE id = $1", &[&id]).await.expect("update");
    let upd = next_json(&mut w).await;
    assert_eq!(upd["payload"]["action"], "update");
    assert_eq!(upd["payload"]["data"]["status"], "done");
    assert_eq!(upd["payload"]["data"]["version"], 2, "trigger bumps version");
    assert_eq!(seq(&upd), seq(&ins) + 1);

    // A rolled-back write publishes nothing and leaves no seq gap.
    db.batch_execute(&format!("BEGIN; UPDATE work_orders SET qty = 5 WHERE id = {id}; ROLLBACK;"))
        .await
        .expect("rollback");
    db.execute("DELETE FROM work_orders WHERE id = $1", &[&id]).await.expect("delete");
    let del = next_json(&mut w).await;
    assert_eq!(del["payload"]["action"], "delete");
    assert_eq!(seq(&del), seq(&upd) + 1);
    assert!(next_json_within(&mut w, Duration::from_millis(200)).await.is_none());
    server.shutdown().await;
}

#[tokio::test]
async fn pg_since_recovery_across_restart() {
    let cfg = require_pg!();
    let server = start_with(cfg.clone()).await;
    let a = server.addr;
    let f = factory("restart");
    let row = create(a, &f, "survives restarts").await;
    let id = row["id"].as_i64().expect("id");
    let ch = format!("doc:work_orders:{id}");
    let mut w = subscribed(a, json!([ch])).await;
    patch(a, id, json!({ "qty": 1 })).await;
    let s1 = seq(&next_json(&mut w).await);
    patch(a, id, json!({ "qty": 2 })).await;
    let s2 = seq(&next_json(&mut w).await);
    assert_eq!(s2, s1 + 1);

    // In-process recovery.
    let mut w2 = ws(a, "/ws").await;
    send(&mut w2, json!({ "type": "subscribe", "channels": [ch], "since": { ch.clone(): s1 } })).await;
    assert_eq!(next_json(&mut w2).await["ok"], true);
    assert_eq!(seq(&next_json(&mut w2).await), s2);
    drop((w, w2));
    server.shutdown().await;

    let server = start_with(cfg.clone()).await;
    let a = server.addr;
    let mut w = ws(a, "/ws").await;
    send(&mut w, json!({ "type": "subscribe", "channels": [ch], "since": { ch.clone(): s2 } })).await;
    assert_eq!(next_json(&mut w).await["ok"], false, "no history in the new process yet");
    patch(a, id, json!({ "qty": 3 })).await;
    assert_eq!(seq(&next_json(&mut w).await), s2 + 1, "seq goes on across the restart");
    let mut w2 = ws(a, "/ws").await;
    send(&mut w2, json!({ "type": "subscribe", "channels": [], "since": { ch.clone(): s2 } })).await;
    assert_eq!(next_json(&mut w2).await["ok"], true, "recovered from the new process's history");
    assert_eq!(seq(&next_json(&mut w2).await), s2 + 1);
    send(&mut w2, json!({ "type": "subscribe", "channels": [], "since": { ch.clone(): s1 } })).await;
    assert_eq!(next_json(&mut w2).await["ok"], false, "s2 is not in the new process's history");
    drop(w2);
    server.shutdown().await;
    let s2 = s2 + 1;

    // A write while no server listens (seq s2+1 is never sent): the counter moves on, so a client
    // at s2 is not recovered from the next process's frames, which start at s2+2.
    let db = sql().await;
    db.execute("UPDATE work_orders SET qty = 9 WHERE id = $1", &[&(id as i32)]).await.expect("update");
    let server = start_with(cfg).await;
    let a = server.addr;
    let mut w = subscribed(a, json!([ch])).await;
    patch(a, id, json!({ "qty": 10 })).await;
    assert_eq!(seq(&next_json(&mut w).await), s2 + 2);
    let mut w2 = ws(a, "/ws").await;
    send(&mut w2, json!({ "type": "subscribe", "channels": [ch], "since": { ch.clone(): s2 } })).await;
    assert_eq!(next_json(&mut w2).await["ok"], false, "s2+1 was published by nobody");
    send(&mut w2, json!({ "type": "subscribe", "channels": [], "since": { ch.clone(): s2 + 1 } })).await;
    assert_eq!(next_json(&mut w2).await["ok"], true);
    assert_eq!(seq(&next_json(&mut w2).await), s2 + 2);
    server.shutdown().await;
}

/// The Supabase endpoint over PostgreSQL: a psql write reaches a postgres_changes binding.
#[tokio::test]
async fn pg_supabase_endpoint() {
    let cfg = require_pg!();
    let server = start_with(cfg).await;
    let a = server.addr;
    let f = factory("supa");
    let mut w = ws(a, "/realtime/v1/websocket?apikey=anon&vsn=2.0.0").await;
    let join = json!({ "config": { "postgres_changes": [
        { "event": "*", "schema": "public", "table": "work_orders", "filter": format!("factory_id=eq.{f}") }
    ] } });
    send(&mut w, json!(["1", "1", "realtime:t", "phx_join", join])).await;
    let reply = next_json(&mut w).await;
    let bid = reply[4]["response"]["postgres_changes"][0]["id"].clone();
    let db = sql().await;
    db.execute("INSERT INTO work_orders(factory_id, title, qty) VALUES ($1, 'x', 4)", &[&f]).await.expect("insert");
    let msg = next_json(&mut w).await;
    assert_eq!(msg[3], "postgres_changes");
    assert_eq!(msg[4]["ids"], json!([bid]));
    assert_eq!(msg[4]["data"]["type"], "INSERT");
    assert_eq!(msg[4]["data"]["record"]["qty"], 4);
    assert_eq!(msg[4]["data"]["record"]["factory_id"], f);
    server.shutdown().await;
}
