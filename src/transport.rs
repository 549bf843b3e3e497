//! The WebSocket and EventSource handles (web-sys). They carry out what the core's link asks
//! (`Connect`, `Close`, `Send`) and report what happens (open, frame, close) back with the time.
//! A generation number tags each socket, so events of a socket we already closed are ignored.

use js_sys::{Function, Promise};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CloseEvent, EventSource, MessageEvent, WebSocket};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    WebSocket,
    EventSource,
}

/// What a socket reports; `generation` says which socket.
pub enum Report {
    Open { generation: u32 },
    /// An asynchronous token arrived; the glue calls `open_with_token`.
    Token { generation: u32, token: Option<String> },
    Frame { generation: u32, text: String },
    Close { generation: u32, code: Option<u16> },
}

enum Handle {
    Ws(WebSocket),
    Es(EventSource),
}

pub struct Transport {
    pub kind: Kind,
    url: String,
    token: Option<Function>,
    pub generation: u32,
    handle: Option<Handle>,
    // Kept alive while the socket lives.
    _closures: Vec<Closure<dyn FnMut(JsValue)>>,
}

impl Transport {
    pub fn new(kind: Kind, url: String, token: Option<Function>) -> Transport {
        Transport { kind, url, token, generation: 0, handle: None, _closures: Vec::new() }
    }

    /// Opens a new socket. The token function is called first (it may return a Promise), so every
    /// connect carries a fresh token. `report` receives the socket's events.
    pub fn connect(&mut self, channels: &[String], report: impl Fn(Report) + Clone + 'static) {
        self.close();
        self.generation = self.generation.wrapping_add(1);
        let generation = self.generation;
        let token = self.token.as_ref().map(|f| f.call0(&JsValue::NULL));
        match token {
            None => {
                let r = report.clone();
                self.open(generation, channels, None, r);
            }
            Some(Err(e)) => {
                web_sys::console::warn_2(&"[querywire] token() threw".into(), &e);
                report(Report::Close { generation, code: None });
            }
            Some(Ok(v)) => match v.dyn_into::<Promise>() {
                Ok(p) => {
                    // The socket opens when the token arrives; the glue re-enters through `report`.
                    let ok_report = report.clone();
                    let ok = Closure::once(move |t: JsValue| ok_report(Report::Token { generation, token: t.as_string() }));
                    let err_report = report.clone();
                    let err = Closure::once(move |_e: JsValue| err_report(Report::Close { generation, code: None }));
                    let _ = p.then2(&ok, &err);
                    ok.forget();
                    err.forget();
                }
                Err(v) => {
                    let r = report.clone();
                    self.open(generation, channels, v.as_string(), r);
                }
            },
        }
    }

    /// The token arrived asynchronously for `generation`: open now if that is still current.
    pub fn open_with_token(&mut self, generation: u32, channels: &[String], token: Option<String>, report: impl Fn(Report) + Clone + 'static) {
        if generation == self.generation && self.handle.is_none() {
            self.open(generation, channels, token.filter(|t| !t.is_empty()), report);
        }
    }

    fn open(&mut self, generation: u32, channels: &[String], token: Option<String>, report: impl Fn(Report) + Clone + 'static) {
        let mut closures: Vec<Closure<dyn FnMut(JsValue)>> = Vec::new();
        match self.kind {
            Kind::WebSocket => {
                let ws = match WebSocket::new(&self.url) {
                    Ok(ws) => ws,
                    Err(_) => return report(Report::Close { generation, code: None }),
                };
                let r = report.clone();
                let ws2 = ws.clone();
                let tok = token.clone();
                let on_open = Closure::<dyn FnMut(JsValue)>::new(move |_e: JsValue| {
                    if let Some(t) = &tok {
                        let frame = querywire_core::link::auth_frame(t);
                        let _ = ws2.send_with_str(&frame);
                    }
                    r(Report::Open { generation });
                });
                let r = report.clone();
                let on_message = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
                    if let Some(text) = e.unchecked_ref::<MessageEvent>().data().as_string() {
                        r(Report::Frame { generation, text });
                    }
                });
                let r = report.clone();
                let on_close = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
                    let code = e.dyn_ref::<CloseEvent>().map(|c| c.code());
                    r(Report::Close { generation, code });
                });
                ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
                ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
                ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
                closures.extend([on_open, on_message, on_close]);
                self.handle = Some(Handle::Ws(ws));
            }
            Kind::EventSource => {
                let mut url = self.url.clone();
                let sep = if url.contains('?') { '&' } else { '?' };
                url.push(sep);
                url.push_str("channels=");
                url.push_str(&String::from(js_sys::encode_uri_component(&channels.join(","))));
                if let Some(t) = &token {
                    url.push_str("&token=");
                    url.push_str(&String::from(js_sys::encode_uri_component(t)));
                }
                let es = match EventSource::new(&url) {
                    Ok(es) => es,
                    Err(_) => return report(Report::Close { generation, code: None }),
                };
                let r = report.clone();
                let on_open = Closure::<dyn FnMut(JsValue)>::new(move |_e: JsValue| r(Report::Open { generation }));
                let r = report.clone();
                let on_message = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
                    if let Some(text) = e.unchecked_ref::<MessageEvent>().data().as_string() {
                        r(Report::Frame { generation, text });
                    }
                });
                // A ping event proves the stream is alive; it carries no frame.
                let r = report.clone();
                let on_ping = Closure::<dyn FnMut(JsValue)>::new(move |_e: JsValue| {
                    r(Report::Frame { generation, text: String::from("{\"type\":\"pong\"}") });
                });
                // EventSource would retry on its own schedule; the core's backoff decides instead.
                let r = report.clone();
                let es2 = es.clone();
                let on_error = Closure::<dyn FnMut(JsValue)>::new(move |_e: JsValue| {
                    es2.close();
                    r(Report::Close { generation, code: None });
                });
                es.set_onopen(Some(on_open.as_ref().unchecked_ref()));
                es.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
                let _ = es.add_event_listener_with_callback("ping", on_ping.as_ref().unchecked_ref());
                es.set_onerror(Some(on_error.as_ref().unchecked_ref()));
                closures.extend([on_open, on_message, on_ping, on_error]);
                self.handle = Some(Handle::Es(es));
            }
        }
        self._closures = closures;
    }

    pub fn send(&self, text: &str) {
        if let Some(Handle::Ws(ws)) = &self.handle {
            if ws.ready_state() == WebSocket::OPEN {
                let _ = ws.send_with_str(text);
            }
        }
    }

    /// Closes the socket without reporting its close (the core already counts it as gone).
    pub fn close(&mut self) {
        match self.handle.take() {
            Some(Handle::Ws(ws)) => {
                ws.set_onopen(None);
                ws.set_onmessage(None);
                ws.set_onclose(None);
                let _ = ws.close();
            }
            Some(Handle::Es(es)) => {
                es.set_onopen(None);
                es.set_onmessage(None);
                es.set_onerror(None);
                es.close();
            }
            None => {}
        }
        self._closures.clear();
        // Later events of the closed socket carry an old generation and are ignored.
        self.generation = self.generation.wrapping_add(1);
    }
}

impl Drop for Transport {
    fn drop(&mut self) {
        self.close();
    }
}
