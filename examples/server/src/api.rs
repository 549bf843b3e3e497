//! REST API (docs/INTERFACES.md, "Demo server HTTP API").

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use crate::db::{DbError, NewOrder, Patch, WorkOrder};
use crate::http_error::ApiError;
use crate::AppState;

type ApiResult<T> = Result<T, ApiError>;

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        ApiError::internal(e.0)
    }
}

const MAX_TITLE: usize = 1000;
const MAX_SHORT: usize = 100;

fn body_object(body: Result<Json<Value>, JsonRejection>) -> ApiResult<Map<String, Value>> {
    match body {
        Ok(Json(Value::Object(m))) => Ok(m),
        Ok(_) => Err(ApiError::bad_request("body must be a JSON object")),
        Err(e) => Err(ApiError::new(e.status(), format!("invalid JSON body: {}", e.body_text()))),
    }
}

fn opt_string(m: &Map<String, Value>, key: &str, max: usize) -> ApiResult<Option<String>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= max => Ok(Some(s.clone())),
        Some(Value::String(_)) => Err(ApiError::bad_request(format!("{key} is longer than {max} characters"))),
        Some(_) => Err(ApiError::bad_request(format!("{key} must be a string"))),
    }
}

fn opt_int(m: &Map<String, Value>, key: &str, min: i64, max: i64) -> ApiResult<Option<i64>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(ApiError::bad_request(format!("{key} must be an integer between {min} and {max}"))),
        },
    }
}

fn opt_bool(m: &Map<String, Value>, key: &str) -> ApiResult<Option<bool>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ApiError::bad_request(format!("{key} must be a boolean"))),
    }
}

fn factory_id(m: &Map<String, Value>) -> ApiResult<String> {
    let f = opt_string(m, "factory_id", MAX_SHORT)?.ok_or_else(|| ApiError::bad_request("factory_id is required"))?;
    if f.is_empty() || f.contains(',') || f.chars().any(char::is_control) {
        return Err(ApiError::bad_request("factory_id must be a non-empty string without commas"));
    }
    Ok(f)
}

fn parse_id(raw: &str) -> ApiResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::bad_request(format!("id must be a positive integer, got {raw:?}")))
}

fn query_int(q: &HashMap<String, String>, key: &str, default: i64, min: i64, max: i64) -> ApiResult<i64> {
    match q.get(key) {
        None => Ok(default),
        Some(v) if v.is_empty() => Ok(default),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| ApiError::bad_request(format!("{key} must be an integer between {min} and {max}"))),
    }
}

const QTY_MAX: i64 = i32::MAX as i64;

pub async fn list(
    State(app): State<AppState>,
    q: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = q.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let page = query_int(&q, "page", 1, 1, 1_000_000)?;
    let size = query_int(&q, "pageSize", 10, 1, 100)?;
    let factory = q.get("factory_id").filter(|f| !f.is_empty()).cloned();
    let res = app.db.list(factory, page, size).await?;
    Ok(Json(json!({ "items": res.items, "page": page, "pageSize": size, "total": res.total })))
}

pub async fn get_one(State(app): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<WorkOrder>> {
    let id = parse_id(&id)?;
    app.db.get(id).await?.map(Json).ok_or_else(|| ApiError::not_found(format!("work order {id} not found")))
}

pub async fn create(
    State(app): State<AppState>,
    body: Result<Json<Value>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<WorkOrder>)> {
    let m = body_object(body)?;
    let new = NewOrder {
        factory_id: factory_id(&m)?,
        title: opt_string(&m, "title", MAX_TITLE)?.ok_or_else(|| ApiError::bad_request("title is required"))?,
        status: opt_string(&m, "status", MAX_SHORT)?.unwrap_or_else(|| "open".to_string()),
        qty: opt_int(&m, "qty", 0, QTY_MAX)?.unwrap_or(0),
    };
    let row = app.db.create(new).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

pub async fn update(
    State(app): State<AppState>,
    Path(id): Path<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> ApiResult<Json<WorkOrder>> {
    let id = parse_id(&id)?;
    let m = body_object(body)?;
    let patch = Patch {
        title: opt_string(&m, "title", MAX_TITLE)?,
        status: opt_string(&m, "status", MAX_SHORT)?,
        qty: opt_int(&m, "qty", 0, QTY_MAX)?,
        qty_delta: None,
    };
    app.db.update(id, patch).await?.map(Json).ok_or_else(|| ApiError::not_found(format!("work order {id} not found")))
}

pub async fn approve(State(app): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<WorkOrder>> {
    let id = parse_id(&id)?;
    let patch = Patch { status: Some("approved".into()), ..Patch::default() };
    app.db.update(id, patch).await?.map(Json).ok_or_else(|| ApiError::not_found(format!("work order {id} not found")))
}

pub async fn delete(State(app): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let id = parse_id(&id)?;
    match app.db.delete(id).await? {
        Some(_) => Ok(StatusCode::NO_CONTENT),
        None => Err(ApiError::not_found(format!("work order {id} not found"))),
    }
}

/// `POST /api/burst {factory_id, count, ms, kind: 'update'|'delete_insert', id?}`: `count` writes
/// (updates, or DELETE+INSERT pairs) spread evenly over `ms`; answers when done.
pub async fn burst(State(app): State<AppState>, body: Result<Json<Value>, JsonRejection>) -> ApiResult<Json<Value>> {
    let m = body_object(body)?;
    let factory = factory_id(&m)?;
    let count = opt_int(&m, "count", 1, 10_000)?.unwrap_or(100);
    let ms = opt_int(&m, "ms", 0, 600_000)?.unwrap_or(1000);
    let kind = opt_string(&m, "kind", MAX_SHORT)?.unwrap_or_else(|| "update".into());
    let only_id = opt_int(&m, "id", 1, i64::MAX)?;
    if kind != "update" && kind != "delete_insert" {
        return Err(ApiError::bad_request("kind must be 'update' or 'delete_insert'"));
    }
    let started = Instant::now();
    let at = |i: i64| Duration::from_micros((ms as u64 * 1000).saturating_mul(i as u64) / count.max(1) as u64);
    let mut writes = 0u64;
    if kind == "update" {
        let mut ids = match only_id {
            Some(id) => vec![id],
            None => app.db.ids(factory.clone(), 10).await?,
        };
        if ids.is_empty() {
            let new =
                NewOrder { factory_id: factory.clone(), title: "Burst target".into(), status: "open".into(), qty: 0 };
            ids.push(app.db.create(new).await?.id);
            writes += 1;
        }
        for i in 0..count {
            tokio::time::sleep_until((started + at(i)).into()).await;
            let id = ids[(i as usize) % ids.len()];
            let patch = Patch { qty_delta: Some(1), ..Patch::default() };
            if app.db.update(id, patch).await?.is_some() {
                writes += 1;
            }
        }
    } else {
        for i in 0..count {
            tokio::time::sleep_until((started + at(i)).into()).await;
            if let Some(id) = app.db.ids(factory.clone(), 1).await?.first().copied() {
                if app.db.delete(id).await?.is_some() {
                    writes += 1;
                }
            }
            let new = NewOrder {
                factory_id: factory.clone(),
                title: format!("Burst item {}", i + 1),
                status: "open".into(),
                qty: i,
            };
            app.db.create(new).await?;
            writes += 1;
        }
    }
    Ok(Json(json!({
        "ok": true, "factory_id": factory, "kind": kind, "count": count, "writes": writes,
        "ms": started.elapsed().as_millis() as u64,
    })))
}

pub async fn stats(State(app): State<AppState>) -> Json<Value> {
    let requests = app.stats.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Json(json!({
        "requests": requests,
        "db": app.db.kind(),
        "connections": {
            "ws": app.conns.ws.load(Ordering::SeqCst),
            "sse": app.conns.sse.load(Ordering::SeqCst),
            "supabase": app.conns.supabase.load(Ordering::SeqCst),
            "centrifugo": app.conns.centrifugo.load(Ordering::SeqCst),
        },
        "framesSent": { "ws": app.conns.ws_frames.load(Ordering::SeqCst) },
    }))
}

pub async fn stats_reset(State(app): State<AppState>) -> Json<Value> {
    app.stats.lock().unwrap_or_else(|e| e.into_inner()).clear();
    Json(json!({ "ok": true }))
}

fn flags_json(app: &AppState) -> Value {
    let f = app.flags();
    json!({ "ws": f.ws, "sse": f.sse, "pong": f.pong })
}

pub async fn admin_realtime(
    State(app): State<AppState>,
    body: Result<Json<Value>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let m = body_object(body)?;
    let (ws, sse, pong) = (opt_bool(&m, "ws")?, opt_bool(&m, "sse")?, opt_bool(&m, "pong")?);
    app.flags.send_modify(|f| {
        if let Some(v) = ws {
            f.ws = v;
        }
        if let Some(v) = sse {
            f.sse = v;
        }
        if let Some(v) = pong {
            f.pong = v;
        }
    });
    Ok(Json(flags_json(&app)))
}

pub async fn admin_realtime_get(State(app): State<AppState>) -> Json<Value> {
    Json(flags_json(&app))
}

fn streams_json(app: &AppState) -> Value {
    let s = &app.hub.streams;
    json!({ "epoch": s.epoch(), "historySize": s.size, "historyTtlMs": s.ttl_ms })
}

/// `POST /api/admin/centrifugo {"reset": true}`: a stream reset (new epoch, history gone), as a
/// Centrifugo that lost its history; clients recovering from before it get `recovered: false`.
pub async fn admin_centrifugo(
    State(app): State<AppState>,
    body: Result<Json<Value>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let m = body_object(body)?;
    if opt_bool(&m, "reset")? == Some(true) {
        app.db.reset_streams().await?;
    }
    Ok(Json(streams_json(&app)))
}

pub async fn admin_centrifugo_get(State(app): State<AppState>) -> Json<Value> {
    Json(streams_json(&app))
}

/// `POST /api/centrifugo/token {user?, ttl?}` → `{token}`: what an app's backend does for
/// centrifuge-js's `getToken`: an HS256 connection token for `user` (default `demo`) expiring in
/// `ttl` seconds (default 3600; 0 = never).
pub async fn centrifugo_token(
    State(app): State<AppState>,
    body: Result<Json<Value>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let m = match body {
        Ok(Json(Value::Null)) => Map::new(),
        other => body_object(other)?,
    };
    let user = opt_string(&m, "user", MAX_SHORT)?.unwrap_or_else(|| "demo".into());
    let ttl = opt_int(&m, "ttl", 0, 86_400 * 365)?.unwrap_or(3600);
    let mut claims = json!({ "sub": user });
    if ttl > 0 {
        claims["exp"] = json!(crate::clock::unix_ms().div_euclid(1000) + ttl);
    }
    let token = crate::jwt::sign(&claims, app.centrifugo.secret.as_bytes());
    Ok(Json(json!({ "token": token })))
}

pub async fn health(State(app): State<AppState>) -> Json<Value> {
    Json(json!({ "ok": true, "db": app.db.kind() }))
}

pub async fn not_found(req: Request) -> ApiError {
    ApiError::not_found(format!("no route for {} {}", req.method(), req.uri().path()))
}

/// `examples/web/dist` with SPA fallback to index.html, when it has been built.
pub async fn static_files(State(app): State<AppState>, req: Request) -> Response {
    let index = app.web_dist.join("index.html");
    if !index.is_file() {
        return ApiError::not_found(format!(
            "no route for {} {} (the demo web app is served from {} once built)",
            req.method(),
            req.uri().path(),
            app.web_dist.display()
        ))
        .into_response();
    }
    match ServeDir::new(&app.web_dist).fallback(ServeFile::new(index)).oneshot(req).await {
        Ok(res) => res.into_response(),
        Err(e) => match e {},
    }
}
