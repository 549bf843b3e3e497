//! querywire demo server: a small realtime backend for the demo app and the end-to-end tests:
//! REST, and every write pushed over `/ws`, `/sse`, a Supabase-Realtime-compatible endpoint
//! (`supabase.rs`) and a Centrifugo-compatible endpoint (`centrifugo.rs`); what a write publishes
//! is decided in `invalidation.rs`.
//!
//! This is a demo. In production the change events come from Supabase Realtime or Centrifugo,
//! which scale out across machines; querywire connects to them unchanged.

pub mod auth;
pub mod centrifugo;
pub mod clock;
pub mod db;
pub mod http_error;
pub mod hub;
pub mod invalidation;
pub mod jwt;
pub mod streams;

mod api;
mod sse;
mod supabase;
mod ws;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{any, get, post};
use axum::Router;
use tokio::sync::watch;
use tower_http::cors::CorsLayer;

use crate::db::{Db, DbError, Pg, Sqlite};
use crate::hub::Hub;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone)]
pub struct Config {
    /// 0 = an ephemeral port.
    pub port: u16,
    /// SQLite file, or `:memory:`.
    pub db_path: String,
    /// PostgreSQL instead of SQLite when set.
    pub database_url: Option<String>,
    /// Static files served at `/` (SPA fallback to index.html) when index.html exists.
    pub web_dist: PathBuf,
    /// SSE `event: ping` interval (must stay under 15 s).
    pub sse_ping: Duration,
    /// Frames kept per channel for `since` recovery.
    pub history_limit: usize,
    /// The Centrifugo endpoint: token secret, pings, anonymous connections.
    pub centrifugo: centrifugo::Settings,
    /// Centrifugo stream history: publications kept per channel (`history_size`).
    pub centrifugo_history_size: usize,
    /// Centrifugo stream history: how long a publication is kept (`history_ttl`).
    pub centrifugo_history_ttl: Duration,
}

pub const DEFAULT_PORT: u16 = 8787;

pub fn default_db_path() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/data/demo.sqlite").to_string()
}

pub fn default_web_dist() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../web/dist"))
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: DEFAULT_PORT,
            db_path: default_db_path(),
            database_url: None,
            web_dist: default_web_dist(),
            sse_ping: Duration::from_secs(10),
            history_limit: 1000,
            centrifugo: centrifugo::Settings::default(),
            centrifugo_history_size: 1000,
            centrifugo_history_ttl: Duration::from_secs(600),
        }
    }
}

impl Config {
    /// `PORT`, `DB_PATH`, `DATABASE_URL`, `WEB_DIST`, `SSE_PING_MS`, `HISTORY_LIMIT`, and the
    /// Centrifugo endpoint's `CENTRIFUGO_TOKEN_HMAC_SECRET`, `CENTRIFUGO_PING_MS`,
    /// `CENTRIFUGO_PONG_TIMEOUT_MS`, `CENTRIFUGO_ALLOW_ANONYMOUS`, `CENTRIFUGO_HISTORY_SIZE`,
    /// `CENTRIFUGO_HISTORY_TTL_MS`.
    pub fn from_env() -> Result<Config, String> {
        let mut c = Config::default();
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        if let Some(p) = var("PORT") {
            c.port = p.trim().parse().map_err(|_| format!("PORT must be a port number, got {p:?}"))?;
        }
        if let Some(p) = var("DB_PATH") {
            c.db_path = p;
        }
        c.database_url = var("DATABASE_URL");
        if let Some(p) = var("WEB_DIST") {
            c.web_dist = PathBuf::from(p);
        }
        if let Some(p) = var("SSE_PING_MS") {
            let ms: u64 = p.trim().parse().map_err(|_| format!("SSE_PING_MS must be a number, got {p:?}"))?;
            c.sse_ping = Duration::from_millis(ms.clamp(10, 15_000));
        }
        if let Some(p) = var("HISTORY_LIMIT") {
            c.history_limit = p.trim().parse().map_err(|_| format!("HISTORY_LIMIT must be a number, got {p:?}"))?;
        }
        let number = |k: &str| -> Result<Option<u64>, String> {
            var(k).map(|p| p.trim().parse::<u64>().map_err(|_| format!("{k} must be a number, got {p:?}"))).transpose()
        };
        if let Some(s) = var("CENTRIFUGO_TOKEN_HMAC_SECRET") {
            c.centrifugo.secret = s;
        }
        if let Some(ms) = number("CENTRIFUGO_PING_MS")? {
            // Sent to the client in whole seconds.
            c.centrifugo.ping = Duration::from_secs((ms / 1000).clamp(1, 3600));
        }
        if let Some(ms) = number("CENTRIFUGO_PONG_TIMEOUT_MS")? {
            c.centrifugo.pong_timeout = Duration::from_millis(ms.clamp(10, 600_000));
        }
        if let Some(v) = var("CENTRIFUGO_ALLOW_ANONYMOUS") {
            c.centrifugo.allow_anonymous = matches!(v.trim(), "1" | "true" | "yes");
        }
        if let Some(n) = number("CENTRIFUGO_HISTORY_SIZE")? {
            c.centrifugo_history_size = n.clamp(1, 100_000) as usize;
        }
        if let Some(ms) = number("CENTRIFUGO_HISTORY_TTL_MS")? {
            c.centrifugo_history_ttl = Duration::from_millis(ms.max(1));
        }
        Ok(c)
    }
}

/// Runtime switches of `POST /api/admin/realtime`, plus shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags {
    pub ws: bool,
    pub sse: bool,
    pub pong: bool,
    pub shutdown: bool,
}

#[derive(Default)]
pub struct Connections {
    pub ws: AtomicUsize,
    pub sse: AtomicUsize,
    pub supabase: AtomicUsize,
    pub centrifugo: AtomicUsize,
    /// Event frames sent on `/ws` connections, live and replayed (`GET /api/stats` `framesSent.ws`).
    pub ws_frames: AtomicUsize,
}

/// Decrements a connection counter when dropped.
pub(crate) struct ConnGuard<'a>(&'a AtomicUsize);
impl<'a> ConnGuard<'a> {
    pub(crate) fn new(c: &'a AtomicUsize) -> Self {
        c.fetch_add(1, Ordering::SeqCst);
        ConnGuard(c)
    }
}
impl Drop for ConnGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

pub struct Inner {
    pub db: Db,
    pub hub: Arc<Hub>,
    pub stats: Mutex<BTreeMap<String, u64>>,
    pub flags: watch::Sender<Flags>,
    pub web_dist: PathBuf,
    pub sse_ping: Duration,
    pub conns: Connections,
    pub centrifugo: centrifugo::Settings,
}

pub type AppState = Arc<Inner>;

impl Inner {
    pub fn flags(&self) -> Flags {
        *self.flags.borrow()
    }

    /// The 503 every WebSocket upgrade (our protocol, Supabase's, Centrifugo's) answers while the
    /// admin switch has WebSockets off or the server shuts down; `None` while they are on.
    pub fn ws_refusal(&self) -> Option<Response> {
        let f = self.flags();
        (!f.ws || f.shutdown).then(|| {
            crate::http_error::json_error(axum::http::StatusCode::SERVICE_UNAVAILABLE, "websocket transport disabled")
        })
    }
}

/// Build the shared state: open the database (seeding it when empty) and the hub.
pub async fn build_state(cfg: &Config) -> Result<AppState, DbError> {
    let streams = streams::Streams::new(
        cfg.centrifugo_history_size,
        cfg.centrifugo_history_ttl.as_millis().min(i64::MAX as u128) as i64,
    );
    let hub = Arc::new(Hub::with_streams(cfg.history_limit, streams));
    let db = match &cfg.database_url {
        Some(url) => Db::Postgres(Pg::open(url, hub.clone()).await?),
        None => {
            let path = cfg.db_path.clone();
            let h = hub.clone();
            let s = tokio::task::spawn_blocking(move || Sqlite::open(&path, h))
                .await
                .map_err(|e| DbError(format!("sqlite open task: {e}")))??;
            Db::Sqlite(s)
        }
    };
    let (flags, _) = watch::channel(Flags { ws: true, sse: true, pong: true, shutdown: false });
    Ok(Arc::new(Inner {
        db,
        hub,
        stats: Mutex::new(BTreeMap::new()),
        flags,
        web_dist: cfg.web_dist.clone(),
        sse_ping: cfg.sse_ping,
        conns: Connections::default(),
        centrifugo: cfg.centrifugo.clone(),
    }))
}

/// `GET /api/work_orders/{id}` -> `GET /api/work_orders/:id`.
fn route_key(method: &str, pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + method.len() + 1);
    out.push_str(method);
    out.push(' ');
    let mut in_param = false;
    for ch in pattern.chars() {
        match ch {
            '{' => {
                in_param = true;
                out.push(':');
            }
            '}' if in_param => in_param = false,
            '*' if in_param => {}
            c => out.push(c),
        }
    }
    out
}

async fn count_requests(State(app): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(path) = req.extensions().get::<MatchedPath>() {
        let pattern = path.as_str();
        if !pattern.starts_with("/api/stats") {
            let key = route_key(req.method().as_str(), pattern);
            let mut stats = app.stats.lock().unwrap_or_else(|e| e.into_inner());
            *stats.entry(key).or_insert(0) += 1;
        }
    }
    next.run(req).await
}

pub fn router(app: AppState) -> Router {
    Router::new()
        .route("/api/work_orders", get(api::list).post(api::create))
        .route("/api/work_orders/{id}", get(api::get_one).patch(api::update).delete(api::delete))
        .route("/api/work_orders/{id}/approve", post(api::approve))
        .route("/api/burst", post(api::burst))
        .route("/api/stats", get(api::stats))
        .route("/api/stats/reset", post(api::stats_reset))
        .route("/api/admin/realtime", post(api::admin_realtime).get(api::admin_realtime_get))
        .route("/api/admin/centrifugo", post(api::admin_centrifugo).get(api::admin_centrifugo_get))
        .route("/api/centrifugo/token", post(api::centrifugo_token))
        .route("/api/health", get(api::health))
        .route("/ws", get(ws::handler))
        .route("/sse", get(sse::handler))
        .route("/realtime/v1/websocket", get(supabase::handler))
        .route("/connection/websocket", get(centrifugo::handler))
        .route("/api", any(api::not_found))
        .route("/api/{*rest}", any(api::not_found))
        .route_layer(axum::middleware::from_fn_with_state(app.clone(), count_requests))
        .fallback(api::static_files)
        .layer(CorsLayer::permissive())
        .with_state(app)
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    pub state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), std::io::Error>>,
}

impl Server {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop: close realtime streams, finish in-flight requests (at most 5 s), return.
    pub async fn shutdown(mut self) {
        self.state.flags.send_modify(|f| f.shutdown = true);
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut self.task).await;
        self.task.abort();
    }

    /// Run until the server stops by itself (it does not, unless the listener fails).
    pub async fn wait(&mut self) -> Result<(), BoxError> {
        match (&mut self.task).await {
            Ok(r) => r.map_err(Into::into),
            Err(e) => Err(e.into()),
        }
    }
}

/// Open the database, bind 127.0.0.1:`cfg.port` and serve in the background.
pub async fn start(cfg: Config) -> Result<Server, BoxError> {
    let state = build_state(&cfg).await?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", cfg.port)).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = router(state.clone());
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });
    Ok(Server { addr, state, stop: Some(stop), task })
}

#[cfg(test)]
mod tests {
    #[test]
    fn route_keys() {
        assert_eq!(super::route_key("GET", "/api/work_orders/{id}"), "GET /api/work_orders/:id");
        assert_eq!(super::route_key("POST", "/api/work_orders/{id}/approve"), "POST /api/work_orders/:id/approve");
        assert_eq!(super::route_key("GET", "/api/{*rest}"), "GET /api/:rest");
    }
}
