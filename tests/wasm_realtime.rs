//! The glue in a real JS engine (`wasm-pack test --node` and `--headless --chrome`): the one timer
//! fires the core's deadline, a plan crosses as one binary view of wasm memory (copied here, as the
//! shim decodes it, before anything else runs), errors as plain JS values, views convert, and a page
//! turning visible flushes at once. Native `cargo test` compiles this to nothing.
#![cfg(target_arch = "wasm32")]

use js_sys::{Function, Object, Reflect};
use querywire::WasmRealtime;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::wasm_bindgen_test;

/// Collects what the engine hands to JS.
#[derive(Default)]
struct Seen {
    plans: Vec<JsValue>,
    errors: Vec<JsValue>,
}

/// The handler closures, kept alive for as long as the engine may call them.
type Handlers = Vec<Closure<dyn FnMut(JsValue) -> JsValue>>;

fn engine(opts: &str) -> (WasmRealtime, Rc<RefCell<Seen>>, Handlers) {
    let opts = js_sys::JSON::parse(opts).expect("options JSON");
    let e = WasmRealtime::new(opts).expect("engine");
    let seen = Rc::new(RefCell::new(Seen::default()));
    let s1 = seen.clone();
    let plan = Closure::<dyn FnMut(JsValue) -> JsValue>::new(move |p: JsValue| {
        assert!(p.is_instance_of::<js_sys::Uint8Array>(), "a plan crosses as bytes");
        s1.borrow_mut().plans.push(js_sys::Uint8Array::new(&p).slice(0, js_sys::Uint8Array::new(&p).length()).into());
        JsValue::UNDEFINED
    });
    let s2 = seen.clone();
    let error = Closure::<dyn FnMut(JsValue) -> JsValue>::new(move |err: JsValue| {
        s2.borrow_mut().errors.push(err);
        JsValue::UNDEFINED
    });
    let h = Object::new();
    Reflect::set(&h, &"plan".into(), plan.as_ref()).unwrap();
    Reflect::set(&h, &"error".into(), error.as_ref()).unwrap();
    e.set_handlers(h.into());
    (e, seen, vec![plan, error])
}

async fn sleep(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        let set_timeout: Function = Reflect::get(&js_sys::global(), &"setTimeout".into()).unwrap().into();
        set_timeout.call2(&JsValue::NULL, &resolve, &ms.into()).unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(p).await.unwrap();
}

fn get(v: &JsValue, path: &[&str]) -> JsValue {
    path.iter().fold(v.clone(), |acc, k| Reflect::get(&acc, &(*k).into()).unwrap_or(JsValue::UNDEFINED))
}

#[wasm_bindgen_test]
async fn the_timer_closes_the_window_and_one_plan_crosses() {
    let (e, seen, _keep) = engine(r#"{"debounceMs": 30, "maxWaitMs": 1000}"#);
    e.ingest_text("invalidate", r#"{"queryKey":["todos"]}"#);
    e.ingest_text("invalidate", r#"{"queryKey":["todos", {"b": 1, "a": 2}]}"#);
    assert!(seen.borrow().plans.is_empty(), "nothing before the window closes");
    sleep(120).await;
    let plans = seen.borrow().plans.clone();
    assert_eq!(plans.len(), 1, "one flush");
    let bytes = js_sys::Uint8Array::new(&plans[0]).to_vec();
    // docs/INTERFACES.md: flags, new keys { id, len, hash }, invalidations { id, flags }.
    let u32_at = |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    assert_eq!(bytes[0], 0, "no reset");
    assert_eq!(u32_at(1), 1, "one key crosses, with its hash, the first time");
    let (id0, len0) = (u32_at(5), u32_at(9) as usize);
    assert_eq!(&bytes[13..13 + len0], br#"["todos"]"#);
    let at = 13 + len0;
    assert_eq!(u32_at(at), 1, "the longer key is covered by its prefix");
    assert_eq!(u32_at(at + 4), id0);
    assert_eq!(bytes[at + 8], 2, "refetchType active, not exact");
}

#[wasm_bindgen_test]
async fn flush_delivers_now_and_dispose_stops_the_timer() {
    let (e, seen, _keep) = engine(r#"{"debounceMs": 20}"#);
    e.ingest_text("invalidate", r#"{"queryKey":["a"]}"#);
    e.flush();
    assert_eq!(seen.borrow().plans.len(), 1);
    e.ingest_text("invalidate", r#"{"queryKey":["b"]}"#);
    e.dispose(); // flushes what waits, then stops
    assert_eq!(seen.borrow().plans.len(), 2);
    e.ingest_text("invalidate", r#"{"queryKey":["c"]}"#);
    sleep(80).await;
    assert_eq!(seen.borrow().plans.len(), 2, "a disposed engine's timer never fires");
}

#[wasm_bindgen_test]
fn bad_input_reaches_the_error_handler_as_an_error_with_a_code() {
    let (e, seen, _keep) = engine("{}");
    e.ingest_text("supabase", "[1]");
    e.ingest_text("nope", "{}");
    let errors = seen.borrow().errors.clone();
    assert_eq!(errors.len(), 2);
    assert!(errors[0].is_instance_of::<js_sys::Error>());
    assert_eq!(get(&errors[0], &["code"]).as_string().unwrap(), "not_object");
    assert_eq!(get(&errors[0], &["source"]).as_string().unwrap(), "supabase");
    assert_eq!(get(&errors[1], &["code"]).as_string().unwrap(), "unknown_source");
    let stats = e.stats();
    assert_eq!(get(&stats, &["dropped", "invalid"]).as_f64(), Some(2.0));
    assert_eq!(get(&stats, &["received"]).as_f64(), Some(2.0));
    assert!(!get(&stats, &["dropped", "outOfScope"]).is_undefined(), "camelCase fields");
}

#[wasm_bindgen_test]
fn invalid_options_throw_an_invalid_option_error() {
    let opts = js_sys::JSON::parse(r#"{"debounceMs": "soon"}"#).unwrap();
    let err = WasmRealtime::new(opts).err().expect("refused");
    assert_eq!(get(&err, &["code"]).as_string().unwrap(), "invalid_option");
}

#[wasm_bindgen_test]
fn views_convert_numbers_and_count_references() {
    let (e, _seen, _keep) = engine(r#"{"scope": {"factoryId": "f1"}}"#);
    let doc = js_sys::JSON::parse(r#"{"kind":"doc","type":"wo","id":12}"#).unwrap();
    let a = e.subscribe(doc.clone()).unwrap();
    let b = e.subscribe(doc).unwrap();
    let chans: Vec<String> = e.channels().iter().filter_map(|v| v.as_string()).collect();
    assert_eq!(chans, vec!["doc:wo:12", "factory:f1"]);
    e.unsubscribe(a);
    e.unsubscribe(a);
    assert_eq!(e.channels().len(), 2, "the second handle still holds the view");
    e.unsubscribe(b);
    assert!(e.channels().is_empty());
    assert!(e.subscribe(js_sys::JSON::parse(r#"{"kind":"doc","type":"wo"}"#).unwrap()).is_err());
}

#[wasm_bindgen_test]
async fn a_page_turning_visible_flushes_at_once() {
    let has_document = Reflect::has(&js_sys::global(), &"document".into()).unwrap_or(false);
    if !has_document {
        // Node: no document, and the engine behaves as an always-visible page (SSR-safe).
        let (e, seen, _keep) = engine(r#"{"debounceMs": 10000}"#);
        e.ingest_text("invalidate", r#"{"queryKey":["a"]}"#);
        assert!(seen.borrow().plans.is_empty());
        return;
    }
    let set_state = Function::new_with_args(
        "s",
        "Object.defineProperty(document, 'visibilityState', { value: s, configurable: true }); \
         document.dispatchEvent(new Event('visibilitychange'));",
    );
    let (e, seen, _keep) = engine(r#"{"debounceMs": 10000, "maxWaitMs": 20000}"#);
    set_state.call1(&JsValue::NULL, &"hidden".into()).unwrap();
    e.ingest_text("invalidate", r#"{"queryKey":["a"]}"#);
    sleep(30).await;
    assert!(seen.borrow().plans.is_empty(), "the 10 s window is still open");
    set_state.call1(&JsValue::NULL, &"visible".into()).unwrap();
    assert_eq!(seen.borrow().plans.len(), 1, "visible flushes at once");
    e.dispose();
}
