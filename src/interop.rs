//! Conversions between JS values and the core's types, in one place (automerge-wasm's `interop.rs`).

use js_sys::{Object, Reflect};
use querywire_core::Error;
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};

/// Core values become plain JS objects (never `Map`s), so the shim reads them as JSON.
pub fn to_js<T: Serialize>(v: &T) -> JsValue {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).unwrap_or(JsValue::NULL)
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
pub fn from_js(v: &JsValue) -> Result<serde_json::Value, String> {
    serde_wasm_bindgen::from_value(v.clone()).map_err(|e| e.to_string())
}

/// A function-valued property of `obj`, if there is one.
pub fn method(obj: &JsValue, name: &str) -> Option<js_sys::Function> {
    Reflect::get(obj, &name.into()).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok())
}
