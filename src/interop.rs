//! Conversions between JS values and the core's types, in one place (automerge-wasm's `interop.rs`).

use js_sys::{Object, Reflect};
use querywire_core::connector::ChannelSpec;
use querywire_core::views::View;
use querywire_core::{Error, ErrorCode};
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

/// `rt.subscribe(view)`'s object: its `kind`, `type` and `id` (a number as JS `String(id)`) go to
/// the core's reader, `View::from_parts`.
pub fn view_from_js(view: &JsValue) -> Result<View, JsValue> {
    let get = |k: &str| Reflect::get(view, &k.into()).ok();
    let kind = get("kind").and_then(|v| v.as_string());
    let ty = get("type").and_then(|v| v.as_string());
    let id = get("id").and_then(|v| v.as_string().or_else(|| v.as_f64().map(querywire_core::key::js_number_to_string)));
    View::from_parts(kind.as_deref(), ty, id)
        .map_err(|m| error_to_js(&Error::new(ErrorCode::WrongType, "subscribe", m)))
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

/// A JS array of strings (anything else reads as empty).
pub fn strings(v: &JsValue) -> Vec<String> {
    if !js_sys::Array::is_array(v) {
        return Vec::new();
    }
    js_sys::Array::from(v).iter().filter_map(|x| x.as_string()).collect()
}

/// A `Uint8Array` over the plan's bytes in wasm memory: the plan crosses without a copy.
pub fn plan_view(buf: &[u8]) -> JsValue {
    // SAFETY: the view aliases `buf`, which is neither freed nor written while the handler runs
    // (the caller holds it outside the shared state). The shim decodes the bytes into JS values
    // before it calls anything that could re-enter wasm and grow its memory (docs/INTERFACES.md).
    unsafe { js_sys::Uint8Array::view(buf) }.into()
}
