//! Test helpers: start the app in-process on an ephemeral port, a minimal HTTP/1.1 client, a
//! WebSocket client and an SSE reader.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use querywire_demo_server::{start, Config, Server};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

pub fn config() -> Config {
    Config {
        port: 0,
        db_path: ":memory:".into(),
        database_url: None,
        web_dist: std::env::temp_dir().join("querywire-no-dist"),
        sse_ping: Duration::from_millis(300),
        history_limit: 1000,
        ..Config::default()
    }
}

pub async fn start_with(cfg: Config) -> Server {
    start(cfg).await.expect("server starts")
}

pub async fn start_memory() -> Server {
    start_with(config()).await
}

pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// One request on a fresh connection (`Connection: close`).
pub async fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&Value>) -> HttpResponse {
    let raw_body = body.map(|b| b.to_string()).unwrap_or_default();
    http_raw(addr, method, path, &[("content-type", "application/json")], &raw_body).await
}

pub async fn http_raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> HttpResponse {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    s.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .expect("response in time")
        .expect("read");
    let text = String::from_utf8_lossy(&buf).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split_whitespace().nth(1)).and_then(|c| c.parse().ok()).unwrap_or(0);
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))).collect();
    let chunked = headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked { dechunk(body) } else { body.to_string() };
    HttpResponse { status, headers, body }
}

pub async fn get_json(addr: SocketAddr, path: &str) -> Value {
    let r = http(addr, "GET", path, None).await;
    assert_eq!(r.status, 200, "GET {path}: {}", r.body);
    r.json()
}

pub async fn patch(addr: SocketAddr, id: i64, body: Value) -> Value {
    let r = http(addr, "PATCH", &format!("/api/work_orders/{id}"), Some(&body)).await;
    assert_eq!(r.status, 200, "PATCH {id}: {}", r.body);
    r.json()
}

pub async fn create(addr: SocketAddr, factory: &str, title: &str) -> Value {
    let body = serde_json::json!({ "factory_id": factory, "title": title });
    let r = http(addr, "POST", "/api/work_orders", Some(&body)).await;
    assert_eq!(r.status, 201, "POST: {}", r.body);
    r.json()
}

pub async fn ws(addr: SocketAddr, path: &str) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}{path}")).await.expect("ws connect");
    ws
}

pub async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.expect("ws send");
}

/// Next text message as JSON, or None on close / timeout.
pub async fn next_json_within(ws: &mut Ws, wait: Duration) -> Option<Value> {
    loop {
        match tokio::time::timeout(wait, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return Some(serde_json::from_str(t.as_str()).expect("json frame")),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            _ => return None,
        }
    }
}

pub async fn next_json(ws: &mut Ws) -> Value {
    next_json_within(ws, Duration::from_secs(5)).await.expect("a frame within 5 s")
}

/// The close code the server closes with.
pub async fn close_code(ws: &mut Ws) -> Option<u16> {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| u16::from(f.code)),
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
}

/// A streaming SSE reader over a raw TCP connection.
pub struct Sse {
    stream: TcpStream,
    buf: String,
    pub status: u16,
}

#[derive(Debug, Default, Clone)]
pub struct SseEvent {
    pub event: Option<String>,
    pub id: Option<String>,
    pub data: String,
}

impl Sse {
    pub async fn open(addr: SocketAddr, path: &str, last_event_id: Option<&str>) -> Sse {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        // HTTP/1.0: the body is close-delimited, no chunked framing to undo.
        let mut req = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\nAccept: text/event-stream\r\n");
        if let Some(id) = last_event_id {
            req.push_str(&format!("Last-Event-ID: {id}\r\n"));
        }
        req.push_str("\r\n");
        stream.write_all(req.as_bytes()).await.expect("write");
        let mut sse = Sse { stream, buf: String::new(), status: 0 };
        while !sse.buf.contains("\r\n\r\n") {
            assert!(sse.fill().await, "SSE headers");
        }
        let (head, rest) =
            sse.buf.split_once("\r\n\r\n").map(|(a, b)| (a.to_string(), b.to_string())).unwrap_or_default();
        sse.status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        sse.buf = rest;
        sse
    }

    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 8192];
        match tokio::time::timeout(Duration::from_secs(5), self.stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => {
                self.buf.push_str(&String::from_utf8_lossy(&chunk[..n]));
                true
            }
            _ => false,
        }
    }

    /// Next SSE event.
    pub async fn next_event(&mut self) -> Option<SseEvent> {
        loop {
            let cleaned = self.buf.replace("\r\n", "\n");
            if let Some(pos) = cleaned.find("\n\n") {
                let block = cleaned[..pos].to_string();
                self.buf = cleaned[pos + 2..].to_string();
                let mut ev = SseEvent::default();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("data:") {
                        if !ev.data.is_empty() {
                            ev.data.push('\n');
                        }
                        ev.data.push_str(v.trim_start());
                    } else if let Some(v) = line.strip_prefix("id:") {
                        ev.id = Some(v.trim().to_string());
                    } else if let Some(v) = line.strip_prefix("event:") {
                        ev.event = Some(v.trim().to_string());
                    }
                }
                if ev.data.is_empty() && ev.event.is_none() && ev.id.is_none() {
                    continue;
                }
                return Some(ev);
            }
            self.buf = cleaned;
            if !self.fill().await {
                return None;
            }
        }
    }

    /// Next non-ping event.
    pub async fn next_message(&mut self) -> Option<SseEvent> {
        loop {
            let ev = self.next_event().await?;
            if ev.event.as_deref() != Some("ping") {
                return Some(ev);
            }
        }
    }
}

pub fn temp_db(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("querywire-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join("demo.sqlite").to_string_lossy().to_string()
}
