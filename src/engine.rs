//! `WasmRealtime`: the exports of the core's [`Realtime`] machine, nothing else. Each one converts
//! its arguments (`interop.rs`) and goes through `driver::run`, which changes the core under a
//! borrow and then calls JS with none held, so every method may be called from inside any callback
//! it triggers (`onError`, `onStatus`, a plan's `queryFn`, a connector's `open`/`close`).

mod share;

pub(crate) use share::share_message;

use crate::clock::{millis, now};
use crate::driver::{self, run, Handlers, Inner, Shared};
use crate::interop::{error_to_js, json_arg, method, stats_to_js, Args};
use querywire_core::connector::{ChannelFact, ClientState};
use querywire_core::link::{Intent, Priority, Transport as LinkTransport};
use querywire_core::views::{View, ViewHandle};
use querywire_core::Slotted;
use querywire_core::{Error, ErrorCode, Realtime};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

/// The engine as JS sees it (docs/INTERFACES.md). Users reach it through `createRealtime`.
#[wasm_bindgen]
pub struct WasmRealtime {
    inner: Shared,
}

#[wasm_bindgen]
impl WasmRealtime {
    /// Options are the `createRealtime` options minus `queryClient`, `onError` and functions.
    /// Throws an `Error` with `code: 'invalid_option'` when an option is invalid.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<WasmRealtime, JsValue> {
        let opts = json_arg(&options)?;
        let rt = Realtime::from_text(now(), &opts).map_err(|e| error_to_js(&e))?;
        let inner = RefCell::new(Inner::new(rt));
        Ok(WasmRealtime { inner })
    }

    /// `{ plan(plan), error(e), status(s), open(id, channel), close(id, name), transport(op, text),
    /// share(message), timer(ms) }`; each optional (without `timer` no deadline fires by itself,
    /// without `error` errors are dropped).
    /// Delivers what waits.
    #[wasm_bindgen(js_name = setHandlers)]
    pub fn set_handlers(&self, handlers: JsValue) {
        run(&self.inner, |i| {
            i.handlers = Handlers {
                plan: method(&handlers, "plan"),
                error: method(&handlers, "error"),
                status: method(&handlers, "status"),
                open: method(&handlers, "open"),
                close: method(&handlers, "close"),
                transport: method(&handlers, "transport"),
                share: method(&handlers, "share"),
                timer: method(&handlers, "timer"),
            }
        });
    }

    /// One payload as JSON text (a WebSocket message, or an object the shim stringified). Never
    /// throws: bad input goes to the error handler.
    #[wasm_bindgen(js_name = ingestText)]
    pub fn ingest_text(&self, source: &str, text: &str) {
        if self.disposed() {
            return;
        }
        run(&self.inner, |i| {
            if let Err(e) = i.rt.ingest_text(now(), source, text) {
                driver::report(i, e);
            }
        });
    }

    /// The page's visibility: the shim's `visibilitychange` listener (once at creation, then on each
    /// change) and `replayTrace`. The core decides what it means (flush on visible, a link check).
    #[wasm_bindgen(js_name = setVisible)]
    pub fn set_visible(&self, visible: bool) {
        if self.disposed() {
            return;
        }
        run(&self.inner, |i| i.rt.set_visible(now(), visible));
    }

    /// One payload whose UTF-8 text the shim wrote to the input buffer (`len` bytes); `source` is its
    /// index in `supabase, event, envelope, centrifugo, invalidate`, or 5: a wire-protocol frame as
    /// our own transport's socket delivers it (`replayTrace` feeds recorded frames so); at `now`, the
    /// shim's `Date.now()` (no import call for the clock: ~4 % of the text path in Chromium). Never
    /// throws.
    #[wasm_bindgen(js_name = ingestInput)]
    pub fn ingest_input(&self, source: u32, len: u32, now: f64) {
        if self.disposed() {
            return;
        }
        const SOURCES: [&str; 6] = ["supabase", "event", "envelope", "centrifugo", "invalidate", "frame"];
        let src = SOURCES.get(source as usize).copied().unwrap_or("unknown");
        run(&self.inner, |i| {
            let r = {
                let Inner { rt, input, .. } = &mut *i;
                let bytes = &input[..(len as usize).min(input.len())];
                // writeText (js/loadWasm.js) writes UTF-8; a caller that wrote something else gets bad_json, not a panic.
                match querywire_core::utf8(bytes) {
                    Some(text) if source == 5 => rt.transport_frame(millis(now), text).map(|_| ()),
                    Some(text) => rt.ingest_text(millis(now), src, text).map(|_| ()),
                    None => {
                        rt.engine_mut().record_invalid();
                        Err(Error::new(ErrorCode::BadJson, src, "payload is not UTF-8"))
                    }
                }
            };
            if let Err(e) = r {
                driver::report(i, e);
            }
        });
    }

    /// A supabase payload the shim wrote as typed slots (`querywire_core::slots`): `words` words in
    /// the slot buffer, their values' `len` bytes of text in the input buffer, under the needs of
    /// `epoch`, at `now` (the shim's `Date.now()`). 0: read. Otherwise nothing was read or counted
    /// and the shim sends it as text (`querywire_core::Slotted`): 1 the whole payload; 2 the same,
    /// the needs having changed since `epoch` (the shim reads `columns()` again); 3 the slots again
    /// with the rows after them (an UPDATE diffed from its whole rows). Never throws.
    #[wasm_bindgen(js_name = ingestSlots)]
    pub fn ingest_slots(&self, words: u32, len: u32, epoch: u32, now: f64) -> u32 {
        if self.disposed() {
            return 0;
        }
        run(&self.inner, |i| {
            let Inner { rt, input, slots, .. } = &mut *i;
            let words = &slots[..(words as usize).min(slots.len())];
            let text = querywire_core::utf8(&input[..(len as usize).min(input.len())]);
            match text.map(|text| rt.ingest_slots(millis(now), epoch, words, text)) {
                Some(Slotted::Read(_)) => 0,
                Some(Slotted::Stale) => 2,
                Some(Slotted::Rows) => 3,
                Some(Slotted::Text) | None => 1,
            }
        })
    }

    /// What the plan handler applied: keys invalidated (patch fallbacks included) and docs patched.
    #[wasm_bindgen(js_name = recordApplied)]
    pub fn record_applied(&self, invalidations: u32, patches: u32) {
        self.inner.borrow_mut().rt.engine_mut().record_applied(invalidations.into(), patches.into());
    }

    /// Flushes whatever waits, now.
    pub fn flush(&self) {
        if self.disposed() {
            return;
        }
        run(&self.inner, |i| i.rt.flush(now()));
    }

    /// The shim's timeout (`timer` handler) fired: the core handles what is due and the next
    /// deadline is armed.
    pub fn timeout(&self) {
        if self.disposed() {
            return;
        }
        run(&self.inner, |i| {
            i.timer = None;
            i.rt.handle_timeout(now())
        });
    }

    /// Replaces the scope: later events are judged against it, open views move to its channels.
    #[wasm_bindgen(js_name = setScope)]
    pub fn set_scope(&self, scope: JsValue) -> Result<(), JsValue> {
        let v = json_arg(&scope)?;
        if self.disposed() {
            return Ok(());
        }
        run(&self.inner, |i| i.rt.set_scope_text(now(), &v)).map_err(|e| error_to_js(&e))
    }

    /// Starts the core's link for our own transport: `kind` 0 WebSocket, 1 Server-Sent Events (wire
    /// protocol in docs/PROTOCOL.md). The link's connect/close/send go to the `transport` handler.
    pub fn connect(&self, kind: u32, opts: JsValue) -> Result<(), JsValue> {
        let o = json_arg(&opts)?;
        if self.disposed() {
            return Ok(());
        }
        let lt = if kind == 0 { LinkTransport::Ws } else { LinkTransport::Sse };
        run(&self.inner, |i| i.rt.connect_text(now(), lt, &o)).map_err(|e| error_to_js(&e))
    }

    /// The engine's rarer calls, one export: `text` is `[op, ...args]` as JSON (`JSON.stringify`),
    /// `op` the index of the call's name in js/loadWasm.js's `COMMANDS`, which puts each name back
    /// on the prototype (docs/INTERFACES.md). Returns what the call returns (`subscribe`'s handle,
    /// `status()`, ...); throws only what `subscribe` throws (a malformed view). One export instead
    /// of twenty-eight: each export
    /// costs a shim of its own (the `this` borrow, its arguments' decoding; docs/SIZE.md).
    pub fn command(&self, text: &str) -> Result<JsValue, JsValue> {
        let Some(a) = Args::new(text) else { return Ok(JsValue::UNDEFINED) };
        let id = a.num(1) as u32;
        match a.num(0) as u32 {
            0 => self.online(),
            1 => self.record_invalid(&a.str(1), &a.str(2)),
            2 => self.mutation_started(a.num(1), &a.str(2)),
            3 => self.mutation_settled(a.num(1)),
            4 => return Ok(self.subscribe(a.view(1)?).into()),
            5 => self.unsubscribe(a.num(1)),
            6 => self.attach_connector(id, a.strings(2).unwrap_or_default(), a.opt_str(3)),
            7 => self.detach_connector(id),
            8 => self.channel_fact(id, &a.str(2), &a.str(3)),
            9 => self.client_state(id, &a.str(2)),
            10 => self.transport_event(id, a.num(2) as i32, a.opt_str(3)),
            11 => self.disconnect(),
            12 => self.share_role(&a.str(1)),
            13 => self.share_channels(&a.str(1), a.strings(2).unwrap_or_default()),
            14 => self.share_forget(&a.str(1)),
            15 => self.share_connector(id, a.bool(2)),
            16 => self.share_position(&a.str(1), a.num(2), &a.str(3)),
            17 => self.share_status(&a.str(1)),
            18 => self.share_recover(a.strings(1)),
            19 => self.share_merge(a.share_state(1)),
            20 => self.dispose(),
            21 => return Ok(self.status().into()),
            22 => return Ok(self.channels().into()),
            23 => return Ok(self.stats()),
            24 => return Ok(self.share_state()),
            25 => return Ok(self.columns().into()),
            26 => return Ok(self.input_buffer(id).into()),
            27 => return Ok(self.slot_buffer(id).into()),
            _ => {}
        }
        Ok(JsValue::UNDEFINED)
    }
}

/// The calls behind `command`, each as it was an export of its own.
impl WasmRealtime {
    /// A buffer of at least `capacity` bytes in wasm memory for [`WasmRealtime::ingest_input`]; returns
    /// its address. It moves only when a later call asks for more, so the shim keeps the address and
    /// writes each payload with `TextEncoder.encodeInto`: no allocation per payload at the boundary.
    fn input_buffer(&self, capacity: u32) -> u32 {
        grown(&mut self.inner.borrow_mut().input, capacity)
    }

    /// What the core reads from Supabase rows, per table (`querywire_core::columns`), as JSON text
    /// (its layout: `Columns::encode`). The shim's object path writes those columns' values as typed
    /// slots (`ingestSlots`).
    fn columns(&self) -> String {
        self.inner.borrow().rt.engine().columns().encode()
    }

    /// A buffer of at least `words` 32-bit words in wasm memory for [`WasmRealtime::ingest_slots`];
    /// returns its address. It moves only when a later call asks for more.
    fn slot_buffer(&self, words: u32) -> u32 {
        grown(&mut self.inner.borrow_mut().slots, words)
    }

    /// Flushes, then stops the timer, the transport and the connector. Later calls do nothing.
    pub fn dispose(&self) {
        if self.disposed() {
            return;
        }
        run(&self.inner, |i| i.rt.dispose(now()));
        let clear = {
            let mut i = self.inner.borrow_mut();
            i.disposed = true;
            i.timer.take().and(i.handlers.timer.clone()).map(|h| (h, -1))
        };
        driver::set_timer(clear);
    }

    /// `{ received, flushes, invalidations, patches, dropped: { invalid, stale, duplicate, outOfScope } }`.
    pub fn stats(&self) -> JsValue {
        let stats = self.inner.borrow().rt.engine().stats();
        stats_to_js(&stats)
    }

    /// The channels the open views need, sorted (diagnostics and tests).
    pub fn channels(&self) -> js_sys::Array {
        let channels = self.inner.borrow().rt.views().channels();
        let out = js_sys::Array::new();
        for c in channels {
            out.push(&c.into());
        }
        out
    }

    /// The current status.
    pub fn status(&self) -> String {
        self.inner.borrow().rt.status().as_str().to_string()
    }

    /// The window's `online` event (the shim listens): a reconnect intent for the core's scheduler,
    /// so a pending retry may run now rather than after its backoff.
    fn online(&self) {
        if self.disposed() {
            return;
        }
        run(&self.inner, |i| i.rt.intent(now(), Intent::Online, Priority::Medium));
    }

    /// Counts and reports a payload the shim refused before it crossed (`JSON.stringify` threw).
    fn record_invalid(&self, source: &str, message: &str) {
        if self.disposed() {
            return;
        }
        run(&self.inner, |i| {
            i.rt.engine_mut().record_invalid();
            driver::report(i, Error::new(ErrorCode::NotObject, source, message));
        });
    }

    /// A QueryClient mutation went pending naming these key prefixes (JSON text of an array of
    /// keys): realtime operations on queries under them wait until it settles (optimistic updates).
    fn mutation_started(&self, id: f64, keys: &str) {
        run(&self.inner, |i| {
            if let Err(e) = i.rt.mutation_started(id.max(0.0) as u64, keys) {
                driver::report(i, e);
            }
        });
    }

    /// The mutation settled (success, error, removed): what waited for it alone goes out now.
    fn mutation_settled(&self, id: f64) {
        run(&self.inner, |i| i.rt.mutation_settled(now(), id.max(0.0) as u64));
    }

    /// Opens a view; returns a handle for `unsubscribe`. Throws on a malformed view.
    fn subscribe(&self, view: View) -> f64 {
        if self.disposed() {
            return 0.0; // handle 0 releases nothing
        }
        run(&self.inner, |i| i.rt.subscribe(now(), view)) as f64
    }

    /// Releases a view; calling it again with the same handle does nothing.
    fn unsubscribe(&self, handle: f64) {
        if self.disposed() {
            return;
        }
        run(&self.inner, |i| i.rt.unsubscribe(now(), handle as ViewHandle));
    }

    /// Attaches a connector under `id` (the shim's, a new one per attach; it replaces any other).
    /// `tables`: the string array's strings (none: every table); `filter`: a filter string used on every binding.
    /// The `open` handler is called for the channels the views need on the next tick.
    fn attach_connector(&self, id: u32, tables: Vec<String>, filter: Option<String>) {
        if self.disposed() {
            return;
        }
        run(&self.inner, |i| i.rt.attach_connector(now(), id, tables, filter));
    }

    /// Connector `id` is gone: `close` for each of its channels, status `disconnected`.
    fn detach_connector(&self, id: u32) {
        if self.disposed() {
            return;
        }
        run(&self.inner, |i| i.rt.detach_connector(now(), id));
    }

    /// A fact about one of connector `id`'s channels: `'joined' | 'replayed' | 'lost' | 'down' |
    /// 'closed' | 'left' | 'refused'`. Unknown facts are ignored.
    fn channel_fact(&self, id: u32, channel: &str, fact: &str) {
        if self.disposed() {
            return;
        }
        if let Some(f) = ChannelFact::parse(fact) {
            run(&self.inner, |i| i.rt.connector_channel(now(), id, channel, f));
        }
    }

    /// Connector `id`'s client state: `'connecting' | 'connected' | 'disconnected' | 'signedOut'`.
    fn client_state(&self, id: u32, state: &str) {
        if self.disposed() {
            return;
        }
        if let Some(s) = ClientState::parse(state) {
            run(&self.inner, |i| i.rt.connector_client(now(), id, s));
        }
    }

    /// What our transport's current socket did: `event` 0 opened (`token`: the one it was opened
    /// with, sent first as the wire protocol's auth frame), 1 closed (`code`: the close code, or
    /// negative when there is none). Its frames arrive by `ingestInput(5, ..)`.
    fn transport_event(&self, event: u32, code: i32, token: Option<String>) {
        if self.disposed() {
            return;
        }
        if event == 0 {
            if let Some(t) = token {
                let h = self.inner.borrow().handlers.transport.clone();
                if let Some(h) = h {
                    let _ = h.call2(&JsValue::NULL, &2.into(), &querywire_core::link::auth_frame(&t).into());
                }
            }
            run(&self.inner, |i| i.rt.transport_open(now()));
        } else {
            run(&self.inner, |i| i.rt.transport_close(now(), u16::try_from(code).ok()));
        }
    }

    /// Stops our transport's policy (js/transport.js closes the socket); status `disconnected`.
    fn disconnect(&self) {
        if self.disposed() {
            return;
        }
        run(&self.inner, |i| i.rt.disconnect(now()));
    }
}

impl WasmRealtime {
    /// After `dispose`, every method but `stats` and `status` does nothing.
    fn disposed(&self) -> bool {
        self.inner.borrow().disposed
    }
}

/// `buf` grown to at least `len` elements (never shrunk, so an address the shim keeps stays valid
/// until a later call asks for more), and its address in wasm memory.
fn grown<T: Copy + Default>(buf: &mut Vec<T>, len: u32) -> u32 {
    if buf.len() < len as usize {
        buf.resize(len as usize, T::default());
    }
    buf.as_ptr() as u32
}
