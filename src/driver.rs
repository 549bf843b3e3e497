//! The run loop around the core's [`Realtime`]: every entry point borrows the shared state, changes
//! the core, releases the borrow, then drains the core's outputs and carries each out with no
//! borrow held (str0m's loop, quinn's `poll_*`). So any JS a drain calls (`onError`, `onStatus`,
//! the plan handler and the `queryFn`s it starts, a connector's `open`/`close`, our transport's) may
//! call back into the engine: the call is applied to the core at once, and its outputs join the
//! drain that is already running (a drain never nests). Nothing here can trap on a `RefCell`.

use crate::clock::now;
use crate::interop::{channel_spec_to_js, error_to_js, plan_view};
use js_sys::Function;
use querywire_core::{Error, Millis, Output, Realtime};
use std::cell::RefCell;
use wasm_bindgen::JsValue;

/// The JS functions the shim hands over (`setHandlers`); each optional.
#[derive(Default, Clone)]
pub struct Handlers {
    pub plan: Option<Function>,
    pub error: Option<Function>,
    pub status: Option<Function>,
    /// `open(connectorId, { name, bindings })` for a JS-held connector.
    pub open: Option<Function>,
    /// `close(connectorId, name)`.
    pub close: Option<Function>,
    /// `transport(op, text)`: our own WebSocket / EventSource (js/transport.js) carries out what the
    /// core's link asks: 0 connect, 1 close, 2 send `text`. It reports back with `transportEvent`
    /// and hands each frame to `ingestInput(5, ..)`.
    pub transport: Option<Function>,
    /// `shareConnection`: messages for the other tabs (`engine/share.rs`).
    pub share: Option<Function>,
    /// `timer(ms)`: the shim's one `setTimeout` (js/loadWasm.js `engineTimer`). It replaces any
    /// timeout armed before with one of `ms` milliseconds that calls the `timeout` export, or, for
    /// `-1`, only clears it. The core decides every deadline; the shim only waits.
    pub timer: Option<Function>,
}

pub struct Inner {
    pub rt: Realtime,
    pub handlers: Handlers,
    /// The deadline the shim's one timeout is armed for (`Handlers::timer`), if any.
    pub timer: Option<Millis>,
    pub disposed: bool,
    /// The binary plan being handed over (reused: a flush allocates nothing here).
    plan_buf: Vec<u8>,
    /// Payload text the shim writes in place (`WasmRealtime.inputBuffer` / `ingestInput`).
    pub input: Vec<u8>,
    /// The object path's typed slots (`WasmRealtime.slotBuffer` / `ingestSlots`, core `slots.rs`).
    pub slots: Vec<u32>,
    /// A drain is running further up the stack: a re-entrant call leaves its outputs to it.
    draining: bool,
}

/// The engine's state behind the one `RefCell` every entry point borrows (no `Rc`: nothing holds it
/// but the `WasmRealtime`, which wasm-bindgen keeps alive for as long as JS may call it).
pub type Shared = RefCell<Inner>;

impl Inner {
    pub fn new(rt: Realtime) -> Inner {
        Inner {
            rt,
            handlers: Handlers::default(),
            timer: None,
            disposed: false,
            plan_buf: Vec::new(),
            input: Vec::new(),
            slots: Vec::new(),
            draining: false,
        }
    }
}

/// One entry point: `f` changes the core under a borrow that ends before any JS runs.
pub fn run<R>(inner: &Shared, f: impl FnOnce(&mut Inner) -> R) -> R {
    let r = f(&mut inner.borrow_mut());
    drain(inner);
    r
}

/// Hands an error to `onError` in order with everything else the core produced.
pub fn report(inner: &mut Inner, e: Error) {
    inner.rt.report_error(e);
}

/// Drains the core's outputs and carries each out, with no borrow held while JS runs. A call from
/// inside one of those JS functions finds `draining` set and returns: this loop picks up its outputs.
pub fn drain(inner: &Shared) {
    let first = {
        let mut i = inner.borrow_mut();
        if i.draining || i.handlers.plan.is_none() {
            return; // nested, or nothing can apply a plan yet: outputs wait (setHandlers drains)
        }
        let Some(out) = i.rt.poll_output() else {
            // Nothing waits (most payloads): only the timer may need arming.
            let arm = arm_timer(&mut i);
            drop(i);
            set_timer(arm);
            return;
        };
        i.draining = true;
        out
    };
    carry_out(inner, first);
    loop {
        let out = inner.borrow_mut().rt.poll_output();
        let Some(out) = out else { break };
        carry_out(inner, out);
    }
    let arm = {
        let mut i = inner.borrow_mut();
        i.draining = false;
        arm_timer(&mut i)
    };
    set_timer(arm);
}

/// Clones one handler out of the shared state, so it is called with no borrow held.
fn handler(inner: &Shared, pick: fn(&Handlers) -> &Option<Function>) -> Option<Function> {
    pick(&inner.borrow().handlers).clone()
}

/// Out of line (and kept so by `wasm-opt -ocimfs`, scripts/build.sh): V8 compiles a wasm function
/// on its first call, and `drain` runs at creation (`setHandlers`, `setVisible`) with nothing to
/// carry out, so this body (plans, transports, sharing) is compiled when the first output comes.
#[inline(never)]
fn carry_out(inner: &Shared, out: Output) {
    match out {
        Output::Plan(plan) => {
            // Taken out while JS reads it, so a re-entrant flush encodes into a buffer of its own.
            // The handler reports what it applied with `recordApplied` (two numbers).
            let mut buf = std::mem::take(&mut inner.borrow_mut().plan_buf);
            buf.clear();
            plan.encode(&mut buf);
            if let Some(h) = handler(inner, |h| &h.plan) {
                let _ = h.call1(&JsValue::NULL, &plan_view(&buf));
            }
            let mut i = inner.borrow_mut();
            i.plan_buf = buf;
            i.rt.recycle_plan(plan); // its buffers serve the next flush
        }
        Output::OpenChannel(id, spec) => {
            if let Some(h) = handler(inner, |h| &h.open) {
                let _ = h.call2(&JsValue::NULL, &id.into(), &channel_spec_to_js(&spec));
            }
        }
        Output::CloseChannel(id, name) => {
            if let Some(h) = handler(inner, |h| &h.close) {
                let _ = h.call2(&JsValue::NULL, &id.into(), &name.into());
            }
        }
        Output::Status(s) => {
            if let Some(h) = handler(inner, |h| &h.status) {
                let _ = h.call1(&JsValue::NULL, &s.as_str().into());
            }
        }
        Output::Error(e) => {
            if let Some(h) = handler(inner, |h| &h.error) {
                let _ = h.call1(&JsValue::NULL, &error_to_js(&e));
            }
        }
        Output::Connect => transport(inner, 0, JsValue::UNDEFINED),
        Output::Close => transport(inner, 1, JsValue::UNDEFINED),
        Output::Send(text) => transport(inner, 2, text.into()),
        Output::Share(m) => {
            if let Some(h) = handler(inner, |h| &h.share) {
                crate::engine::share_message(&h, m);
            }
        }
    }
}

/// One of the link's outputs for our own transport (js/transport.js), called with no borrow held:
/// its `token()` is user code and may call back into the engine.
fn transport(inner: &Shared, op: u32, text: JsValue) {
    if let Some(h) = handler(inner, |h| &h.transport) {
        let _ = h.call2(&JsValue::NULL, &op.into(), &text);
    }
}

/// Keeps one timeout armed, never later than the core's earliest deadline. A trailing window moves
/// its deadline on every event; re-arming each time would cost a `clearTimeout` + `setTimeout` per
/// event, so an earlier timer is kept: it fires, `handle_timeout` finds nothing due (a harmless
/// no-op by the core's contract) and the timer is armed again for the new deadline.
/// Decided under the borrow; returns the `timer` call to make once it is released ([`set_timer`]).
fn arm_timer(i: &mut Inner) -> Option<(Function, i32)> {
    if i.disposed {
        return None;
    }
    let d = i.rt.poll_timeout()?;
    if i.timer.is_some_and(|armed| armed <= d) {
        return None;
    }
    let h = i.handlers.timer.clone()?; // none yet: armed once one is set and a deadline comes
    i.timer = Some(d);
    Some((h, d.saturating_sub(now()).min(i32::MAX as u64) as i32))
}

/// Calls the shim's `timer` handler (no borrow held): `ms` to wait, or `-1` to clear it.
pub fn set_timer(arm: Option<(Function, i32)>) {
    if let Some((h, ms)) = arm {
        let _ = h.call1(&JsValue::NULL, &ms.into());
    }
}
