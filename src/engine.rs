//! `WasmRealtime`: the core's [`Realtime`] machine behind wasm-bindgen. One `Rc<RefCell<Inner>>` is
//! shared with the timer, the visibility listener and the socket callbacks. JS is only ever called
//! with no borrow held, so a handler that re-enters (a QueryCache subscriber calling `rt.ingest`,
//! a `token()` function reading `rt.status()`) cannot trip the `RefCell`.

mod share;

use crate::clock::now;
use crate::interop::{error_to_js, from_js, method, to_js};
use crate::transport::{Kind, Report, Transport};
use crate::visibility::{is_visible, OnlineListener, VisibilityListener};
use gloo_timers::callback::Timeout;
use js_sys::{Function, Reflect};
use querywire_core::link::{Intent, Priority, Status, Transport as LinkTransport};
use querywire_core::views::{View, ViewHandle};
use querywire_core::{Error, ErrorCode, Millis, Output, Realtime};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;

#[derive(Default, Clone)]
struct Handlers {
    plan: Option<Function>,
    error: Option<Function>,
    status: Option<Function>,
    channels: Option<Function>,
    /// `shareConnection`: messages for the other tabs (`share.rs`).
    share: Option<Function>,
}

struct Inner {
    rt: Realtime,
    handlers: Handlers,
    /// The one armed timeout and the deadline it was armed for.
    timer: Option<(Millis, Timeout)>,
    visibility: Option<VisibilityListener>,
    online: Option<OnlineListener>,
    transport: Option<Transport>,
    disposed: bool,
    /// The binary plan being handed over (reused: a flush allocates nothing here).
    plan_buf: Vec<u8>,
}

/// The engine as JS sees it (docs/INTERFACES.md). Users reach it through `createRealtime`.
#[wasm_bindgen]
pub struct WasmRealtime {
    inner: Rc<RefCell<Inner>>,
}

fn opt_err(m: String) -> JsValue {
    error_to_js(&Error::new(ErrorCode::InvalidOption, "options", m))
}

fn json_arg(v: &JsValue) -> Result<serde_json::Value, JsValue> {
    if v.is_undefined() || v.is_null() {
        return Ok(serde_json::Value::Null);
    }
    from_js(v).map_err(opt_err)
}

#[wasm_bindgen]
impl WasmRealtime {
    /// Options are the `createRealtime` options minus `queryClient`, `onError` and functions.
    /// Throws an `Error` with `code: 'invalid_option'` when an option is invalid.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<WasmRealtime, JsValue> {
        let opts = json_arg(&options)?;
        let rt = Realtime::new(now(), &opts).map_err(|e| error_to_js(&e))?;
        let inner = Rc::new(RefCell::new(Inner {
            rt,
            handlers: Handlers::default(),
            timer: None,
            visibility: None,
            online: None,
            transport: None,
            disposed: false,
            plan_buf: Vec::new(),
        }));
        let weak = Rc::downgrade(&inner);
        let listener = VisibilityListener::install(move |visible| {
            with(&weak, |i| i.rt.set_visible(now(), visible));
        });
        let weak = Rc::downgrade(&inner);
        let online = OnlineListener::install(move || {
            with(&weak, |i| i.rt.intent(now(), Intent::Online, Priority::Medium));
        });
        {
            let mut i = inner.borrow_mut();
            i.rt.set_visible(now(), is_visible());
            i.visibility = listener;
            i.online = online;
        }
        Ok(WasmRealtime { inner })
    }

    /// `{ plan(plan), error(e), status(s), channels(diff) }`; each optional. Delivers what waits.
    #[wasm_bindgen(js_name = setHandlers)]
    pub fn set_handlers(&self, handlers: JsValue) {
        self.inner.borrow_mut().handlers = Handlers {
            plan: method(&handlers, "plan"),
            error: method(&handlers, "error"),
            status: method(&handlers, "status"),
            channels: method(&handlers, "channels"),
            share: method(&handlers, "share"),
        };
        deliver(&self.inner);
    }

    /// One payload as JSON text (a WebSocket message, or an object the shim stringified).
    #[wasm_bindgen(js_name = ingestText)]
    pub fn ingest_text(&self, source: &str, text: &str) {
        let r = self.update(|i| i.rt.ingest_text(now(), source, text).map(|_| ()));
        self.report(r);
    }

    /// One payload as a JS object, converted field by field (kept for comparison; the shim uses
    /// the text path, which the benchmark found cheaper).
    pub fn ingest(&self, source: &str, payload: JsValue) {
        let r = match from_js(&payload) {
            Ok(v) => self.update(|i| i.rt.engine_mut().handle_payload(now(), source, v, None).map(|_| ())),
            Err(m) => {
                self.update(|i| i.rt.engine_mut().record_invalid());
                Err(Error::new(ErrorCode::NotObject, source, format!("payload could not be read: {m}")))
            }
        };
        self.report(r);
    }

    /// Counts a payload the shim refused before it crossed (`JSON.stringify` threw, say).
    #[wasm_bindgen(js_name = recordInvalid)]
    pub fn record_invalid(&self) {
        self.update(|i| i.rt.engine_mut().record_invalid());
    }

    /// Flushes whatever waits, now.
    pub fn flush(&self) {
        self.update(|i| i.rt.flush(now()));
    }

    /// Flushes, then stops the timer, the transport and the listeners. Later calls do nothing.
    pub fn dispose(&self) {
        self.update(|i| i.rt.dispose(now()));
        let transport = {
            let mut i = self.inner.borrow_mut();
            i.disposed = true;
            i.timer = None;
            i.visibility = None;
            i.online = None;
            i.transport.take()
        };
        drop(transport);
    }

    /// `{ received, flushes, invalidations, patches, dropped: { invalid, stale, duplicate, outOfScope } }`.
    pub fn stats(&self) -> JsValue {
        to_js(&self.inner.borrow().rt.engine().stats())
    }

    /// Opens a view; returns a handle for `unsubscribe`.
    pub fn subscribe(&self, view: JsValue) -> Result<f64, JsValue> {
        let get = |k: &str| Reflect::get(&view, &k.into()).ok();
        let kind = get("kind").and_then(|v| v.as_string());
        let ty = get("type").and_then(|v| v.as_string()).filter(|t| !t.is_empty());
        let id = get("id").and_then(|v| v.as_string().or_else(|| v.as_f64().map(querywire_core::key::js_number_to_string)));
        let view = match (kind.as_deref(), ty) {
            (Some("doc"), Some(ty)) => match id.filter(|i| !i.is_empty()) {
                Some(id) => View::doc(ty, id),
                None => return Err(bad_view("a doc view needs an id (string or number)")),
            },
            (Some("list"), Some(ty)) => View::list(ty),
            _ => return Err(bad_view("a view is { kind: 'doc', type, id } or { kind: 'list', type }")),
        };
        Ok(self.update(|i| i.rt.subscribe(now(), view)) as f64)
    }

    /// Releases a view; calling it again with the same handle does nothing.
    pub fn unsubscribe(&self, handle: f64) {
        self.update(|i| i.rt.unsubscribe(now(), handle as ViewHandle));
    }

    /// The channels the open views need, sorted.
    pub fn channels(&self) -> Vec<JsValue> {
        self.inner.borrow().rt.views().channels().into_iter().map(JsValue::from).collect()
    }

    /// Replaces the scope: later events are judged against it, open views move to its channels.
    #[wasm_bindgen(js_name = setScope)]
    pub fn set_scope(&self, scope: JsValue) -> Result<(), JsValue> {
        let v = json_arg(&scope)?;
        self.update(|i| i.rt.set_scope(now(), &v)).map_err(|e| error_to_js(&e))
    }

    /// A JS-held transport (supabase-js, centrifuge-js) came back without a replay: refetch the
    /// views of `channel` (every open view when absent) once.
    pub fn recover(&self, channel: Option<String>) {
        self.update(|i| i.rt.recover(now(), channel.as_deref()));
    }

    /// A JS-held transport's status (`'connecting'`, `'connected'`, ...).
    #[wasm_bindgen(js_name = setStatus)]
    pub fn set_status(&self, status: &str) {
        let s = match status {
            "connecting" => Status::Connecting,
            "connected" => Status::Connected,
            "reconnecting" => Status::Reconnecting,
            "polling" => Status::Polling,
            "error" => Status::Error,
            _ => Status::Disconnected,
        };
        self.update(|i| i.rt.external_status(now(), s));
    }

    /// The current status.
    pub fn status(&self) -> String {
        self.inner.borrow().rt.status().as_str().to_string()
    }

    /// Connects our own WebSocket transport (wire protocol in CONTRACT.md).
    #[wasm_bindgen(js_name = connectWebSocket)]
    pub fn connect_web_socket(&self, url: String, opts: JsValue, token: Option<Function>) -> Result<(), JsValue> {
        self.connect(Kind::WebSocket, url, opts, token)
    }

    /// Connects our own Server-Sent Events transport.
    #[wasm_bindgen(js_name = connectEventSource)]
    pub fn connect_event_source(&self, url: String, opts: JsValue, token: Option<Function>) -> Result<(), JsValue> {
        self.connect(Kind::EventSource, url, opts, token)
    }

    /// Closes our transport and stops its policy; status `disconnected`.
    pub fn disconnect(&self) {
        let t = self.update(|i| {
            i.rt.disconnect(now());
            i.transport.take()
        });
        drop(t);
    }

    /// Bytes of linear memory the module holds (benchmarks of memory growth).
    #[wasm_bindgen(js_name = wasmMemoryBytes)]
    pub fn wasm_memory_bytes(&self) -> f64 {
        wasm_bindgen::memory()
            .unchecked_into::<js_sys::WebAssembly::Memory>()
            .buffer()
            .unchecked_into::<js_sys::ArrayBuffer>()
            .byte_length() as f64
    }
}

fn bad_view(msg: &str) -> JsValue {
    error_to_js(&Error::new(ErrorCode::WrongType, "subscribe", msg))
}

impl WasmRealtime {
    fn update<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        run(&self.inner, f)
    }

    fn report(&self, r: Result<(), Error>) {
        if let Err(e) = r {
            call_error(&self.inner.borrow().handlers.clone(), &e);
        }
    }

    fn connect(&self, kind: Kind, url: String, opts: JsValue, token: Option<Function>) -> Result<(), JsValue> {
        let o = json_arg(&opts)?;
        let lt = match kind {
            Kind::WebSocket => LinkTransport::Ws,
            Kind::EventSource => LinkTransport::Sse,
        };
        let old = self.update(|i| {
            let old = i.transport.replace(Transport::new(kind, url, token));
            i.rt.connect(now(), lt, &o).map(|_| old)
        });
        match old {
            Ok(old) => {
                drop(old);
                Ok(())
            }
            Err(e) => Err(error_to_js(&e)),
        }
    }
}

/// A `Uint8Array` over the plan's bytes in wasm memory: the plan crosses without a copy.
fn plan_view(buf: &[u8]) -> JsValue {
    // SAFETY: the view aliases `buf`, which is neither freed nor written while the handler runs
    // (the caller holds it outside `Inner`). The shim decodes the bytes into JS values before it
    // calls anything that could re-enter wasm and grow its memory (docs/INTERFACES.md).
    unsafe { js_sys::Uint8Array::view(buf) }.into()
}

fn call_error(h: &Handlers, e: &Error) {
    match &h.error {
        Some(f) => {
            let _ = f.call1(&JsValue::NULL, &error_to_js(e));
        }
        None => web_sys::console::warn_1(&error_to_js(e)),
    }
}

fn with<R>(weak: &Weak<RefCell<Inner>>, f: impl FnOnce(&mut Inner) -> R) -> Option<R> {
    weak.upgrade().map(|inner| run(&inner, f))
}

fn run<R>(inner: &Rc<RefCell<Inner>>, f: impl FnOnce(&mut Inner) -> R) -> R {
    let r = f(&mut inner.borrow_mut());
    deliver(inner);
    r
}

fn reporter(weak: Weak<RefCell<Inner>>) -> impl Fn(Report) + Clone + 'static {
    move |r: Report| on_report(&weak, r)
}

/// A socket event: stale generations are ignored, the rest go to the core with the time.
fn on_report(weak: &Weak<RefCell<Inner>>, r: Report) {
    let w = weak.clone();
    let err = with(weak, move |i| {
        let current = i.transport.as_ref().map(|t| t.generation);
        match r {
            Report::Open { generation } if current == Some(generation) => {
                i.rt.transport_open(now());
                None
            }
            Report::Frame { generation, text } if current == Some(generation) => {
                i.rt.transport_frame(now(), &text).err()
            }
            Report::Close { generation, code } if current == Some(generation) => {
                i.rt.transport_close(now(), code);
                None
            }
            Report::Token { generation, token } => {
                let channels: Vec<String> = i.rt.views().channels().into_iter().collect();
                if let Some(t) = i.transport.as_mut() {
                    t.open_with_token(generation, &channels, token, reporter(w));
                }
                None
            }
            _ => None,
        }
    })
    .flatten();
    if let (Some(e), Some(inner)) = (err, weak.upgrade()) {
        let h = inner.borrow().handlers.clone();
        call_error(&h, &e);
    }
}

/// Drains the core's outputs and carries each out, with no borrow held while JS runs.
fn deliver(inner: &Rc<RefCell<Inner>>) {
    loop {
        let out = {
            let mut i = inner.borrow_mut();
            if i.handlers.plan.is_none() {
                break; // nothing can apply a plan yet: keep outputs until setHandlers
            }
            i.rt.poll_output()
        };
        let Some(out) = out else { break };
        // Only the handler this output needs is cloned (a clone is a call across the boundary).
        let handler = |pick: fn(&Handlers) -> &Option<Function>| pick(&inner.borrow().handlers).clone();
        match out {
            Output::Plan(plan) => {
                // Taken out while JS reads it, so a re-entrant flush encodes into a buffer of its own.
                let mut buf = std::mem::take(&mut inner.borrow_mut().plan_buf);
                buf.clear();
                plan.encode(&mut buf);
                let applied = handler(|h| &h.plan).and_then(|h| h.call1(&JsValue::NULL, &plan_view(&buf)).ok());
                inner.borrow_mut().plan_buf = buf;
                let count = |name: &str, fallback: usize| {
                    applied
                        .as_ref()
                        .and_then(|a| Reflect::get(a, &name.into()).ok())
                        .and_then(|v| v.as_f64())
                        .map_or(fallback as u64, |n| n as u64)
                };
                let (inv, pat) = (count("invalidations", plan.invalidate.len()), count("patches", plan.patch.len()));
                inner.borrow_mut().rt.engine_mut().record_applied(inv, pat);
            }
            Output::Channels(d) => {
                if let Some(h) = handler(|h| &h.channels) {
                    let o = js_sys::Object::new();
                    let list = |v: &Vec<String>| v.iter().map(JsValue::from).collect::<js_sys::Array>();
                    let _ = Reflect::set(&o, &"open".into(), &list(&d.open));
                    let _ = Reflect::set(&o, &"close".into(), &list(&d.close));
                    let _ = h.call1(&JsValue::NULL, &o);
                }
            }
            Output::Status(s) => {
                if let Some(h) = handler(|h| &h.status) {
                    let _ = h.call1(&JsValue::NULL, &s.as_str().into());
                }
            }
            Output::Error(e) => {
                let h = inner.borrow().handlers.clone();
                call_error(&h, &e);
            }
            Output::Connect => {
                // Taken out while it runs: `token()` is user code and may call back into us.
                let (t, channels) = {
                    let mut i = inner.borrow_mut();
                    (i.transport.take(), i.rt.views().channels().into_iter().collect::<Vec<_>>())
                };
                if let Some(mut t) = t {
                    t.connect(&channels, reporter(Rc::downgrade(inner)));
                    let mut i = inner.borrow_mut();
                    if i.transport.is_none() && !i.disposed {
                        i.transport = Some(t);
                    }
                }
            }
            Output::Close => {
                if let Some(t) = inner.borrow_mut().transport.as_mut() {
                    t.close();
                }
            }
            Output::Share(m) => {
                let h = inner.borrow().handlers.clone();
                share::deliver(&h, m);
            }
            Output::Send(text) => {
                if let Some(t) = inner.borrow().transport.as_ref() {
                    t.send(&text);
                }
            }
        }
    }
    arm_timer(inner);
}

/// Keeps one timeout armed, never later than the core's earliest deadline. A trailing window moves
/// its deadline on every event; re-arming each time would cost a `clearTimeout` + `setTimeout` per
/// event, so an earlier timer is kept: it fires, `handle_timeout` finds nothing due (a harmless
/// no-op by the core's contract) and the timer is armed again for the new deadline.
fn arm_timer(inner: &Rc<RefCell<Inner>>) {
    let mut i = inner.borrow_mut();
    if i.disposed {
        i.timer = None;
        return;
    }
    let Some(d) = i.rt.poll_timeout() else { return };
    if i.timer.as_ref().is_some_and(|(armed, _)| *armed <= d) {
        return;
    }
    let delay = d.saturating_sub(now()).min(i32::MAX as u64) as u32;
    let weak = Rc::downgrade(inner);
    let t = Timeout::new(delay, move || {
        if let Some(inner) = weak.upgrade() {
            inner.borrow_mut().timer = None;
            run(&inner, |i| i.rt.handle_timeout(now()));
        }
    });
    i.timer = Some((d, t));
}
