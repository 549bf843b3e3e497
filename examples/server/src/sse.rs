//! `GET /sse?channels=a,b[&token=..][&since=a:3,b:7]`: the contract's wire protocol over
//! Server-Sent Events. Each event frame is a message whose `data` is the frame and whose `id` is
//! `channel:seq`; `Last-Event-ID` (or `since`) replays from history when it covers the gap, after
//! a `{type:'recovered', channel, ok}` message. `event: ping` every `sse_ping` (< 15 s).

use std::collections::HashMap;
use std::convert::Infallible;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

use crate::auth::auth_failure;
use crate::clock::unix_ms;
use crate::http_error::json_error;
use crate::ws::{recovery_messages, MAX_CHANNELS, MAX_CHANNEL_LEN};
use crate::{AppState, ConnGuard};

fn parse_pos(s: &str) -> Option<(String, u64)> {
    let (ch, seq) = s.trim().rsplit_once(':')?;
    if ch.is_empty() || ch.len() > MAX_CHANNEL_LEN {
        return None;
    }
    Some((ch.to_string(), seq.parse().ok()?))
}

pub async fn handler(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let f = app.flags();
    if !f.sse || f.shutdown {
        return json_error(StatusCode::SERVICE_UNAVAILABLE, "sse transport disabled");
    }
    if let Some((code, reason)) = q.get("token").and_then(|t| auth_failure(t)) {
        let status = if code == 4001 { StatusCode::UNAUTHORIZED } else { StatusCode::FORBIDDEN };
        return json_error(status, reason);
    }
    let channels: Vec<String> = q
        .get("channels")
        .map(|c| c.split(',').map(str::trim).filter(|c| !c.is_empty()).map(str::to_string).collect())
        .unwrap_or_default();
    if channels.is_empty() {
        return json_error(StatusCode::BAD_REQUEST, "channels is required: ?channels=a,b");
    }
    if channels.len() > MAX_CHANNELS || channels.iter().any(|c| c.len() > MAX_CHANNEL_LEN) {
        return json_error(StatusCode::BAD_REQUEST, "too many or too long channels");
    }
    // Positions to resume from: `since=ch:seq,...` and the browser's Last-Event-ID `ch:seq`.
    let mut since: Vec<(String, u64)> =
        q.get("since").map(|s| s.split(',').filter_map(parse_pos).collect()).unwrap_or_default();
    if let Some(pos) = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(parse_pos) {
        since.retain(|(c, _)| *c != pos.0);
        since.push(pos);
    }
    since.retain(|(c, _)| channels.contains(c));

    // Receiver before snapshots: nothing published in between is missed.
    let mut rx = app.hub.subscribe();
    let mut initial: Vec<Event> =
        vec![Event::default().event("ping").data(json!({"type": "ping", "ts": unix_ms()}).to_string())];
    let mut subs: HashMap<String, u64> = HashMap::new();
    for ch in &channels {
        if let Some((_, s)) = since.iter().find(|(c, _)| c == ch) {
            let (recovered, frames, last) = recovery_messages(&app.hub, ch, *s);
            initial.push(Event::default().data(recovered.to_string()));
            for f in frames {
                initial.push(Event::default().id(format!("{}:{}", f.channel, f.seq)).data(f.text.as_str()));
            }
            subs.insert(ch.clone(), last);
        } else {
            subs.insert(ch.clone(), app.hub.last(ch));
        }
    }

    let (tx, mut out) = mpsc::channel::<Event>(1024);
    let ping_every = app.sse_ping;
    let task_app = app.clone();
    tokio::spawn(async move {
        let app = task_app;
        let _guard = ConnGuard::new(&app.conns.sse);
        let mut flags = app.flags.subscribe();
        for ev in initial {
            if tx.send(ev).await.is_err() {
                return;
            }
        }
        let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
        loop {
            tokio::select! {
                p = rx.recv() => match p {
                    Ok(p) => {
                        for f in &p.frames {
                            if subs.get(&f.channel).is_some_and(|skip| f.seq > *skip) {
                                let ev = Event::default().id(format!("{}:{}", f.channel, f.seq)).data(f.text.as_str());
                                if tx.send(ev).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return,
                },
                _ = ping.tick() => {
                    let ev = Event::default().event("ping").data(json!({"type": "ping", "ts": unix_ms()}).to_string());
                    if tx.send(ev).await.is_err() {
                        return;
                    }
                }
                r = flags.changed() => {
                    let f = *flags.borrow_and_update();
                    if r.is_err() || !f.sse || f.shutdown {
                        return;
                    }
                }
                _ = tx.closed() => return,
            }
        }
    });

    let stream = futures_util::stream::poll_fn(move |cx| out.poll_recv(cx).map(|o| o.map(Ok::<Event, Infallible>)));
    let mut res = Sse::new(stream).into_response();
    res.headers_mut().insert("x-accel-buffering", HeaderValue::from_static("no"));
    res.headers_mut().insert("cache-control", HeaderValue::from_static("no-cache"));
    res
}
