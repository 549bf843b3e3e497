//! Conversions between JS values and the core's types, in one place (automerge-wasm's `interop.rs`).

use js_sys::{Object, Reflect};
use querywire_core::Error;
use wasm_bindgen::{JsCast, JsValue};

/// `rt.stats()` as a plain JS object: `{ received, flushes, invalidations, patches, dropped: { invalid,
/// stale, duplicate, outOfScope } }`.
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

/// A JS value to the core's JSON model (objects handed over by supabase-js callbacks).
/// `JSON.stringify` on the JS side, then serde_json: what JSON cannot hold (a cycle, a BigInt) is an
/// error with JS's message; `undefined` and functions read as `null`, as JSON would drop them.
pub fn from_js(v: &JsValue) -> Result<serde_json::Value, String> {
    let text = js_sys::JSON::stringify(v).map_err(|e| match e.dyn_ref::<js_sys::Error>() {
        Some(err) => String::from(err.message()),
        None => "value cannot be serialised".to_string(),
    })?;
    match text.as_string() {
        // The core's one scanner: serde_json's parser is not linked at all (docs/SIZE.md).
        Some(t) => querywire_core::scan::parse_value(&t).map_err(|e| e.message("")),
        None => Ok(serde_json::Value::Null),
    }
}

/// A function-valued property of `obj`, if there is one.
pub fn method(obj: &JsValue, name: &str) -> Option<js_sys::Function> {
    Reflect::get(obj, &name.into()).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok())
}
