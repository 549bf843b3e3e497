//! The demo server over SQLite, in-process on an ephemeral port.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

fn seq(v: &Value) -> u64 {
    v["seq"].as_u64().unwrap_or_else(|| panic!("frame without seq: {v}"))
}

#[tokio::test]
async fn rest_crud_and_version_bumps() {
    let server = start_memory().await;
    let a = server.addr;

    let list = get_json(a, "/api/work_orders?factory_id=f1&page=1&pageSize=2").await;
    assert_eq!(list["page"], 1);
    assert_eq!(list["pageSize"], 2);
    assert_eq!(list["items"].as_array().map(Vec::len), Some(2));
    let total = list["total"].as_i64().expect("total");
    assert!(total >= 2);
    let ids: Vec<i64> = list["items"].as_array().into_iter().flatten().filter_map(|r| r["id"].as_i64()).collect();
    assert!(ids[0] > ids[1], "ordered by id desc: {ids:?}");

    let row = create(a, "f1", "Drill holes").await;
    assert_eq!(row["version"], 1);
    assert_eq!(row["status"], "open");
    assert_eq!(row["factory_id"], "f1");
    let id = row["id"].as_i64().expect("id");
    let list = get_json(a, "/api/work_orders?factory_id=f1").await;
    assert_eq!(list["total"].as_i64(), Some(total + 1));
    assert_eq!(list["items"][0]["id"].as_i64(), Some(id), "newest first");

    let got = get_json(a, &format!("/api/work_orders/{id}")).await;
    assert_eq!(got, row);

    let updated = patch(a, id, json!({ "title": "Drill 4 holes", "qty": 4 })).await;
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["title"], "Drill 4 holes");
    assert_eq!(updated["qty"], 4);

    let r = http(a, "POST", &format!("/api/work_orders/{id}/approve"), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "approved");
    assert_eq!(r.json()["version"], 3);

    let r = http(a, "DELETE", &format!("/api/work_orders/{id}"), None).await;
    assert_eq!(r.status, 204);
    let r = http(a, "GET", &format!("/api/work_orders/{id}"), None).await;
    assert_eq!(r.status, 404);
    assert!(r.json()["error"].is_string());
    let r = http(a, "DELETE", &format!("/api/work_orders/{id}"), None).await;
    assert_eq!(r.status, 404);

    // Bad input gets JSON errors, never a panic.
    for (method, path, body) in [
        ("POST", "/api/work_orders", "{"),
        ("POST", "/api/work_orders", "[]"),
        ("POST", "/api/work_orders", r#"{"title":"no factory"}"#),
        ("POST", "/api/work_orders", r#"{"factory_id":"f1","title":"x","qty":"many"}"#),
        ("PATCH", "/api/work_orders/abc", r#"{"title":"x"}"#),
        ("PATCH", "/api/work_orders/1", r#"{"title":5}"#),
        ("GET", "/api/work_orders?page=zero", ""),
        ("GET", "/api/work_orders/99999999999999999999999", ""),
        ("POST", "/api/burst", r#"{"factory_id":"f1","kind":"nope"}"#),
        ("POST", "/api/admin/realtime", r#"{"ws":"yes"}"#),
    ] {
        let r = http_raw(a, method, path, &[("content-type", "application/json")], body).await;
        assert!((400..500).contains(&r.status), "{method} {path} {body}: {} {}", r.status, r.body);
        assert!(r.json()["error"].is_string(), "{method} {path}: {}", r.body);
    }
    let r = http(a, "GET", "/api/nope", None).await;
    assert_eq!(r.status, 404);
    assert!(r.json()["error"].is_string());
    server.shutdown().await;
}

#[tokio::test]
async fn stats_count_route_patterns() {
    let server = start_memory().await;
    let a = server.addr;
    http(a, "POST", "/api/stats/reset", None).await;
    get_json(a, "/api/work_orders/1").await;
    get_json(a, "/api/work_orders/2").await;
    get_json(a, "/api/work_orders?factory_id=f1").await;
    patch(a, 1, json!({ "qty": 3 })).await;
    http(a, "POST", "/api/work_orders/1/approve", None).await;
    let stats = get_json(a, "/api/stats").await;
    assert_eq!(stats["db"], "sqlite");
    let req = &stats["requests"];
    assert_eq!(req["GET /api/work_orders/:id"], 2, "{stats}");
    assert_eq!(req["GET /api/work_orders"], 1, "{stats}");
    assert_eq!(req["PATCH /api/work_orders/:id"], 1, "{stats}");
    assert_eq!(req["POST /api/work_orders/:id/approve"], 1, "{stats}");
    let r = http(a, "POST", "/api/stats/reset", None).await;
    assert_eq!(r.status, 200);
    let stats = get_json(a, "/api/stats").await;
    assert_eq!(stats["requests"], json!({}), "{stats}");
    // CORS is permissive.
    let r = http_raw(a, "GET", "/api/stats", &[("origin", "http://example.test")], "").await;
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    server.shutdown().await;
}

#[tokio::test]
async fn ws_subscribe_receives_frames_with_seq() {
    let server = start_memory().await;
    let a = server.addr;
    let mut ws = ws(a, "/ws").await;
    send(&mut ws, json!({ "type": "auth", "token": "good" })).await;
    send(
        &mut ws,
        json!({ "type": "subscribe", "channels": ["doc:work_orders:1", "list:work_orders:f1", "factory:f1"] }),
    )
    .await;
    // A round trip makes sure the subscription is in place.
    send(&mut ws, json!({ "type": "ping", "ref": 1 })).await;
    assert_eq!(next_json(&mut ws).await, json!({ "type": "pong", "ref": 1 }));

    let row = patch(a, 1, json!({ "status": "in_progress" })).await;
    let mut frames = Vec::new();
    for _ in 0..3 {
        frames.push(next_json(&mut ws).await);
    }
    frames.sort_by_key(|f| f["channel"].as_str().map(str::to_string));
    let chans: Vec<&str> = frames.iter().filter_map(|f| f["channel"].as_str()).collect();
    assert_eq!(chans, ["doc:work_orders:1", "factory:f1", "list:work_orders:f1"]);
    let p = &frames[0]["payload"];
    assert_eq!(p["type"], "realtime");
    assert_eq!(p["entity"], "work_orders");
    assert_eq!(p["action"], "update");
    assert_eq!(p["data"], row);
    assert!(p["timestamp"].as_str().is_some_and(|t| t.ends_with('Z') && t.contains('T')));
    let id = p["id"].as_str().expect("id");
    assert!(id.starts_with("chg-"));
    assert!(frames.iter().all(|f| f["payload"]["id"] == id), "one envelope id per change");
    let doc_seq = seq(&frames[0]);

    patch(a, 1, json!({ "qty": 1 })).await;
    let mut next = Vec::new();
    for _ in 0..3 {
        next.push(next_json(&mut ws).await);
    }
    let doc = next.iter().find(|f| f["channel"] == "doc:work_orders:1").expect("doc frame");
    assert_eq!(seq(doc), doc_seq + 1, "seq counts up by one per channel");
    assert_ne!(doc["payload"]["id"], id);

    // Create goes to list + factory; unsubscribe stops delivery.
    send(&mut ws, json!({ "type": "unsubscribe", "channels": ["factory:f1", "doc:work_orders:1"] })).await;
    send(&mut ws, json!({ "type": "ping", "ref": "x" })).await;
    assert_eq!(next_json(&mut ws).await["type"], "pong");
    let new = create(a, "f1", "New").await;
    let f = next_json(&mut ws).await;
    assert_eq!(f["channel"], "list:work_orders:f1");
    assert_eq!(f["payload"]["action"], "insert");
    assert_eq!(f["payload"]["data"], new);
    assert!(next_json_within(&mut ws, Duration::from_millis(300)).await.is_none(), "no frames after unsubscribe");

    // Delete carries the deleted row.
    send(&mut ws, json!({ "type": "subscribe", "channels": [format!("doc:work_orders:{}", new["id"])] })).await;
    send(&mut ws, json!({ "type": "ping", "ref": 2 })).await;
    assert_eq!(next_json(&mut ws).await["type"], "pong");
    http(a, "DELETE", &format!("/api/work_orders/{}", new["id"]), None).await;
    let mut got = [next_json(&mut ws).await, next_json(&mut ws).await];
    got.sort_by_key(|f| f["channel"].as_str().map(str::to_string));
    assert_eq!(got[0]["payload"]["action"], "delete");
    assert_eq!(got[0]["payload"]["data"]["id"], new["id"]);

    // Errors are frames, not disconnects.
    send(&mut ws, json!({ "type": "subscribe", "channels": "nope" })).await;
    let e = next_json(&mut ws).await;
    assert_eq!(e["type"], "error");
    assert!(e["code"].is_string() && e["message"].is_string());
    send(&mut ws, json!({ "type": "dance" })).await;
    assert_eq!(next_json(&mut ws).await["code"], "unknown_type");
    server.shutdown().await;
}

#[tokio::test]
async fn ws_since_recovery() {
    let server = start_memory().await;
    let a = server.addr;
    let ch = "doc:work_orders:2";
    let mut ws1 = ws(a, "/ws").await;
    send(&mut ws1, json!({ "type": "subscribe", "channels": [ch] })).await;
    send(&mut ws1, json!({ "type": "ping", "ref": 0 })).await;
    next_json(&mut ws1).await;
    let mut seqs = Vec::new();
    for q in 1..=3 {
        patch(a, 2, json!({ "qty": q })).await;
        seqs.push(seq(&next_json(&mut ws1).await));
    }
    assert_eq!(seqs[1], seqs[0] + 1);
    assert_eq!(seqs[2], seqs[1] + 1);

    // Resume after the first: ok, then the two later frames in order, then live frames.
    let mut ws2 = ws(a, "/ws").await;
    send(&mut ws2, json!({ "type": "subscribe", "channels": [ch], "since": { ch: seqs[0] } })).await;
    assert_eq!(next_json(&mut ws2).await, json!({ "type": "recovered", "channel": ch, "ok": true }));
    let r1 = next_json(&mut ws2).await;
    let r2 = next_json(&mut ws2).await;
    assert_eq!((seq(&r1), seq(&r2)), (seqs[1], seqs[2]));
    assert_eq!(r2["payload"]["data"]["qty"], 3);
    patch(a, 2, json!({ "qty": 4 })).await;
    assert_eq!(seq(&next_json(&mut ws2).await), seqs[2] + 1);
    assert!(next_json_within(&mut ws2, Duration::from_millis(200)).await.is_none(), "no duplicates");

    // Up to date: ok with nothing to replay.
    let mut ws3 = ws(a, "/ws").await;
    send(&mut ws3, json!({ "type": "subscribe", "channels": [ch], "since": { ch: seqs[2] + 1 } })).await;
    assert_eq!(next_json(&mut ws3).await["ok"], true);
    assert!(next_json_within(&mut ws3, Duration::from_millis(200)).await.is_none());

    // Not covered: a seq from the future, an unknown channel, a gap older than the history.
    let mut ws4 = ws(a, "/ws").await;
    send(
        &mut ws4,
        json!({ "type": "subscribe", "channels": [], "since": { ch: seqs[2] + 100, "doc:work_orders:777": 5 } }),
    )
    .await;
    let mut got = [next_json(&mut ws4).await, next_json(&mut ws4).await];
    got.sort_by_key(|f| f["channel"].as_str().map(str::to_string));
    assert_eq!(got[0], json!({ "type": "recovered", "channel": ch, "ok": false }));
    assert_eq!(got[1], json!({ "type": "recovered", "channel": "doc:work_orders:777", "ok": false }));
    // ...and the channel is subscribed anyway: the next frame arrives.
    patch(a, 2, json!({ "qty": 5 })).await;
    assert_eq!(seq(&next_json(&mut ws4).await), seqs[2] + 2);
    server.shutdown().await;

    // History is bounded.
    let mut cfg = config();
    cfg.history_limit = 2;
    let server = start_with(cfg).await;
    let a = server.addr;
    let mut w = ws(a, "/ws").await;
    send(&mut w, json!({ "type": "subscribe", "channels": ["doc:work_orders:3"] })).await;
    send(&mut w, json!({ "type": "ping", "ref": 0 })).await;
    next_json(&mut w).await;
    let mut s = Vec::new();
    for q in 0..4 {
        patch(a, 3, json!({ "qty": q })).await;
        s.push(seq(&next_json(&mut w).await));
    }
    let mut w2 = ws(a, "/ws").await;
    send(&mut w2, json!({ "type": "subscribe", "channels": [], "since": { "doc:work_orders:3": s[0] } })).await;
    assert_eq!(next_json(&mut w2).await["ok"], false, "history of 2 does not cover 3 missed frames");
    send(&mut w2, json!({ "type": "subscribe", "channels": [], "since": { "doc:work_orders:3": s[1] } })).await;
    assert_eq!(next_json(&mut w2).await["ok"], true);
    assert_eq!(seq(&next_json(&mut w2).await), s[2]);
    assert_eq!(seq(&next_json(&mut w2).await), s[3]);
    server.shutdown().await;
}

#[tokio::test]
async fn seq_and_recovery_across_restart() {
    let mut cfg = config();
    cfg.db_path = temp_db("restart");
    let server = start_with(cfg.clone()).await;
    let a = server.addr;
    let ch = "doc:work_orders:1";
    let mut w = ws(a, "/ws").await;
    send(&mut w, json!({ "type": "subscribe", "channels": [ch] })).await;
    send(&mut w, json!({ "type": "ping", "ref": 0 })).await;
    next_json(&mut w).await;
    patch(a, 1, json!({ "qty": 1 })).await;
    let s1 = seq(&next_json(&mut w).await);
    patch(a, 1, json!({ "qty": 2 })).await;
    let s2 = seq(&next_json(&mut w).await);
    let chg = next_json_within(&mut w, Duration::from_millis(100)).await;
    assert!(chg.is_none());
    drop(w);
    server.shutdown().await;

    let server = start_with(cfg.clone()).await;
    let a = server.addr;
    let mut w = ws(a, "/ws").await;
    // No history in the new process: not recoverable, even for a client that saw everything.
    send(&mut w, json!({ "type": "subscribe", "channels": [ch], "since": { ch: s2 } })).await;
    assert_eq!(next_json(&mut w).await, json!({ "type": "recovered", "channel": ch, "ok": false }));
    // Numbering goes on from the persisted counter.
    let row = patch(a, 1, json!({ "qty": 3 })).await;
    assert_eq!(row["version"].as_i64(), Some(4), "seeded rows start at version 1");
    let f = next_json(&mut w).await;
    assert_eq!(seq(&f), s2 + 1);
    // Writes go on after the restart: a client that saw s2 before it is recovered from the new
    // process's history; one that missed s2 is not.
    let mut w2 = ws(a, "/ws").await;
    send(&mut w2, json!({ "type": "subscribe", "channels": [ch], "since": { ch: s2 } })).await;
    assert_eq!(next_json(&mut w2).await["ok"], true);
    assert_eq!(seq(&next_json(&mut w2).await), s2 + 1);
    let mut w3 = ws(a, "/ws").await;
    send(&mut w3, json!({ "type": "subscribe", "channels": [ch], "since": { ch: s1 } })).await;
    assert_eq!(next_json(&mut w3).await["ok"], false);
    server.shutdown().await;
}

#[tokio::test]
async fn ping_pong_and_admin_switches() {
    let server = start_memory().await;
    let a = server.addr;
    let mut w = ws(a, "/ws").await;
    send(&mut w, json!({ "type": "ping", "ref": 7 })).await;
    assert_eq!(next_json(&mut w).await, json!({ "type": "pong", "ref": 7 }));

    let r = http(a, "POST", "/api/admin/realtime", Some(&json!({ "pong": false }))).await;
    assert_eq!(r.json(), json!({ "ws": true, "sse": true, "pong": false }));
    send(&mut w, json!({ "type": "ping", "ref": 8 })).await;
    assert!(next_json_within(&mut w, Duration::from_millis(400)).await.is_none(), "no pong while disabled");
    http(a, "POST", "/api/admin/realtime", Some(&json!({ "pong": true }))).await;
    send(&mut w, json!({ "type": "ping", "ref": "nine" })).await;
    assert_eq!(next_json(&mut w).await, json!({ "type": "pong", "ref": "nine" }));

    // ws:false closes open sockets and refuses upgrades with 503.
    http(a, "POST", "/api/admin/realtime", Some(&json!({ "ws": false }))).await;
    assert!(close_code(&mut w).await.is_some_and(|c| c != 4001 && c != 4003), "closed, not final");
    let err = tokio_tungstenite::connect_async(format!("ws://{a}/ws")).await.expect_err("refused");
    match err {
        tokio_tungstenite::tungstenite::Error::Http(res) => assert_eq!(res.status().as_u16(), 503),
        other => panic!("expected HTTP 503, got {other:?}"),
    }
    http(a, "POST", "/api/admin/realtime", Some(&json!({ "ws": true }))).await;
    let mut w = ws(a, "/ws").await;
    send(&mut w, json!({ "type": "ping", "ref": 1 })).await;
    assert_eq!(next_json(&mut w).await["type"], "pong");

    // sse:false: 503 for new streams, open ones end.
    let mut sse = Sse::open(a, "/sse?channels=doc:work_orders:1", None).await;
    assert_eq!(sse.status, 200);
    assert_eq!(sse.next_event().await.and_then(|e| e.event).as_deref(), Some("ping"));
    http(a, "POST", "/api/admin/realtime", Some(&json!({ "sse": false }))).await;
    assert!(sse.next_message().await.is_none(), "stream ended");
    let r = http(a, "GET", "/sse?channels=doc:work_orders:1", None).await;
    assert_eq!(r.status, 503);
    http(a, "POST", "/api/admin/realtime", Some(&json!({ "sse": true }))).await;
    server.shutdown().await;
}

#[tokio::test]
async fn auth_close_codes() {
    let server = start_memory().await;
    let a = server.addr;
    for (token, code) in [("bad", 4001u16), ("forbidden", 4003)] {
        let mut w = ws(a, "/ws").await;
        send(&mut w, json!({ "type": "auth", "token": token })).await;
        assert_eq!(close_code(&mut w).await, Some(code), "token {token}");
    }
    let mut w = ws(a, "/ws?token=bad").await;
    assert_eq!(close_code(&mut w).await, Some(4001));
    let r = http(a, "GET", "/sse?channels=a&token=forbidden", None).await;
    assert_eq!(r.status, 403);
    let r = http(a, "GET", "/sse?channels=a&token=bad", None).await;
    assert_eq!(r.status, 401);
    let mut w = ws(a, "/ws").await;
    send(&mut w, json!({ "type": "auth", "token": "anything-else" })).await;
    send(&mut w, json!({ "type": "ping", "ref": 1 })).await;
    assert_eq!(next_json(&mut w).await["type"], "pong");
    server.shutdown().await;
}

#[tokio::test]
async fn sse_frames_pings_and_last_event_id() {
    let server = start_memory().await;
    let a = server.addr;
    let ch = "doc:work_orders:4";
    let mut sse = Sse::open(a, &format!("/sse?channels={ch},factory:f1"), None).await;
    assert_eq!(sse.status, 200);
    let first = sse.next_event().await.expect("initial ping");
    assert_eq!(first.event.as_deref(), Some("ping"));

    let row = patch(a, 4, json!({ "title": "Assemble gearbox v2" })).await;
    let mut evs = [sse.next_message().await.expect("frame"), sse.next_message().await.expect("frame")];
    evs.sort_by_key(|e| e.id.clone());
    let doc = evs.iter().find(|e| e.id.as_deref().is_some_and(|i| i.starts_with(ch))).expect("doc frame");
    let frame: Value = serde_json::from_str(&doc.data).expect("json data");
    assert_eq!(frame["channel"], ch);
    assert_eq!(frame["payload"]["data"], row);
    assert_eq!(doc.id.as_deref(), Some(format!("{ch}:{}", seq(&frame)).as_str()));
    let first_seq = seq(&frame);

    // A ping arrives on its own (interval shortened for the test).
    let mut saw_ping = false;
    for _ in 0..3 {
        if let Some(ev) = sse.next_event().await {
            if ev.event.as_deref() == Some("ping") {
                saw_ping = true;
                break;
            }
        }
    }
    assert!(saw_ping);
    drop(sse);

    patch(a, 4, json!({ "qty": 11 })).await;
    patch(a, 4, json!({ "qty": 12 })).await;
    let last_id = format!("{ch}:{first_seq}");
    let mut sse = Sse::open(a, &format!("/sse?channels={ch}"), Some(&last_id)).await;
    let rec = sse.next_message().await.expect("recovered");
    assert_eq!(
        serde_json::from_str::<Value>(&rec.data).ok(),
        Some(json!({ "type": "recovered", "channel": ch, "ok": true }))
    );
    let r1 = sse.next_message().await.expect("replay 1");
    let r2 = sse.next_message().await.expect("replay 2");
    assert_eq!(r1.id, Some(format!("{ch}:{}", first_seq + 1)));
    assert_eq!(r2.id, Some(format!("{ch}:{}", first_seq + 2)));
    let f2: Value = serde_json::from_str(&r2.data).expect("json");
    assert_eq!(f2["payload"]["data"]["qty"], 12);

    let r = http(a, "GET", "/sse", None).await;
    assert_eq!(r.status, 400);
    assert!(r.json()["error"].is_string());
    server.shutdown().await;
}

#[tokio::test]
async fn burst_spreads_writes() {
    let server = start_memory().await;
    let a = server.addr;
    let mut w = ws(a, "/ws").await;
    send(&mut w, json!({ "type": "subscribe", "channels": ["list:work_orders:f2"] })).await;
    send(&mut w, json!({ "type": "ping", "ref": 0 })).await;
    next_json(&mut w).await;
    let t = std::time::Instant::now();
    let r =
        http(a, "POST", "/api/burst", Some(&json!({ "factory_id": "f2", "count": 20, "ms": 300, "kind": "update" })))
            .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["writes"], 20);
    assert!(t.elapsed() >= Duration::from_millis(250));
    let mut last = None;
    for _ in 0..20 {
        let f = next_json(&mut w).await;
        assert_eq!(f["payload"]["action"], "update");
        if let Some(prev) = last {
            assert_eq!(seq(&f), prev + 1);
        }
        last = Some(seq(&f));
    }
    let r = http(
        a,
        "POST",
        "/api/burst",
        Some(&json!({ "factory_id": "f2", "count": 3, "ms": 0, "kind": "delete_insert" })),
    )
    .await;
    assert_eq!(r.json()["writes"], 6);
    let actions: Vec<String> = {
        let mut v = Vec::new();
        for _ in 0..6 {
            v.push(next_json(&mut w).await["payload"]["action"].as_str().unwrap_or_default().to_string());
        }
        v
    };
    assert_eq!(actions, ["delete", "insert", "delete", "insert", "delete", "insert"]);
    server.shutdown().await;
}

/// The Supabase-compatible endpoint, driven with raw Phoenix frames (vsn 2.0.0 arrays and 1.0.0 objects).
#[tokio::test]
async fn supabase_phoenix_protocol() {
    let server = start_memory().await;
    let a = server.addr;
    let mut w = ws(a, "/realtime/v1/websocket?apikey=anon&vsn=2.0.0").await;
    send(&mut w, json!([null, "1", "phoenix", "heartbeat", {}])).await;
    assert_eq!(next_json(&mut w).await, json!([null, "1", "phoenix", "phx_reply", { "status": "ok", "response": {} }]));

    let config = json!({ "config": {
        "broadcast": { "ack": false, "self": false }, "presence": { "key": "", "enabled": false },
        "postgres_changes": [
            { "event": "*", "schema": "public", "table": "work_orders", "filter": "factory_id=eq.f1" },
            { "event": "UPDATE", "schema": "public", "table": "work_orders", "filter": "id=eq.2" },
            { "event": "INSERT", "schema": "public", "table": "other" }
        ], "private": false }, "access_token": "tok" });
    send(&mut w, json!(["3", "3", "realtime:orders", "phx_join", config])).await;
    let reply = next_json(&mut w).await;
    assert_eq!(reply[3], "phx_reply");
    assert_eq!(reply[0], "3");
    assert_eq!(reply[4]["status"], "ok");
    let pcs = reply[4]["response"]["postgres_changes"].as_array().cloned().unwrap_or_default();
    assert_eq!(pcs.len(), 3);
    assert_eq!(pcs[0]["filter"], "factory_id=eq.f1");
    assert_eq!(pcs[1]["event"], "UPDATE");
    assert!(pcs[2].get("filter").is_none());
    let ids: Vec<u64> = pcs.iter().filter_map(|p| p["id"].as_u64()).collect();
    assert_eq!(ids.len(), 3);

    let row = patch(a, 2, json!({ "status": "approved" })).await;
    let msg = next_json(&mut w).await;
    assert_eq!(msg[2], "realtime:orders");
    assert_eq!(msg[3], "postgres_changes");
    let p = &msg[4];
    assert_eq!(p["ids"], json!([ids[0], ids[1]]));
    assert_eq!(p["data"]["type"], "UPDATE");
    assert_eq!(p["data"]["schema"], "public");
    assert_eq!(p["data"]["table"], "work_orders");
    assert_eq!(p["data"]["record"], row);
    assert_eq!(p["data"]["old_record"]["id"], 2);
    assert!(p["data"]["columns"].as_array().is_some_and(|c| c.len() == 7));
    assert!(p["data"]["commit_timestamp"].is_string());
    assert!(p["data"]["errors"].is_null());

    // f2's rows do not match factory_id=eq.f1.
    patch(a, 5, json!({ "qty": 1 })).await;
    assert!(next_json_within(&mut w, Duration::from_millis(300)).await.is_none());

    send(&mut w, json!(["3", "4", "realtime:orders", "access_token", { "access_token": "t2" }])).await;
    assert_eq!(next_json(&mut w).await[4]["status"], "ok");

    send(&mut w, json!(["3", "5", "realtime:orders", "phx_leave", {}])).await;
    assert_eq!(next_json(&mut w).await[4]["status"], "ok");
    assert_eq!(next_json(&mut w).await[3], "phx_close");
    patch(a, 2, json!({ "qty": 1 })).await;
    assert!(next_json_within(&mut w, Duration::from_millis(300)).await.is_none(), "left");

    // vsn 1.0.0 objects.
    let mut w = ws(a, "/realtime/v1/websocket?apikey=anon&vsn=1.0.0").await;
    send(&mut w, json!({ "topic": "realtime:one", "event": "phx_join", "ref": "1", "join_ref": "1",
        "payload": { "config": { "postgres_changes": [{ "event": "DELETE", "schema": "public", "table": "work_orders" }] } } })).await;
    let reply = next_json(&mut w).await;
    assert_eq!(reply["event"], "phx_reply");
    let id = reply["payload"]["response"]["postgres_changes"][0]["id"].clone();
    http(a, "DELETE", "/api/work_orders/6", None).await;
    let msg = next_json(&mut w).await;
    assert_eq!(msg["event"], "postgres_changes");
    assert_eq!(msg["payload"]["ids"], json!([id]));
    assert_eq!(msg["payload"]["data"]["type"], "DELETE");
    assert_eq!(msg["payload"]["data"]["old_record"]["id"], 6);

    // Bad filters are refused.
    send(&mut w, json!({ "topic": "realtime:two", "event": "phx_join", "ref": "2", "join_ref": "2",
        "payload": { "config": { "postgres_changes": [{ "event": "*", "schema": "public", "filter": "id=like.x" }] } } })).await;
    assert_eq!(next_json(&mut w).await["payload"]["status"], "error");
    server.shutdown().await;
}

#[tokio::test]
async fn static_files_with_spa_fallback() {
    let dist = std::env::temp_dir().join(format!("querywire-dist-{}", std::process::id()));
    std::fs::create_dir_all(dist.join("assets")).expect("dist");
    std::fs::write(dist.join("index.html"), "<!doctype html><title>querywire demo</title>").expect("index");
    std::fs::write(dist.join("assets/app.js"), "console.log('hi')").expect("asset");
    let mut cfg = config();
    cfg.web_dist = dist.clone();
    let server = start_with(cfg).await;
    let a = server.addr;
    let r = http(a, "GET", "/", None).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("querywire demo"));
    let r = http(a, "GET", "/assets/app.js", None).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").is_some_and(|c| c.contains("javascript")), "{:?}", r.headers);
    let r = http(a, "GET", "/work_orders/12", None).await;
    assert_eq!(r.status, 200, "SPA fallback");
    assert!(r.body.contains("querywire demo"));
    let r = http(a, "GET", "/api/missing", None).await;
    assert_eq!(r.status, 404, "API paths never fall back to the app");
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(dist);
}
