//! Conversions between JS values and the core's types, in one place (automerge-wasm's `interop.rs`).

use js_sys::{Object, Reflect};
use querywire_core::connector::ChannelSpec;
use querywire_core::scan::{Kind, Tape};
use querywire_core::views::View;
use querywire_core::{Error, ErrorCode};
use std::borrow::Cow;
use wasm_bindgen::{JsCast, JsValue};

/// `rt.stats()` as a plain JS object: `{ received, flushes, invalidations, patches, dropped: { invalid,
/// stale, duplicate, outOfScope } }`, built field by field (no serializer linked for it).
pub fn stats_to_js(s: &querywire_core::Stats) -> JsValue {
    let set = |o: &Object, k: &str, v: u64| {
        let _ = Reflect::set(o, &k.into(), &JsValue::from_f64(v as f64));
    };
    let dropped = Object::new();
    set(&dropped, "invalid", s.dropped.invalid);
    set(&dropped, "stale", s.dropped.stale);
    set(&dropped, "duplicate", s.dropped.duplicate);
    set(&dropped, "outOfScope", s.dropped.out_of_scope);
    let o = Object::new();
    set(&o, "received", s.received);
    set(&o, "flushes", s.flushes);
    set(&o, "invalidations", s.invalidations);
    set(&o, "patches", s.patches);
    let _ = Reflect::set(&o, &"dropped".into(), &dropped);
    o.into()
}

/// `{ code, message, source }` as a real JS `Error`, so stack-aware tooling shows it well.
pub fn error_to_js(e: &Error) -> JsValue {
    let err = js_sys::Error::new(&e.message);
    let obj: &Object = err.unchecked_ref();
    let _ = Reflect::set(obj, &"code".into(), &e.code.as_str().into());
    let _ = Reflect::set(obj, &"source".into(), &e.source.as_str().into());
    err.into()
}

/// A function-valued property of `obj`, if there is one.
pub fn method(obj: &JsValue, name: &str) -> Option<js_sys::Function> {
    Reflect::get(obj, &name.into()).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok())
}

/// An options-like argument (`undefined`/`null` = none) as JSON text (`JSON.stringify`), which the
/// core reads with its scanner; what JSON cannot hold (a cycle, a BigInt) is `invalid_option`.
pub fn json_arg(v: &JsValue) -> Result<String, JsValue> {
    if v.is_undefined() || v.is_null() {
        return Ok("null".into());
    }
    let bad = |m: String| error_to_js(&Error::new(ErrorCode::InvalidOption, "options", m));
    let text = js_sys::JSON::stringify(v).map_err(|e| match e.dyn_ref::<js_sys::Error>() {
        Some(err) => bad(String::from(err.message())),
        None => bad("value cannot be serialised".to_string()),
    })?;
    Ok(text.as_string().unwrap_or_else(|| "null".into()))
}

/// A channel to open, as `{ name, bindings: [{ table, filter }], since? }` (absent values are `undefined`).
pub fn channel_spec_to_js(spec: &ChannelSpec) -> JsValue {
    let o = Object::new();
    let _ = Reflect::set(&o, &"name".into(), &spec.name.as_str().into());
    let bindings = js_sys::Array::new();
    for b in &spec.bindings {
        let bo = Object::new();
        if let Some(t) = &b.table {
            let _ = Reflect::set(&bo, &"table".into(), &t.as_str().into());
        }
        if let Some(f) = &b.filter {
            let _ = Reflect::set(&bo, &"filter".into(), &f.as_str().into());
        }
        bindings.push(&bo);
    }
    let _ = Reflect::set(&o, &"bindings".into(), &bindings);
    if let Some(p) = &spec.since {
        // A takeover's stream position (`shareConnection`): `{ offset, epoch }`, centrifuge-js `since`.
        let since = Object::new();
        let _ = Reflect::set(&since, &"offset".into(), &(p.offset as f64).into());
        let _ = Reflect::set(&since, &"epoch".into(), &p.epoch.as_str().into());
        let _ = Reflect::set(&o, &"since".into(), &since);
    }
    o.into()
}

/// The arguments of one `command` (src/engine.rs): `[op, ...args]` as JSON text (js/loadWasm.js
/// writes it with `JSON.stringify`), read with the core's scanner instead of one `Reflect.get` per
/// value. An argument that is absent or of another type reads as empty, `NaN`, `false` or `None`.
pub struct Args<'t> {
    tape: Tape,
    text: &'t str,
    at: [u32; 4],
}

impl<'t> Args<'t> {
    /// `None` when `text` is not a JSON array (never, from js/loadWasm.js).
    pub fn new(text: &'t str) -> Option<Args<'t>> {
        let mut tape = Tape::new();
        tape.scan(text).ok()?;
        if tape.kind(0) != Kind::Array {
            return None;
        }
        // Past the last element: an index past the tape, which reads as `null`.
        let mut at = [u32::MAX >> 1; 4];
        for (slot, v) in at.iter_mut().zip(tape.items(0)) {
            *slot = v;
        }
        Some(Args { tape, text, at })
    }

    fn node(&self, k: usize) -> u32 {
        self.at.get(k).copied().unwrap_or(u32::MAX >> 1)
    }

    /// Argument `k` as a number (`NaN` when it is not one; `as` casts of it saturate, `NaN` is 0).
    pub fn num(&self, k: usize) -> f64 {
        self.tape.f64(self.text, self.node(k)).unwrap_or(f64::NAN)
    }

    /// Argument `k` as a string, decoded (empty when it is not one).
    pub fn str(&self, k: usize) -> Cow<'t, str> {
        self.tape.str(self.text, self.node(k))
    }

    /// Argument `k` when it is a string.
    pub fn opt_str(&self, k: usize) -> Option<String> {
        self.tape.is_str(self.node(k)).then(|| self.str(k).into_owned())
    }

    pub fn bool(&self, k: usize) -> bool {
        self.tape.kind(self.node(k)) == Kind::True
    }

    /// Argument `k` when it is an array: its string elements (others skipped).
    pub fn strings(&self, k: usize) -> Option<Vec<String>> {
        let arr = self.node(k);
        (self.tape.kind(arr) == Kind::Array).then(|| self.strings_of(arr))
    }

    // Plain loops rather than iterator chains: each `collect` of an adapter chain is a
    // monomorphization of its own (docs/SIZE.md).
    fn strings_of(&self, arr: u32) -> Vec<String> {
        let mut out = Vec::new();
        for v in self.tape.items(arr) {
            if self.tape.is_str(v) {
                out.push(self.tape.str(self.text, v).into_owned());
            }
        }
        out
    }

    /// `rt.subscribe(view)`'s object as JSON: its `kind`, `type` and `id` (a number's JSON text is
    /// JS `String(id)`) go to the core's reader, `View::from_parts`.
    pub fn view(&self, k: usize) -> Result<View, JsValue> {
        let (t, text, v) = (&self.tape, self.text, self.node(k));
        let field = |name| t.get(text, v, name).filter(|&n| t.is_str(n)).map(|n| t.str(text, n));
        let id = t.get(text, v, "id").and_then(|n| match t.kind(n) {
            Kind::Number => Some(t.raw(text, n).to_owned()),
            Kind::Str | Kind::StrEscaped => Some(t.str(text, n).into_owned()),
            _ => None,
        });
        View::from_parts(field("kind").as_deref(), field("type").map(Cow::into_owned), id)
            .map_err(|m| error_to_js(&Error::new(ErrorCode::WrongType, "subscribe", m)))
    }

    /// `shareMerge(state)`'s `{ seen: { channel: seq }, epochs: { channel: epoch }, ledBefore }`:
    /// the seqs that are non-negative safe integers, the epochs that are strings.
    pub fn share_state(&self, k: usize) -> ShareState {
        let (t, text) = (&self.tape, self.text);
        let mut st = ShareState { seen: Vec::new(), epochs: Vec::new(), led_before: false };
        let v = self.node(k);
        if t.kind(v) != Kind::Object {
            return st;
        }
        // Member by member (JSON.stringify wrote each name once).
        for (name, field) in t.members(v) {
            if t.str_eq(text, name, "ledBefore") {
                st.led_before = t.kind(field) == Kind::True;
                continue;
            }
            let seen = t.str_eq(text, name, "seen");
            if !seen && !t.str_eq(text, name, "epochs") {
                continue;
            }
            for (ch, n) in t.members(field) {
                let ch = || t.str(text, ch).into_owned();
                if seen {
                    if let Some(seq) = t.f64(text, n).and_then(uint) {
                        st.seen.push((ch(), seq));
                    }
                } else if t.is_str(n) {
                    st.epochs.push((ch(), t.str(text, n).into_owned()));
                }
            }
        }
        st
    }
}

/// Another tab's `shareState()` as `shareMerge` hands it to the core.
pub struct ShareState {
    pub seen: Vec<(String, u64)>,
    pub epochs: Vec<(String, String)>,
    pub led_before: bool,
}

/// A JS number that is a seq or a stream offset: a non-negative safe integer.
pub fn uint(n: f64) -> Option<u64> {
    (n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0).then_some(n as u64)
}

/// A `Uint8Array` over the plan's bytes in wasm memory: the plan crosses without a copy.
pub fn plan_view(buf: &[u8]) -> JsValue {
    // SAFETY: the view aliases `buf`, which is neither freed nor written while the handler runs
    // (the caller holds it outside the shared state). The shim decodes the bytes into JS values
    // before it calls anything that could re-enter wasm and grow its memory (docs/INTERFACES.md).
    unsafe { js_sys::Uint8Array::view(buf) }.into()
}
