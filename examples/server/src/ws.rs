//! `GET /ws`: the contract's WebSocket wire protocol.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;

use crate::auth::auth_failure;
use crate::hub::{Hub, Published};
use crate::{AppState, ConnGuard};

pub const MAX_CHANNELS: usize = 1000;
pub const MAX_CHANNEL_LEN: usize = 200;
const MAX_MESSAGE: usize = 1 << 20;

pub async fn handler(
    State(app): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    if let Some(refused) = app.ws_refusal() {
        return refused;
    }
    let token = q.get("token").cloned();
    ws.max_message_size(MAX_MESSAGE).on_upgrade(move |socket| run(app, socket, token))
}

/// Per-connection subscriptions: channel -> frames with seq <= this were already delivered or
/// published before the subscription, and are skipped.
type Subs = HashMap<String, u64>;

enum Next {
    Continue,
    Close(u16, &'static str),
}

async fn send_json(socket: &mut WebSocket, v: Value) -> Result<(), axum::Error> {
    socket.send(Message::Text(v.to_string().into())).await
}

async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let _ = socket.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
}

fn error_frame(code: &str, message: impl Into<String>) -> Value {
    json!({ "type": "error", "code": code, "message": message.into() })
}

async fn run(app: AppState, mut socket: WebSocket, token: Option<String>) {
    let _guard = ConnGuard::new(&app.conns.ws);
    // Receiver first, snapshots later: nothing published in between can be missed.
    let mut rx = app.hub.subscribe();
    let mut flags = app.flags.subscribe();
    let mut subs: Subs = HashMap::new();
    if let Some((code, reason)) = token.as_deref().and_then(auth_failure) {
        close(&mut socket, code, reason).await;
        return;
    }
    loop {
        tokio::select! {
            msg = socket.recv() => match msg {
                Some(Ok(Message::Text(text))) => {
                    match handle_text(&app, &mut socket, &mut subs, text.as_str()).await {
                        Ok(Next::Continue) => {}
                        Ok(Next::Close(code, reason)) => { close(&mut socket, code, reason).await; break; }
                        Err(_) => break,
                    }
                }
                Some(Ok(Message::Binary(_))) => {
                    if send_json(&mut socket, error_frame("bad_request", "binary frames are not supported")).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            p = rx.recv() => match p {
                Ok(p) => if deliver(&app, &mut socket, &subs, &p).await.is_err() { break },
                // Too slow: frames were dropped; the client sees the seq gap and refetches.
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            },
            r = flags.changed() => {
                let f = *flags.borrow_and_update();
                if r.is_err() || f.shutdown {
                    close(&mut socket, 1001, "server shutting down").await;
                    break;
                }
                if !f.ws {
                    close(&mut socket, 1013, "websocket transport disabled").await;
                    break;
                }
            }
        }
    }
}

async fn deliver(app: &AppState, socket: &mut WebSocket, subs: &Subs, p: &Published) -> Result<(), axum::Error> {
    for f in &p.frames {
        if let Some(&skip) = subs.get(&f.channel) {
            if f.seq > skip {
                socket.send(Message::Text(f.text.clone().into())).await?;
                app.conns.ws_frames.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }
    Ok(())
}

fn channel_list(v: Option<&Value>) -> Result<Vec<String>, String> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let arr = v.as_array().ok_or("channels must be an array of strings")?;
    if arr.len() > MAX_CHANNELS {
        return Err(format!("at most {MAX_CHANNELS} channels"));
    }
    arr.iter()
        .map(|c| match c.as_str() {
            Some(s) if !s.is_empty() && s.len() <= MAX_CHANNEL_LEN => Ok(s.to_string()),
            _ => Err(format!("each channel must be a non-empty string of at most {MAX_CHANNEL_LEN} bytes")),
        })
        .collect()
}

fn since_map(v: Option<&Value>) -> Result<Vec<(String, u64)>, String> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(m)) => {
            if m.len() > MAX_CHANNELS {
                return Err(format!("at most {MAX_CHANNELS} channels in since"));
            }
            m.iter()
                .map(|(k, v)| {
                    if k.is_empty() || k.len() > MAX_CHANNEL_LEN {
                        return Err("since keys must be channel names".to_string());
                    }
                    match v.as_u64().or_else(|| v.as_f64().filter(|f| *f >= 0.0 && f.fract() == 0.0).map(|f| f as u64))
                    {
                        Some(n) => Ok((k.clone(), n)),
                        None => Err(format!("since[{k:?}] must be a non-negative integer")),
                    }
                })
                .collect()
        }
        Some(_) => Err("since must be an object mapping channels to seq numbers".to_string()),
    }
}

/// Resubscribe `channel` from `since`: `{type:'recovered'}` then the replayed frames when ok.
pub(crate) fn recovery_messages(hub: &Hub, channel: &str, since: u64) -> (Value, Vec<Arc<crate::hub::Frame>>, u64) {
    let r = hub.recover(channel, since);
    (json!({ "type": "recovered", "channel": channel, "ok": r.ok }), r.frames, r.last)
}

async fn handle_text(app: &AppState, socket: &mut WebSocket, subs: &mut Subs, text: &str) -> Result<Next, axum::Error> {
    let msg: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            send_json(socket, error_frame("bad_request", format!("invalid JSON: {e}"))).await?;
            return Ok(Next::Continue);
        }
    };
    let Some(kind) = msg.get("type").and_then(Value::as_str) else {
        send_json(socket, error_frame("bad_request", "a message needs a string `type`")).await?;
        return Ok(Next::Continue);
    };
    match kind {
        "auth" => match msg.get("token").and_then(Value::as_str) {
            Some(token) => {
                if let Some((code, reason)) = auth_failure(token) {
                    return Ok(Next::Close(code, reason));
                }
            }
            None => send_json(socket, error_frame("bad_request", "auth needs a string `token`")).await?,
        },
        "subscribe" => {
            let channels = match channel_list(msg.get("channels")) {
                Ok(c) => c,
                Err(e) => {
                    send_json(socket, error_frame("bad_request", e)).await?;
                    return Ok(Next::Continue);
                }
            };
            let since = match since_map(msg.get("since")) {
                Ok(s) => s,
                Err(e) => {
                    send_json(socket, error_frame("bad_request", e)).await?;
                    return Ok(Next::Continue);
                }
            };
            if subs.len() + channels.len() > MAX_CHANNELS * 2 {
                send_json(socket, error_frame("too_many_channels", "too many channels")).await?;
                return Ok(Next::Continue);
            }
            for ch in channels {
                if !subs.contains_key(&ch) && !since.iter().any(|(c, _)| *c == ch) {
                    let last = app.hub.last(&ch);
                    subs.insert(ch, last);
                }
            }
            for (ch, s) in since {
                let (recovered, frames, last) = recovery_messages(&app.hub, &ch, s);
                send_json(socket, recovered).await?;
                for f in frames {
                    socket.send(Message::Text(f.text.clone().into())).await?;
                    app.conns.ws_frames.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                subs.insert(ch, last);
            }
        }
        "unsubscribe" => match channel_list(msg.get("channels")) {
            Ok(channels) => {
                for ch in channels {
                    subs.remove(&ch);
                }
            }
            Err(e) => send_json(socket, error_frame("bad_request", e)).await?,
        },
        "ping" => {
            if app.flags().pong {
                let r = msg.get("ref").cloned().unwrap_or(Value::Null);
                send_json(socket, json!({ "type": "pong", "ref": r })).await?;
            }
        }
        other => {
            send_json(socket, error_frame("unknown_type", format!("unknown message type {other:?}"))).await?;
        }
    }
    Ok(Next::Continue)
}
