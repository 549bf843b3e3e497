//! `GET /realtime/v1/websocket?apikey=..&vsn=..`: enough of Supabase Realtime's Phoenix protocol
//! for `@supabase/supabase-js` v2 `postgres_changes` subscriptions.
//!
//! Serializers: realtime-js 2.x defaults to `vsn=2.0.0`, whose text frames are JSON arrays
//! `[join_ref, ref, topic, event, payload]`; `vsn=1.0.0` frames are JSON objects
//! `{join_ref, ref, topic, event, payload}`. Both are accepted; replies use the client's format.
//! Binary frames (2.0.0 user broadcast pushes) are ignored.
//!
//! Differences from the real service: `old_record` carries the whole previous row (as with
//! `REPLICA IDENTITY FULL`), and tokens are accepted without verification.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use serde_json::{json, Map, Value};
use tokio::sync::broadcast::error::RecvError;

use crate::hub::{Action, Change, TABLE};
use crate::{AppState, ConnGuard};

static NEXT_BINDING_ID: AtomicU64 = AtomicU64::new(1);

pub async fn handler(
    State(app): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    if let Some(refused) = app.ws_refusal() {
        return refused;
    }
    let v2 = q.get("vsn").map(|v| v.starts_with('2')).unwrap_or(false);
    ws.max_message_size(1 << 20).on_upgrade(move |socket| run(app, socket, v2))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
    In,
}

#[derive(Debug, Clone)]
struct Filter {
    column: String,
    op: Op,
    value: String,
}

fn parse_filter(s: &str) -> Option<Filter> {
    let (column, rest) = s.split_once('=')?;
    let (op, value) = rest.split_once('.')?;
    let op = match op {
        "eq" => Op::Eq,
        "neq" => Op::Neq,
        "lt" => Op::Lt,
        "lte" => Op::Lte,
        "gt" => Op::Gt,
        "gte" => Op::Gte,
        "in" => Op::In,
        _ => return None,
    };
    let column = column.trim();
    if column.is_empty() {
        return None;
    }
    Some(Filter { column: column.to_string(), op, value: value.to_string() })
}

fn cell_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

impl Filter {
    fn matches(&self, row: &Value) -> bool {
        let Some(cell) = row.get(&self.column) else {
            return false;
        };
        let text = cell_text(cell);
        let cmp = || match (text.parse::<f64>(), self.value.parse::<f64>()) {
            (Ok(a), Ok(b)) => a.partial_cmp(&b),
            _ => Some(text.as_str().cmp(self.value.as_str())),
        };
        use std::cmp::Ordering as O;
        match self.op {
            Op::Eq => text == self.value,
            Op::Neq => text != self.value,
            Op::Lt => cmp() == Some(O::Less),
            Op::Lte => matches!(cmp(), Some(O::Less | O::Equal)),
            Op::Gt => cmp() == Some(O::Greater),
            Op::Gte => matches!(cmp(), Some(O::Greater | O::Equal)),
            Op::In => self
                .value
                .trim_start_matches('(')
                .trim_end_matches(')')
                .split(',')
                .any(|v| v.trim().trim_matches('"') == text),
        }
    }
}

#[derive(Debug, Clone)]
struct Binding {
    id: u64,
    /// `*`, `INSERT`, `UPDATE` or `DELETE`.
    event: String,
    schema: String,
    table: Option<String>,
    filter: Option<Filter>,
}

impl Binding {
    fn matches(&self, change: &Change) -> bool {
        if self.schema != "*" && self.schema != "public" {
            return false;
        }
        if let Some(t) = &self.table {
            if t != "*" && t != TABLE {
                return false;
            }
        }
        if self.event != "*" && !self.event.eq_ignore_ascii_case(change.action.upper()) {
            return false;
        }
        match &self.filter {
            None => true,
            Some(f) => [change.record.as_ref(), change.old.as_ref()].into_iter().flatten().any(|row| f.matches(row)),
        }
    }
}

struct Joined {
    bindings: Vec<Binding>,
}

struct Conn {
    v2: bool,
    channels: HashMap<String, Joined>,
}

/// An incoming Phoenix message.
struct Incoming {
    join_ref: Option<String>,
    r#ref: Option<String>,
    topic: String,
    event: String,
    payload: Value,
}

fn ref_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn parse_incoming(text: &str) -> Option<(Incoming, bool)> {
    let v: Value = serde_json::from_str(text).ok()?;
    match v {
        Value::Array(a) if a.len() == 5 => Some((
            Incoming {
                join_ref: ref_text(a.first()),
                r#ref: ref_text(a.get(1)),
                topic: a.get(2)?.as_str()?.to_string(),
                event: a.get(3)?.as_str()?.to_string(),
                payload: a.get(4).cloned().unwrap_or(Value::Null),
            },
            true,
        )),
        Value::Object(m) => Some((
            Incoming {
                join_ref: ref_text(m.get("join_ref")),
                r#ref: ref_text(m.get("ref")),
                topic: m.get("topic")?.as_str()?.to_string(),
                event: m.get("event")?.as_str()?.to_string(),
                payload: m.get("payload").cloned().unwrap_or(Value::Null),
            },
            false,
        )),
        _ => None,
    }
}

impl Conn {
    fn encode(&self, join_ref: Option<&str>, r#ref: Option<&str>, topic: &str, event: &str, payload: Value) -> String {
        if self.v2 {
            json!([join_ref, r#ref, topic, event, payload]).to_string()
        } else {
            json!({ "join_ref": join_ref, "ref": r#ref, "topic": topic, "event": event, "payload": payload })
                .to_string()
        }
    }

    fn reply(&self, m: &Incoming, status: &str, response: Value) -> String {
        self.encode(
            m.join_ref.as_deref(),
            m.r#ref.as_deref(),
            &m.topic,
            "phx_reply",
            json!({ "status": status, "response": response }),
        )
    }

    /// phx_join: validate `config.postgres_changes`, answer with ids in the same order.
    fn join(&mut self, m: &Incoming) -> String {
        let specs = m
            .payload
            .get("config")
            .and_then(|c| c.get("postgres_changes"))
            .cloned()
            .unwrap_or(Value::Array(Vec::new()));
        let Value::Array(specs) = specs else {
            return self.reply(m, "error", json!({ "reason": "config.postgres_changes must be an array" }));
        };
        let mut bindings = Vec::with_capacity(specs.len());
        let mut answer = Vec::with_capacity(specs.len());
        for spec in &specs {
            let Some(obj) = spec.as_object() else {
                return self.reply(m, "error", json!({ "reason": "each postgres_changes entry must be an object" }));
            };
            let text = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_string);
            let event = text("event").unwrap_or_else(|| "*".into());
            if !["*", "INSERT", "UPDATE", "DELETE"].contains(&event.to_ascii_uppercase().as_str()) {
                return self.reply(m, "error", json!({ "reason": format!("invalid event {event:?}") }));
            }
            let schema = text("schema").unwrap_or_else(|| "public".into());
            let filter = match text("filter").filter(|f| !f.is_empty()) {
                None => None,
                Some(f) => match parse_filter(&f) {
                    Some(p) => Some(p),
                    None => {
                        return self.reply(m, "error", json!({ "reason": format!("unsupported filter {f:?}") }));
                    }
                },
            };
            let id = NEXT_BINDING_ID.fetch_add(1, Ordering::Relaxed);
            let mut echo = Map::new();
            echo.insert("id".into(), json!(id));
            // Echo the client's own values: realtime-js compares them to its bindings.
            for k in ["event", "schema", "table", "filter"] {
                if let Some(v) = obj.get(k) {
                    echo.insert(k.into(), v.clone());
                }
            }
            answer.push(Value::Object(echo));
            bindings.push(Binding { id, event, schema, table: text("table"), filter });
        }
        self.channels.insert(m.topic.clone(), Joined { bindings });
        self.reply(m, "ok", json!({ "postgres_changes": answer }))
    }

    fn changes_for(&self, change: &Change) -> Vec<String> {
        let mut out = Vec::new();
        for (topic, joined) in &self.channels {
            let ids: Vec<u64> = joined.bindings.iter().filter(|b| b.matches(change)).map(|b| b.id).collect();
            if ids.is_empty() {
                continue;
            }
            let mut data = Map::new();
            data.insert("schema".into(), json!("public"));
            data.insert("table".into(), json!(TABLE));
            data.insert("commit_timestamp".into(), json!(change.timestamp));
            data.insert("type".into(), json!(change.action.upper()));
            data.insert("columns".into(), columns());
            match change.action {
                Action::Insert => {
                    data.insert("record".into(), change.record.clone().unwrap_or(json!({})));
                }
                Action::Update => {
                    data.insert("record".into(), change.record.clone().unwrap_or(json!({})));
                    data.insert("old_record".into(), change.old.clone().unwrap_or(json!({})));
                }
                Action::Delete => {
                    data.insert("old_record".into(), change.old.clone().unwrap_or(json!({})));
                }
            }
            data.insert("errors".into(), Value::Null);
            let payload = json!({ "ids": ids, "data": Value::Object(data) });
            out.push(self.encode(None, None, topic, "postgres_changes", payload));
        }
        out
    }
}

fn columns() -> Value {
    json!([
        { "name": "id", "type": "int4" },
        { "name": "factory_id", "type": "text" },
        { "name": "title", "type": "text" },
        { "name": "status", "type": "text" },
        { "name": "qty", "type": "int4" },
        { "name": "version", "type": "int4" },
        { "name": "updated_at", "type": "text" },
    ])
}

async fn run(app: AppState, mut socket: WebSocket, v2: bool) {
    let _guard = ConnGuard::new(&app.conns.supabase);
    let mut rx = app.hub.subscribe();
    let mut flags = app.flags.subscribe();
    let mut conn = Conn { v2, channels: HashMap::new() };
    loop {
        let out: Vec<String> = tokio::select! {
            msg = socket.recv() => match msg {
                Some(Ok(Message::Text(text))) => match parse_incoming(text.as_str()) {
                    Some((m, is_v2)) => {
                        conn.v2 = is_v2;
                        handle(&app, &mut conn, m)
                    }
                    None => Vec::new(),
                },
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => Vec::new(),
            },
            p = rx.recv() => match p {
                Ok(p) => conn.changes_for(&p.change),
                Err(RecvError::Lagged(_)) => Vec::new(),
                Err(RecvError::Closed) => break,
            },
            r = flags.changed() => {
                let f = *flags.borrow_and_update();
                if r.is_err() || f.shutdown || !f.ws {
                    let code = if r.is_err() || f.shutdown { 1001 } else { 1013 };
                    let frame = CloseFrame { code, reason: "realtime unavailable".into() };
                    let _ = socket.send(Message::Close(Some(frame))).await;
                    break;
                }
                Vec::new()
            }
        };
        for text in out {
            if socket.send(Message::Text(text.into())).await.is_err() {
                return;
            }
        }
    }
}

fn handle(app: &AppState, conn: &mut Conn, m: Incoming) -> Vec<String> {
    match (m.topic.as_str(), m.event.as_str()) {
        ("phoenix", "heartbeat") => {
            if app.flags().pong {
                vec![conn.reply(&m, "ok", json!({}))]
            } else {
                Vec::new()
            }
        }
        (_, "phx_join") => vec![conn.join(&m)],
        (_, "phx_leave") => {
            conn.channels.remove(&m.topic);
            let reply = conn.reply(&m, "ok", json!({}));
            let close = conn.encode(m.join_ref.as_deref(), m.r#ref.as_deref(), &m.topic, "phx_close", json!({}));
            vec![reply, close]
        }
        (_, "access_token") => {
            if conn.channels.contains_key(&m.topic) && m.r#ref.is_some() {
                vec![conn.reply(&m, "ok", json!({}))]
            } else {
                Vec::new()
            }
        }
        (_, "broadcast" | "presence") => {
            if m.r#ref.is_some() {
                vec![conn.reply(&m, "ok", json!({}))]
            } else {
                Vec::new()
            }
        }
        _ => {
            if m.r#ref.is_some() {
                vec![conn.reply(&m, "error", json!({ "reason": format!("unsupported event {:?}", m.event) }))]
            } else {
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters() {
        let row = json!({ "id": 12, "factory_id": "f1", "qty": 5 });
        assert!(parse_filter("factory_id=eq.f1").is_some_and(|f| f.matches(&row)));
        assert!(parse_filter("id=eq.12").is_some_and(|f| f.matches(&row)));
        assert!(!parse_filter("id=eq.13").is_some_and(|f| f.matches(&row)));
        assert!(parse_filter("qty=gt.4").is_some_and(|f| f.matches(&row)));
        assert!(parse_filter("id=in.(1,12)").is_some_and(|f| f.matches(&row)));
        assert!(parse_filter("id=like.1").is_none());
    }

    #[test]
    fn frames() {
        let (m, v2) = parse_incoming(r#"["1","2","realtime:x","phx_join",{"config":{}}]"#).expect("v2");
        assert!(v2);
        assert_eq!(m.join_ref.as_deref(), Some("1"));
        let (m, v2) = parse_incoming(r#"{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"3"}"#).expect("v1");
        assert!(!v2);
        assert_eq!(m.r#ref.as_deref(), Some("3"));
    }
}
