//! `GET /connection/websocket`: Centrifugo's bidirectional client protocol, JSON format, as the
//! `centrifuge` npm client 5.x speaks it (read from centrifuge-js `centrifuge.ts` /
//! `subscription.ts`, centrifugal/protocol `client.proto`, centrifugal/centrifuge `client.go`).
//!
//! A WebSocket text frame holds one or more commands, one JSON object per line:
//! `{id, connect|subscribe|unsubscribe|refresh|…}`; a reply echoes the `id` with its result or
//! `error: {code, message}`; pushes are `{push: {channel, pub: {data, offset}}}`; an empty object
//! `{}` is the server's ping and the client's pong.
//!
//! Implemented: `connect` (HS256 token, `expires`/`ttl`, server pings with `pong: true`),
//! `subscribe` (every channel allowed; streams always positioned and recoverable, as with
//! Centrifugo's `force_recovery`; `recover` + `offset` + `epoch` answered from [`crate::streams`];
//! the `rejectUnrecovered` flag), `unsubscribe`, `refresh` (token refresh), publications with
//! `offset`. Not implemented (answered with error 108 "not available"): `publish`, `history`,
//! `presence`, `presence_stats`, `rpc`, `send`, `sub_refresh`; also not: subscription tokens,
//! server-side subscriptions (`connect.subs`), join/leave, delta compression, channel compaction
//! ids (pushes always name the channel), protobuf, the HTTP-streaming/SSE emulation transports.
//!
//! Disconnects (close code + plain reason, as Centrifugo's WebSocket transport sends them): 3500
//! invalid token, 3501 bad request (no token, malformed command, a command before `connect`),
//! 3005 connection expired, 3008 slow, 3012 no pong, 3001 shutdown (also when the admin switch
//! turns WebSockets off). Errors in replies: 109 token expired, 105 already subscribed, 107 bad
//! request, 112 unrecoverable position, 108 not available.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use serde_json::{json, Map, Value};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{sleep_until, Instant};

use crate::clock::unix_ms;
use crate::hub::Published;
use crate::jwt::{self, TokenError};
use crate::{AppState, ConnGuard};

const MAX_CHANNEL_LEN: usize = 255;
const MAX_SUBS: usize = 1000;
/// `subscribe.flag` bit: fail with 112 instead of answering `recovered: false`.
const FLAG_REJECT_UNRECOVERED: i64 = 2;
const EXPIRED_CLOSE_DELAY: Duration = Duration::from_secs(25);

/// Settings of the endpoint (env in README: `CENTRIFUGO_*`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// HMAC secret of connection tokens (Centrifugo `client.token.hmac_secret_key`).
    pub secret: String,
    /// Server ping interval (Centrifugo `client.ping_interval`, 25 s); sent in whole seconds.
    pub ping: Duration,
    /// Time for the pong after a ping (Centrifugo `client.pong_timeout`, 8 s).
    pub pong_timeout: Duration,
    /// Accept connections without a token (Centrifugo `client.allow_anonymous_connect_without_token`).
    pub allow_anonymous: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            secret: "querywire-demo-secret".into(),
            ping: Duration::from_secs(25),
            pong_timeout: Duration::from_secs(8),
            allow_anonymous: false,
        }
    }
}

pub async fn handler(State(app): State<AppState>, ws: WebSocketUpgrade) -> Response {
    if let Some(refused) = app.ws_refusal() {
        return refused;
    }
    ws.max_message_size(1 << 20).on_upgrade(move |socket| run(app, socket))
}

/// A disconnect: close code and reason.
#[derive(Debug, Clone, Copy)]
struct Disconnect(u16, &'static str);

const INVALID_TOKEN: Disconnect = Disconnect(3500, "invalid token");
const BAD_REQUEST: Disconnect = Disconnect(3501, "bad request");
const EXPIRED: Disconnect = Disconnect(3005, "connection expired");
const SLOW: Disconnect = Disconnect(3008, "slow");
const NO_PONG: Disconnect = Disconnect(3012, "no pong");
const SHUTDOWN: Disconnect = Disconnect(3001, "shutdown");

struct Conn {
    client: String,
    /// channel -> live publications with an offset up to this were sent in the subscribe reply
    /// or before the subscription, and are skipped.
    subs: HashMap<String, u64>,
    connected: bool,
    /// Token expiry (Unix s), when the token has one.
    exp: Option<i64>,
    ping_at: Option<Instant>,
    pong_by: Option<Instant>,
    out: Vec<String>,
}

fn client_id() -> String {
    static N: AtomicU64 = AtomicU64::new(1);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let t = unix_ms() as u64;
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (t >> 16) as u32,
        (t & 0xffff) as u16,
        (n >> 12) & 0xfff,
        n & 0xfff,
        u64::from(std::process::id()) << 16 | (n & 0xffff)
    )
}

fn reply(id: u64, key: &str, result: Value) -> String {
    let mut m = Map::new();
    m.insert("id".into(), json!(id));
    m.insert(key.into(), result);
    Value::Object(m).to_string()
}

fn error_reply(id: u64, code: u32, message: &str) -> String {
    json!({ "id": id, "error": { "code": code, "message": message } }).to_string()
}

/// A publication as JSON text: `{"data":<data>,"offset":n}` (data is raw JSON).
fn pub_json(data: &str, offset: u64) -> String {
    format!("{{\"data\":{data},\"offset\":{offset}}}")
}

async fn at(deadline: Option<Instant>) {
    match deadline {
        Some(d) => sleep_until(d).await,
        None => std::future::pending().await,
    }
}

fn now_s() -> i64 {
    unix_ms().div_euclid(1000)
}

async fn close(socket: &mut WebSocket, d: Disconnect) {
    let frame = CloseFrame { code: d.0, reason: d.1.into() };
    if socket.send(Message::Close(Some(frame))).await.is_err() {
        return;
    }
    // Finish the closing handshake before dropping the TCP connection: closing it with the
    // client's commands still unread makes the kernel reset it, and the client would see 1006
    // (transport closed: reconnect) instead of the code (3500 invalid token: no reconnect).
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(Ok(m)) = socket.recv().await {
            if matches!(m, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

async fn run(app: AppState, mut socket: WebSocket) {
    let _guard = ConnGuard::new(&app.conns.centrifugo);
    // Receiver first, snapshots later: nothing published in between can be missed.
    let mut rx = app.hub.subscribe();
    let mut flags = app.flags.subscribe();
    let settings = app.centrifugo.clone();
    let mut c = Conn {
        client: client_id(),
        subs: HashMap::new(),
        connected: false,
        exp: None,
        ping_at: None,
        pong_by: None,
        out: Vec::new(),
    };
    let end: Option<Disconnect> = loop {
        // Centrifugo closes an expired connection after `client.expired_close_delay` (25 s), time
        // in which the client's refresh (at `ttl`) arrives.
        let expiry = c.exp.map(|e| {
            let left = (e - now_s()).max(0) as u64;
            Instant::now() + Duration::from_secs(left) + EXPIRED_CLOSE_DELAY
        });
        let step: Result<(), Option<Disconnect>> = tokio::select! {
            msg = socket.recv() => match msg {
                Some(Ok(Message::Text(text))) => handle_frame(&app, &settings, &mut c, text.as_str()),
                Some(Ok(Message::Binary(_))) => Err(Some(BAD_REQUEST)),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => Err(None),
                Some(Ok(_)) => Ok(()),
            },
            p = rx.recv() => match p {
                Ok(p) => { deliver(&mut c, &p); Ok(()) }
                // Too slow: Centrifugo disconnects; the client reconnects and recovers.
                Err(RecvError::Lagged(_)) => Err(Some(SLOW)),
                Err(RecvError::Closed) => Err(Some(SHUTDOWN)),
            },
            r = flags.changed() => {
                let f = *flags.borrow_and_update();
                if r.is_err() || f.shutdown || !f.ws { Err(Some(SHUTDOWN)) } else { Ok(()) }
            },
            _ = at(c.ping_at) => {
                c.ping_at = Some(Instant::now() + settings.ping);
                // The admin switch `pong: false` silences the server: no pings, the client
                // notices (its "no ping" timeout) and reconnects.
                if app.flags().pong {
                    c.out.push("{}".into());
                    if c.pong_by.is_none() {
                        c.pong_by = Some(Instant::now() + settings.pong_timeout);
                    }
                }
                Ok(())
            },
            _ = at(c.pong_by) => Err(Some(NO_PONG)),
            _ = at(expiry) => Err(Some(EXPIRED)),
        };
        if flush(&mut socket, &mut c).await.is_err() {
            break None;
        }
        if let Err(d) = step {
            break d;
        }
    };
    if let Some(d) = end {
        close(&mut socket, d).await;
    }
}

async fn flush(socket: &mut WebSocket, c: &mut Conn) -> Result<(), axum::Error> {
    for text in c.out.drain(..) {
        socket.send(Message::Text(text.into())).await?;
    }
    Ok(())
}

fn deliver(c: &mut Conn, p: &Published) {
    for f in &p.frames {
        if let Some(&skip) = c.subs.get(&f.channel) {
            if f.seq > skip {
                c.out.push(format!(
                    "{{\"push\":{{\"channel\":{},\"pub\":{}}}}}",
                    Value::String(f.channel.clone()),
                    pub_json(&f.data, f.seq)
                ));
                c.subs.insert(f.channel.clone(), f.seq);
            }
        }
    }
}

/// One WebSocket frame: commands separated by newlines.
fn handle_frame(app: &AppState, s: &Settings, c: &mut Conn, text: &str) -> Result<(), Option<Disconnect>> {
    for line in text.split('\n').map(str::trim).filter(|l| !l.is_empty()) {
        let Ok(Value::Object(cmd)) = serde_json::from_str::<Value>(line) else {
            return Err(Some(BAD_REQUEST));
        };
        if cmd.is_empty() {
            // The client's pong.
            c.pong_by = None;
            continue;
        }
        let Some(id) = cmd.get("id").and_then(Value::as_u64).filter(|id| *id > 0) else {
            return Err(Some(BAD_REQUEST));
        };
        let (method, req) = match cmd.iter().find(|(k, _)| k.as_str() != "id") {
            Some((k, v)) => (k.as_str(), v.as_object().cloned().unwrap_or_default()),
            None => return Err(Some(BAD_REQUEST)),
        };
        if !c.connected && method != "connect" {
            return Err(Some(BAD_REQUEST));
        }
        match method {
            "connect" => connect(s, c, id, &req)?,
            "subscribe" => subscribe(app, c, id, &req),
            "unsubscribe" => {
                let ch = req.get("channel").and_then(Value::as_str).unwrap_or("");
                c.subs.remove(ch);
                c.out.push(reply(id, "unsubscribe", json!({})));
            }
            "refresh" => refresh(s, c, id, &req)?,
            _ => c.out.push(error_reply(id, 108, "not available")),
        }
    }
    Ok(())
}

/// The token's claims, or the disconnect / error the client gets.
fn check_token(s: &Settings, token: Option<&str>) -> Result<Option<jwt::Claims>, Result<u32, Disconnect>> {
    match token.filter(|t| !t.is_empty()) {
        None if s.allow_anonymous => Ok(None),
        None => Err(Err(BAD_REQUEST)),
        Some(t) => match jwt::verify(t, s.secret.as_bytes(), now_s()) {
            Ok(claims) => Ok(Some(claims)),
            Err(TokenError::Expired) => Err(Ok(109)),
            Err(TokenError::Invalid) => Err(Err(INVALID_TOKEN)),
        },
    }
}

fn expiry_fields(m: &mut Map<String, Value>, exp: Option<i64>) {
    if let Some(e) = exp {
        m.insert("expires".into(), json!(true));
        m.insert("ttl".into(), json!((e - now_s()).max(1)));
    }
}

fn connect(s: &Settings, c: &mut Conn, id: u64, req: &Map<String, Value>) -> Result<(), Option<Disconnect>> {
    if c.connected {
        return Err(Some(BAD_REQUEST));
    }
    let claims = match check_token(s, req.get("token").and_then(Value::as_str)) {
        Ok(claims) => claims,
        Err(Ok(code)) => {
            c.out.push(error_reply(id, code, "token expired"));
            return Ok(());
        }
        Err(Err(d)) => return Err(Some(d)),
    };
    c.connected = true;
    c.exp = claims.as_ref().and_then(|cl| cl.exp);
    let mut m = session_fields(c);
    m.insert("ping".into(), json!(s.ping.as_secs().max(1)));
    m.insert("pong".into(), json!(true));
    c.out.push(reply(id, "connect", Value::Object(m)));
    c.ping_at = Some(Instant::now() + s.ping);
    Ok(())
}

/// What a connect and a refresh reply both carry: the client id, the server version, the expiry.
fn session_fields(c: &Conn) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("client".into(), json!(c.client));
    m.insert("version".into(), json!(concat!("querywire-demo ", env!("CARGO_PKG_VERSION"))));
    expiry_fields(&mut m, c.exp);
    m
}

fn refresh(s: &Settings, c: &mut Conn, id: u64, req: &Map<String, Value>) -> Result<(), Option<Disconnect>> {
    match check_token(s, req.get("token").and_then(Value::as_str)) {
        Ok(claims) => {
            c.exp = claims.and_then(|cl| cl.exp);
            c.out.push(reply(id, "refresh", Value::Object(session_fields(c))));
            Ok(())
        }
        // Centrifugo answers an expired refresh token by disconnecting (connection expired).
        Err(Ok(_)) => Err(Some(EXPIRED)),
        Err(Err(d)) => Err(Some(d)),
    }
}

fn subscribe(app: &AppState, c: &mut Conn, id: u64, req: &Map<String, Value>) {
    let channel = req.get("channel").and_then(Value::as_str).unwrap_or("");
    if channel.is_empty() || channel.len() > MAX_CHANNEL_LEN {
        c.out.push(error_reply(id, 107, "bad request"));
        return;
    }
    if c.subs.contains_key(channel) {
        c.out.push(error_reply(id, 105, "already subscribed"));
        return;
    }
    if c.subs.len() >= MAX_SUBS {
        c.out.push(error_reply(id, 106, "limit exceeded"));
        return;
    }
    let recover = req.get("recover").and_then(Value::as_bool).unwrap_or(false);
    let offset = req.get("offset").and_then(Value::as_u64).unwrap_or(0);
    let epoch = req.get("epoch").and_then(Value::as_str).unwrap_or("");
    let flag = req.get("flag").and_then(Value::as_i64).unwrap_or(0);
    let pos = app.hub.streams.subscribe(channel, recover.then_some((offset, epoch)));
    let recovered = pos.recovered == Some(true);
    if recover && !recovered && flag & FLAG_REJECT_UNRECOVERED != 0 {
        c.out.push(error_reply(id, 112, "unrecoverable position"));
        return;
    }
    // Recovered: the reply carries the asked offset and the publications after it (client.go);
    // otherwise the stream's top, and no publications.
    let mut m = Map::new();
    m.insert("recoverable".into(), json!(true));
    m.insert("positioned".into(), json!(true));
    m.insert("epoch".into(), json!(pos.epoch));
    m.insert("offset".into(), json!(if recovered { offset } else { pos.top }));
    if recover {
        m.insert("was_recovering".into(), json!(true));
    }
    if recovered {
        m.insert("recovered".into(), json!(true));
    }
    let mut text = Value::Object(m).to_string();
    if recovered && !pos.pubs.is_empty() {
        let pubs: Vec<String> = pos.pubs.iter().map(|p| pub_json(&p.data, p.offset)).collect();
        text.pop(); // the closing brace
        text.push_str(",\"publications\":[");
        text.push_str(&pubs.join(","));
        text.push_str("]}");
    }
    c.out.push(format!("{{\"id\":{id},\"subscribe\":{text}}}"));
    c.subs.insert(channel.to_string(), pos.top);
}
