//! The Centrifugo endpoint's protocol (`/connection/websocket`, JSON): connect with an HS256
//! token, disconnect codes, subscribe/unsubscribe, publications with offsets, recovery with
//! offset + epoch (in process, across a restart, after a stream reset), pings and pongs, refresh.
//! The same endpoint is driven by the real centrifuge-js in test/centrifugo.test.mjs.

mod common;

use std::time::Duration;

use common::*;
use futures_util::SinkExt;
use querywire_demo_server::jwt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

const SECRET: &str = "test-secret";

fn cfg() -> querywire_demo_server::Config {
    let mut c = config();
    c.centrifugo.secret = SECRET.into();
    c.centrifugo.ping = Duration::from_secs(1);
    c.centrifugo.pong_timeout = Duration::from_millis(500);
    c
}

fn token(claims: Value) -> String {
    jwt::sign(&claims, SECRET.as_bytes())
}

fn now_s() -> i64 {
    querywire_demo_server::clock::unix_ms() / 1000
}

/// Sends raw text (commands separated by newlines, as centrifuge-js batches them).
async fn send_text(w: &mut Ws, text: &str) {
    w.send(Message::Text(text.to_string().into())).await.expect("send");
}

/// The next reply or push that is not a server ping (`{}`), answering pings with pongs.
async fn next(w: &mut Ws) -> Value {
    loop {
        let v = next_json(w).await;
        if v.as_object().is_some_and(|o| o.is_empty()) {
            send_text(w, "{}").await;
            continue;
        }
        return v;
    }
}

async fn connected(a: std::net::SocketAddr) -> Ws {
    let mut w = ws(a, "/connection/websocket").await;
    let t = token(json!({ "sub": "u1", "exp": now_s() + 3600 }));
    send(&mut w, json!({ "id": 1, "connect": { "token": t, "name": "test" } })).await;
    let r = next(&mut w).await;
    assert_eq!(r["id"], 1, "{r}");
    assert!(r["connect"]["client"].as_str().is_some_and(|c| !c.is_empty()));
    w
}

async fn subscribe(w: &mut Ws, id: u64, req: Value) -> Value {
    send(w, json!({ "id": id, "subscribe": req })).await;
    let r = next(w).await;
    assert_eq!(r["id"], id, "{r}");
    r
}

#[tokio::test]
async fn connect_subscribe_publications_unsubscribe() {
    let server = start_with(cfg()).await;
    let a = server.addr;
    let mut w = ws(a, "/connection/websocket").await;
    let t = token(json!({ "sub": "u1", "exp": now_s() + 100 }));
    send(&mut w, json!({ "id": 1, "connect": { "token": t } })).await;
    let r = next(&mut w).await;
    let c = &r["connect"];
    assert_eq!((c["ping"].as_u64(), c["pong"].as_bool()), (Some(1), Some(true)), "{r}");
    assert_eq!(c["expires"], true);
    assert!(c["ttl"].as_i64().is_some_and(|t| (95..=100).contains(&t)), "{r}");

    let ch = "doc:work_orders:1";
    let r = subscribe(&mut w, 2, json!({ "channel": ch, "flag": 1 })).await;
    let s = &r["subscribe"];
    assert_eq!((s["recoverable"].as_bool(), s["positioned"].as_bool()), (Some(true), Some(true)));
    assert!(s["epoch"].as_str().is_some_and(|e| !e.is_empty()));
    assert!(s.get("was_recovering").is_none() && s.get("recovered").is_none(), "{r}");
    let top = s["offset"].as_u64().expect("offset");
    let r = subscribe(&mut w, 3, json!({ "channel": ch })).await;
    assert_eq!(r["error"]["code"], 105, "already subscribed");

    let row = patch(a, 1, json!({ "qty": 11 })).await;
    let p = next(&mut w).await;
    assert_eq!(p["push"]["channel"], ch, "{p}");
    assert_eq!(p["push"]["pub"]["offset"], top + 1);
    assert_eq!(p["push"]["pub"]["data"]["type"], "realtime");
    assert_eq!(p["push"]["pub"]["data"]["data"], row);

    // The seed 000 channels carry invalidations (the invalidation service).
    let r = subscribe(&mut w, 4, json!({ "channel": "entity:work_orders:1" })).await;
    assert!(r["subscribe"]["offset"].as_u64().is_some());
    send(&mut w, json!({ "id": 5, "unsubscribe": { "channel": ch } })).await;
    assert_eq!(next(&mut w).await, json!({ "id": 5, "unsubscribe": {} }));
    patch(a, 1, json!({ "qty": 12 })).await;
    let p = next(&mut w).await;
    assert_eq!(p["push"]["channel"], "entity:work_orders:1", "only the channel left: {p}");
    assert_eq!(p["push"]["pub"]["data"], json!({ "event": "invalidate", "queryKey": ["doc", "work_orders", "1"] }));
    assert!(next_json_within(&mut w, Duration::from_millis(300))
        .await
        .is_none_or(|v| v.as_object().is_some_and(|o| o.is_empty())));

    // Commands batched in one frame, and a method the endpoint does not implement.
    send_text(&mut w, "{\"id\":6,\"history\":{\"channel\":\"x\"}}\n{\"id\":7,\"subscribe\":{\"channel\":\"org:f1\"}}")
        .await;
    assert_eq!(next(&mut w).await["error"]["code"], 108);
    assert_eq!(next(&mut w).await["id"], 7);
    server.shutdown().await;
}

#[tokio::test]
async fn tokens_and_disconnect_codes() {
    let server = start_with(cfg()).await;
    let a = server.addr;
    let close_with = |token: Option<String>| async move {
        let mut w = ws(a, "/connection/websocket").await;
        let req = match token {
            Some(t) => json!({ "id": 1, "connect": { "token": t } }),
            None => json!({ "id": 1, "connect": {} }),
        };
        send(&mut w, req).await;
        close_code(&mut w).await
    };
    assert_eq!(close_with(Some("bad".into())).await, Some(3500), "not a JWT");
    let other = jwt::sign(&json!({ "sub": "u1" }), b"another secret");
    assert_eq!(close_with(Some(other)).await, Some(3500), "another secret");
    assert_eq!(close_with(None).await, Some(3501), "no token");

    // An expired token is an error reply (109): the client refreshes its token and retries.
    let mut w = ws(a, "/connection/websocket").await;
    let expired = token(json!({ "sub": "u1", "exp": now_s() - 1 }));
    send(&mut w, json!({ "id": 1, "connect": { "token": expired } })).await;
    assert_eq!(next(&mut w).await, json!({ "id": 1, "error": { "code": 109, "message": "token expired" } }));
    let fresh = token(json!({ "sub": "u1", "exp": now_s() + 2 }));
    send(&mut w, json!({ "id": 2, "connect": { "token": fresh } })).await;
    assert_eq!(next(&mut w).await["id"], 2);
    // Refresh on the open connection.
    let later = token(json!({ "sub": "u1", "exp": now_s() + 600 }));
    send(&mut w, json!({ "id": 3, "refresh": { "token": later } })).await;
    let r = next(&mut w).await;
    assert_eq!(r["refresh"]["expires"], true, "{r}");
    assert!(r["refresh"]["ttl"].as_i64().is_some_and(|t| t > 500));
    send(&mut w, json!({ "id": 4, "refresh": { "token": "bad" } })).await;
    assert_eq!(close_code(&mut w).await, Some(3500));

    // A command before connect.
    let mut w = ws(a, "/connection/websocket").await;
    send(&mut w, json!({ "id": 1, "subscribe": { "channel": "x" } })).await;
    assert_eq!(close_code(&mut w).await, Some(3501));

    // The demo's token endpoint signs with the configured secret.
    let r = http(a, "POST", "/api/centrifugo/token", Some(&json!({ "user": "alice", "ttl": 60 }))).await.json();
    let claims = jwt::verify(r["token"].as_str().unwrap(), SECRET.as_bytes(), now_s()).unwrap();
    assert_eq!(claims.sub, "alice");
    server.shutdown().await;
}

#[tokio::test]
async fn pings_pongs_and_no_pong() {
    let server = start_with(cfg()).await;
    let a = server.addr;
    let mut w = connected(a).await;
    // Answered pings keep the connection (next() answers them) for three intervals.
    let r = subscribe(&mut w, 2, json!({ "channel": "factory:f1" })).await;
    assert!(r["subscribe"].is_object());
    let started = std::time::Instant::now();
    let mut pings = 0;
    while started.elapsed() < Duration::from_millis(3200) {
        if let Some(v) = next_json_within(&mut w, Duration::from_millis(1500)).await {
            assert_eq!(v, json!({}), "only pings arrive");
            pings += 1;
            send_text(&mut w, "{}").await;
        }
    }
    assert!(pings >= 2, "{pings} pings");
    // Unanswered: closed with 3012 "no pong".
    let mut w = connected(a).await;
    assert_eq!(next_json(&mut w).await, json!({}));
    assert_eq!(close_code(&mut w).await, Some(3012));
    server.shutdown().await;
}

#[tokio::test]
async fn recovery_in_process_across_a_restart_and_after_a_reset() {
    let mut c = cfg();
    c.db_path = temp_db("centrifugo-recovery");
    let server = start_with(c.clone()).await;
    let a = server.addr;
    let ch = "doc:work_orders:2";
    let mut w = connected(a).await;
    let r = subscribe(&mut w, 2, json!({ "channel": ch })).await;
    let epoch = r["subscribe"]["epoch"].as_str().unwrap().to_string();
    let top = r["subscribe"]["offset"].as_u64().unwrap();
    for q in [1, 2, 3] {
        patch(a, 2, json!({ "qty": q })).await;
        assert_eq!(next(&mut w).await["push"]["pub"]["data"]["data"]["qty"], q);
    }

    // Recover from the first publication: the two after it, and the asked offset back.
    let recover = |offset: u64, epoch: &str, flag: i64| json!({ "channel": ch, "recover": true, "offset": offset, "epoch": epoch, "flag": flag });
    let mut w2 = connected(a).await;
    let r = subscribe(&mut w2, 2, recover(top + 1, &epoch, 1)).await;
    let s = &r["subscribe"];
    assert_eq!((s["was_recovering"].as_bool(), s["recovered"].as_bool()), (Some(true), Some(true)), "{r}");
    assert_eq!(s["offset"], top + 1);
    let pubs = s["publications"].as_array().expect("publications");
    let offsets: Vec<u64> = pubs.iter().map(|p| p["offset"].as_u64().unwrap()).collect();
    assert_eq!(offsets, [top + 2, top + 3]);
    assert_eq!(pubs[1]["data"]["data"]["qty"], 3);
    // Live publications after a recovery continue the stream, none repeated.
    patch(a, 2, json!({ "qty": 4 })).await;
    assert_eq!(next(&mut w2).await["push"]["pub"]["offset"], top + 4);

    // Another epoch: not recovered, the stream's position, no publications.
    let mut w3 = connected(a).await;
    let r = subscribe(&mut w3, 2, recover(top + 1, "not-the-epoch", 0)).await;
    let s = &r["subscribe"];
    assert_eq!(s["was_recovering"], true);
    assert!(s.get("recovered").is_none() && s.get("publications").is_none(), "{r}");
    assert_eq!((s["offset"].as_u64(), s["epoch"].as_str()), (Some(top + 4), Some(epoch.as_str())));
    // With rejectUnrecovered (flag 2): error 112 instead.
    let mut w4 = connected(a).await;
    let r = subscribe(&mut w4, 2, recover(top + 1, "not-the-epoch", 3)).await;
    assert_eq!(r["error"]["code"], 112);
    drop((w, w2, w3, w4));
    server.shutdown().await;

    // A restart on the same database: the stream (epoch, history) is still there.
    let server = start_with(c.clone()).await;
    let a = server.addr;
    let mut w = connected(a).await;
    let r = subscribe(&mut w, 2, recover(top + 2, &epoch, 1)).await;
    let s = &r["subscribe"];
    assert_eq!(s["recovered"], true, "recovered across a restart: {r}");
    assert_eq!(s["epoch"], epoch.as_str());
    let offsets: Vec<u64> =
        s["publications"].as_array().unwrap().iter().map(|p| p["offset"].as_u64().unwrap()).collect();
    assert_eq!(offsets, [top + 3, top + 4]);

    // A stream reset: a new epoch, and nothing before it can be recovered.
    let reset = http(a, "POST", "/api/admin/centrifugo", Some(&json!({ "reset": true }))).await.json();
    let new_epoch = reset["epoch"].as_str().unwrap().to_string();
    assert_ne!(new_epoch, epoch);
    let mut w2 = connected(a).await;
    let r = subscribe(&mut w2, 2, recover(top + 4, &epoch, 1)).await;
    let s = &r["subscribe"];
    assert!(s.get("recovered").is_none(), "{r}");
    assert_eq!((s["epoch"].as_str(), s["offset"].as_u64()), (Some(new_epoch.as_str()), Some(top + 4)));
    // From the new position on, recovery works again.
    patch(a, 2, json!({ "qty": 5 })).await;
    let mut w3 = connected(a).await;
    let r = subscribe(&mut w3, 2, recover(top + 4, &new_epoch, 1)).await;
    assert_eq!(r["subscribe"]["recovered"], true, "{r}");
    assert_eq!(r["subscribe"]["publications"][0]["data"]["data"]["qty"], 5);
    server.shutdown().await;
}

#[tokio::test]
async fn history_size_bounds_recovery() {
    let mut c = cfg();
    c.centrifugo_history_size = 2;
    let server = start_with(c).await;
    let a = server.addr;
    let ch = "doc:work_orders:3";
    let mut w = connected(a).await;
    let r = subscribe(&mut w, 2, json!({ "channel": ch })).await;
    let epoch = r["subscribe"]["epoch"].as_str().unwrap().to_string();
    let top = r["subscribe"]["offset"].as_u64().unwrap();
    for q in 1..=3 {
        patch(a, 3, json!({ "qty": q })).await;
    }
    let mut w2 = connected(a).await;
    let recover = |offset: u64| json!({ "channel": ch, "recover": true, "offset": offset, "epoch": epoch });
    let r = subscribe(&mut w2, 2, recover(top)).await;
    assert!(r["subscribe"].get("recovered").is_none(), "3 missed, 2 kept: {r}");
    let r = subscribe(&mut w2, 3, json!({ "channel": "factory:f1" })).await;
    assert!(r["subscribe"].is_object());
    let mut w3 = connected(a).await;
    let r = subscribe(&mut w3, 2, recover(top + 1)).await;
    assert_eq!(r["subscribe"]["recovered"], true, "2 missed, 2 kept: {r}");
    assert_eq!(r["subscribe"]["publications"].as_array().map(Vec::len), Some(2));
    server.shutdown().await;
}

/// The invalidation service: one write reaches `/ws`, `/sse`, the Supabase endpoint and the
/// Centrifugo endpoint, with the same change id and seq/offset on each transport.
#[tokio::test]
async fn one_write_reaches_every_transport() {
    let server = start_with(cfg()).await;
    let a = server.addr;
    let doc = "doc:work_orders:5";
    let mut plain = ws(a, "/ws").await;
    send(&mut plain, json!({ "type": "subscribe", "channels": [doc, "org:f2"] })).await;
    send(&mut plain, json!({ "type": "ping", "ref": 1 })).await;
    assert_eq!(next_json(&mut plain).await["type"], "pong");
    let mut sse = Sse::open(a, &format!("/sse?channels={doc}"), None).await;
    assert_eq!(sse.next_event().await.and_then(|e| e.event).as_deref(), Some("ping"));
    let mut phx = ws(a, "/realtime/v1/websocket?apikey=anon&vsn=1.0.0").await;
    let join = json!({ "config": { "postgres_changes": [
        { "event": "*", "schema": "public", "table": "work_orders", "filter": "id=eq.5" }
    ] } });
    send(&mut phx, json!({ "topic": "realtime:x", "event": "phx_join", "payload": join, "ref": "1", "join_ref": "1" }))
        .await;
    assert_eq!(next_json(&mut phx).await["payload"]["status"], "ok");
    let mut cf = connected(a).await;
    subscribe(&mut cf, 2, json!({ "channel": doc })).await;
    subscribe(&mut cf, 3, json!({ "channel": "org:f2" })).await;

    let row = patch(a, 5, json!({ "title": "Everywhere" })).await;
    assert_eq!(row["factory_id"], "f2");
    let mut frames = [next_json(&mut plain).await, next_json(&mut plain).await];
    frames.sort_by_key(|f| f["channel"].as_str().map(str::to_string));
    assert_eq!(frames[0]["channel"], doc);
    assert_eq!(frames[0]["payload"]["data"], row);
    let change_id = frames[0]["payload"]["id"].clone();
    assert_eq!(frames[1]["payload"], json!({ "event": "invalidate", "queryKey": ["list", "work_orders", "f2"] }));
    let sse_frame: Value = serde_json::from_str(&sse.next_message().await.expect("sse frame").data).unwrap();
    assert_eq!(sse_frame, frames[0], "SSE carries the same frame");
    let change = next_json(&mut phx).await;
    assert_eq!(change["event"], "postgres_changes");
    assert_eq!(change["payload"]["data"]["record"], row);
    let mut pubs = [next(&mut cf).await, next(&mut cf).await];
    pubs.sort_by_key(|p| p["push"]["channel"].as_str().map(str::to_string));
    assert_eq!(pubs[0]["push"]["channel"], doc);
    assert_eq!(pubs[0]["push"]["pub"]["data"]["id"], change_id);
    assert_eq!(pubs[0]["push"]["pub"]["offset"], frames[0]["seq"], "offset = seq");
    assert_eq!(pubs[1]["push"]["pub"]["data"], frames[1]["payload"]);
    assert_eq!(pubs[1]["push"]["pub"]["offset"], frames[1]["seq"]);
    server.shutdown().await;
}
