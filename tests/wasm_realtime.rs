//! The glue in a real JS engine (`wasm-pack test --node` and `--headless --chrome`), on a virtual
//! clock: `setTimeout`, `clearTimeout` and `Date.now` are replaced for each test (what node:test's
//! `mock.timers` does), so the one timer (the `timer` handler, as js/loadWasm.js arms it) fires exactly
//! when the test advances time. A plan
//! crosses as one binary view of wasm memory (decoded here at once, as the shim does), errors as
//! plain JS values, views convert, a page turning visible flushes at once, and every
//! callback may call back into the engine (CONTRACT "Callbacks may call back").
//! The calls behind the `command` export go by their op (js/loadWasm.js `COMMANDS`: 0 online,
//! 1 recordInvalid, 4 subscribe, 5 unsubscribe, 6 attachConnector, 7 detachConnector, 8 channelFact).
//! Native `cargo test` compiles this to nothing.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Function, Object, Reflect};
use querywire::WasmRealtime;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::wasm_bindgen_test;

/// The virtual clock: installed on creation, the real timers put back on drop.
struct Clock {
    js: JsValue,
}

impl Clock {
    fn install() -> Clock {
        let make = Function::new_no_args(
            "const g = globalThis, saved = { st: g.setTimeout, ct: g.clearTimeout, now: Date.now };
             let now = 1000000, seq = 0; const timers = new Map();
             g.setTimeout = (fn, ms) => { const id = ++seq; timers.set(id, { at: now + Math.max(0, ms | 0), fn }); return id };
             g.clearTimeout = (id) => { timers.delete(id) };
             Date.now = () => now;
             return {
               advance(ms) {
                 const end = now + ms;
                 for (;;) {
                   let next;
                   for (const e of timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
                   if (!next) break;
                   timers.delete(next[0]);
                   now = Math.max(now, next[1].at);
                   next[1].fn();
                 }
                 now = end;
               },
               pending() { return timers.size },
               restore() { g.setTimeout = saved.st; g.clearTimeout = saved.ct; Date.now = saved.now },
             };",
        );
        Clock { js: make.call0(&JsValue::NULL).unwrap() }
    }
    fn call(&self, name: &str, arg: Option<f64>) -> JsValue {
        let f: Function = Reflect::get(&self.js, &name.into()).unwrap().into();
        match arg {
            Some(a) => f.call1(&self.js, &a.into()).unwrap(),
            None => f.call0(&self.js).unwrap(),
        }
    }
    fn advance(&self, ms: u32) {
        self.call("advance", Some(ms as f64));
    }
    fn pending(&self) -> u32 {
        self.call("pending", None).as_f64().unwrap() as u32
    }
}

impl Drop for Clock {
    fn drop(&mut self) {
        self.call("restore", None);
    }
}

/// What the engine handed to JS, in order: `("plan", plan)`, `("error", e)`, `("status", s)`,
/// `("open", channel)`, `("close", name)`.
type Seen = Rc<RefCell<Vec<(&'static str, JsValue)>>>;
/// Code a test runs inside a handler; it gets the engine, so it can call back into it.
type Hook = Rc<RefCell<Option<Box<dyn FnMut(&WasmRealtime, &JsValue)>>>>;

struct Fixture {
    e: Rc<WasmRealtime>,
    seen: Seen,
    hooks: Vec<(&'static str, Hook)>,
    _keep: Vec<Closure<dyn FnMut(JsValue, JsValue) -> JsValue>>,
}

impl Fixture {
    fn new(opts: &str) -> Fixture {
        let opts = js_sys::JSON::parse(opts).expect("options JSON");
        let e = Rc::new(WasmRealtime::new(opts).expect("engine"));
        let seen: Seen = Rc::default();
        let h = Object::new();
        let mut keep = vec![];
        let mut hooks = vec![];
        for name in ["plan", "error", "status", "open", "close"] {
            let hook: Hook = Rc::default();
            let (s, hk, eng) = (seen.clone(), hook.clone(), Rc::downgrade(&e));
            // `open`/`close` get (connectorId, what); the others get one argument.
            let ids = Rc::new(RefCell::new(HashMap::new()));
            let f = Closure::<dyn FnMut(JsValue, JsValue) -> JsValue>::new(move |a: JsValue, b: JsValue| {
                let what = match name {
                    "open" | "close" => b,
                    "plan" => decode_plan(&a, &mut ids.borrow_mut()),
                    _ => a,
                };
                s.borrow_mut().push((name, what.clone()));
                let taken = hk.borrow_mut().take();
                if let (Some(mut f), Some(e)) = (taken, eng.upgrade()) {
                    f(&e, &what);
                }
                JsValue::UNDEFINED
            });
            Reflect::set(&h, &name.into(), f.as_ref()).unwrap();
            keep.push(f);
            hooks.push((name, hook));
        }
        // The shim's timer (js/loadWasm.js `engineTimer`), on the virtual clock's setTimeout.
        let eng = Rc::downgrade(&e);
        let fire = Closure::<dyn FnMut(JsValue, JsValue) -> JsValue>::new(move |_: JsValue, _: JsValue| {
            if let Some(e) = eng.upgrade() {
                e.timeout();
            }
            JsValue::UNDEFINED
        });
        let timer = Function::new_with_args(
            "fire",
            "let t; return (ms) => { clearTimeout(t); t = ms < 0 ? undefined : setTimeout(() => { t = undefined; fire() }, ms) }",
        )
        .call1(&JsValue::NULL, fire.as_ref())
        .unwrap();
        Reflect::set(&h, &"timer".into(), &timer).unwrap();
        keep.push(fire);
        e.set_handlers(h.into());
        Fixture { e, seen, hooks, _keep: keep }
    }
    /// Runs `f` the next time handler `name` is called (once), from inside that call.
    fn on(&self, name: &str, f: impl FnMut(&WasmRealtime, &JsValue) + 'static) {
        let hook = &self.hooks.iter().find(|(n, _)| *n == name).unwrap().1;
        *hook.borrow_mut() = Some(Box::new(f));
    }
    fn seen(&self, name: &str) -> Vec<JsValue> {
        self.seen.borrow().iter().filter(|(n, _)| *n == name).map(|(_, v)| v.clone()).collect()
    }
    fn order(&self) -> Vec<&'static str> {
        self.seen.borrow().iter().map(|(n, _)| *n).collect()
    }
}

/// The binary plan (`FlushPlan::encode`) as `{ invalidate: [hash], flags: [u8], refetch: [hash] }`,
/// read in full at once: the bytes are a view of wasm memory, valid until JS calls back.
fn decode_plan(bytes: &JsValue, ids: &mut HashMap<u32, String>) -> JsValue {
    assert!(bytes.is_instance_of::<js_sys::Uint8Array>(), "a plan crosses as bytes");
    let b = js_sys::Uint8Array::new(bytes).to_vec();
    let rd = |at: &mut usize| {
        let x = u32::from_le_bytes([b[*at], b[*at + 1], b[*at + 2], b[*at + 3]]);
        *at += 4;
        x
    };
    let mut at = 0usize;
    if b[0] & 1 == 1 {
        ids.clear();
    }
    at += 1;
    // New keys: their ids with each hash's UTF-16 length (and its leading primitive run and the
    // numbers the shim matches by, unused here), then all their hashes as one UTF-8 text.
    let (n, text_len) = (rd(&mut at), rd(&mut at) as usize);
    let mut heads = Vec::new();
    for _ in 0..n {
        let (id, units) = (rd(&mut at), rd(&mut at) as usize);
        at += 16;
        heads.push((id, units));
    }
    let text: Vec<u16> = String::from_utf8(b[at..at + text_len].to_vec()).unwrap().encode_utf16().collect();
    at += text_len;
    let mut from = 0;
    for (id, units) in heads {
        ids.insert(id, String::from_utf16(&text[from..from + units]).unwrap());
        from += units;
    }
    let (inv, flags) = (Array::new(), Array::new());
    for _ in 0..rd(&mut at) {
        inv.push(&ids[&rd(&mut at)].as_str().into());
        flags.push(&b[at].into());
        at += 1;
    }
    for _ in 0..rd(&mut at) {
        let _id = rd(&mut at);
        at += 8;
        let len = rd(&mut at) as usize;
        at += len;
    }
    let refetch = Array::new();
    for _ in 0..rd(&mut at) {
        refetch.push(&ids[&rd(&mut at)].as_str().into());
        at += 1;
    }
    let o = Object::new();
    Reflect::set(&o, &"invalidate".into(), &inv).unwrap();
    Reflect::set(&o, &"flags".into(), &flags).unwrap();
    Reflect::set(&o, &"refetch".into(), &refetch).unwrap();
    o.into()
}

fn get(v: &JsValue, path: &[&str]) -> JsValue {
    path.iter().fold(v.clone(), |acc, k| Reflect::get(&acc, &(*k).into()).unwrap_or(JsValue::UNDEFINED))
}

fn keys(plan: &JsValue, list: &str) -> Vec<String> {
    Array::from(&get(plan, &[list])).iter().map(|h| h.as_string().unwrap()).collect()
}

fn json(s: &str) -> JsValue {
    js_sys::JSON::parse(s).unwrap()
}

#[wasm_bindgen_test]
fn the_timer_closes_the_window_at_its_deadline_and_one_plan_crosses() {
    let clock = Clock::install();
    let f = Fixture::new(r#"{"debounceMs": 30, "maxWaitMs": 1000}"#);
    f.e.ingest_text("invalidate", r#"{"queryKey":["todos"]}"#);
    f.e.ingest_text("invalidate", r#"{"queryKey":["todos", {"b": 1, "a": 2}]}"#);
    clock.advance(29);
    assert!(f.seen("plan").is_empty(), "nothing before the window closes");
    clock.advance(1);
    let plans = f.seen("plan");
    assert_eq!(plans.len(), 1, "one flush at 30 ms");
    assert_eq!(keys(&plans[0], "invalidate"), [r#"["todos"]"#], "the longer key is covered by its prefix");
    assert_eq!(Array::from(&get(&plans[0], &["flags"])).get(0).as_f64(), Some(2.0), "refetchType active, not exact");
    assert_eq!(clock.pending(), 0, "no timer left armed");
}

#[wasm_bindgen_test]
fn flush_delivers_now_and_dispose_stops_the_timer() {
    let clock = Clock::install();
    let f = Fixture::new(r#"{"debounceMs": 20}"#);
    f.e.ingest_text("invalidate", r#"{"queryKey":["a"]}"#);
    f.e.flush();
    assert_eq!(f.seen("plan").len(), 1);
    f.e.ingest_text("invalidate", r#"{"queryKey":["b"]}"#);
    f.e.dispose(); // flushes what waits, then stops
    assert_eq!(f.seen("plan").len(), 2);
    f.e.ingest_text("invalidate", r#"{"queryKey":["c"]}"#);
    clock.advance(10_000);
    assert_eq!(f.seen("plan").len(), 2, "a disposed engine's timer never fires");
}

#[wasm_bindgen_test]
fn bad_input_reaches_the_error_handler_as_an_error_with_a_code() {
    let _clock = Clock::install();
    let f = Fixture::new("{}");
    f.e.ingest_text("supabase", "[1]");
    f.e.ingest_text("nope", "{}");
    f.e.command(r#"[1, "event", "payload cannot be serialised: cyclic"]"#).unwrap(); // recordInvalid
    let errors = f.seen("error");
    assert_eq!(errors.len(), 3);
    assert!(errors[0].is_instance_of::<js_sys::Error>());
    assert_eq!(get(&errors[0], &["code"]).as_string().unwrap(), "not_object");
    assert_eq!(get(&errors[0], &["source"]).as_string().unwrap(), "supabase");
    assert_eq!(get(&errors[1], &["code"]).as_string().unwrap(), "unknown_source");
    assert_eq!(get(&errors[2], &["source"]).as_string().unwrap(), "event");
    let stats = f.e.stats();
    assert_eq!(get(&stats, &["dropped", "invalid"]).as_f64(), Some(3.0));
    assert_eq!(get(&stats, &["received"]).as_f64(), Some(3.0));
    assert_eq!(get(&stats, &["dropped", "outOfScope"]).as_f64(), Some(0.0), "camelCase fields");
}

#[wasm_bindgen_test]
fn invalid_options_throw_an_invalid_option_error() {
    let Err(err) = WasmRealtime::new(json(r#"{"debounceMs": "soon"}"#)) else { panic!("refused") };
    assert_eq!(get(&err, &["code"]).as_string().unwrap(), "invalid_option");
}

#[wasm_bindgen_test]
fn views_convert_numbers_and_count_references() {
    let _clock = Clock::install();
    let f = Fixture::new(r#"{"scope": {"factoryId": "f1"}}"#);
    let doc = r#"[4, {"kind":"doc","type":"wo","id":12}]"#;
    let a = f.e.command(doc).unwrap().as_f64().unwrap();
    let b = f.e.command(doc).unwrap().as_f64().unwrap();
    let chans: Vec<String> = f.e.channels().iter().filter_map(|v| v.as_string()).collect();
    assert_eq!(chans, ["doc:wo:12", "factory:f1"]);
    f.e.command(&format!("[5, {a}]")).unwrap();
    f.e.command(&format!("[5, {a}]")).unwrap();
    assert_eq!(f.e.channels().length(), 2, "the second handle still holds the view");
    f.e.command(&format!("[5, {b}]")).unwrap();
    assert_eq!(f.e.channels().length(), 0);
    let Err(err) = f.e.command(r#"[4, {"kind":"doc","type":"wo"}]"#) else { panic!("a doc needs an id") };
    assert_eq!(get(&err, &["code"]).as_string().unwrap(), "wrong_type");
}

#[wasm_bindgen_test]
fn a_page_turning_visible_flushes_at_once() {
    // The glue holds no DOM listener: the shim's `visibilitychange` listener calls `setVisible`
    // (tests/js/visibility.test.mjs drives it through a document). A new engine is a visible page.
    let clock = Clock::install();
    let f = Fixture::new(r#"{"debounceMs": 10000, "maxWaitMs": 20000}"#);
    f.e.set_visible(false);
    f.e.ingest_text("invalidate", r#"{"queryKey":["a"]}"#);
    clock.advance(5_000);
    assert!(f.seen("plan").is_empty(), "the 10 s window is still open");
    f.e.set_visible(true);
    assert_eq!(f.seen("plan").len(), 1, "visible flushes at once");
    f.e.command("[0]").unwrap(); // online: no link: a reconnect intent with nothing to reconnect does nothing
    f.e.dispose();
    f.e.set_visible(false);
    f.e.set_visible(true);
    f.e.command("[0]").unwrap();
    assert_eq!(f.seen("plan").len(), 1, "a disposed engine takes setVisible and online without a trap or a plan");
}

// ---- callbacks may call back ------------------------------------------------------------------

#[wasm_bindgen_test]
fn on_error_may_flush_ingest_and_subscribe() {
    let _clock = Clock::install();
    let f = Fixture::new(r#"{"debounceMs": 60000}"#);
    f.e.ingest_text("invalidate", r#"{"queryKey":["a"]}"#);
    f.on("error", |e, _| {
        e.ingest_text("invalidate", r#"{"queryKey":["b"]}"#);
        e.flush(); // traps today if the error handler is called under a borrow (issue 11)
        e.command(r#"[4, {"kind":"list","type":"wo"}]"#).unwrap();
    });
    f.e.ingest_text("event", "not json");
    assert_eq!(f.order(), ["error", "plan"], "the flush from inside onError is delivered after it returns");
    assert_eq!(keys(&f.seen("plan")[0], "invalidate"), [r#"["a"]"#, r#"["b"]"#]);
    assert_eq!(f.e.channels().length(), 1);
}

#[wasm_bindgen_test]
fn the_plan_handler_may_ingest_and_flush_and_plans_stay_in_order() {
    let _clock = Clock::install();
    let f = Fixture::new(r#"{"debounceMs": 60000}"#);
    // A queryFn that runs synchronously inside invalidateQueries and feeds an event back.
    f.on("plan", |e, _| {
        e.ingest_text("invalidate", r#"{"queryKey":["second"]}"#);
        e.flush();
        e.ingest_text("bad", "{}");
    });
    f.e.ingest_text("invalidate", r#"{"queryKey":["first"]}"#);
    f.e.flush();
    assert_eq!(f.order(), ["plan", "plan", "error"]);
    let plans = f.seen("plan");
    assert_eq!(keys(&plans[0], "invalidate"), [r#"["first"]"#]);
    assert_eq!(keys(&plans[1], "invalidate"), [r#"["second"]"#]);
    assert_eq!(get(&f.e.stats(), &["flushes"]).as_f64(), Some(2.0));
}

#[wasm_bindgen_test]
fn the_plan_handler_may_dispose() {
    let clock = Clock::install();
    let f = Fixture::new(r#"{"debounceMs": 10}"#);
    f.on("plan", |e, _| e.dispose());
    f.e.ingest_text("invalidate", r#"{"queryKey":["a"]}"#);
    clock.advance(10);
    assert_eq!(f.seen("plan").len(), 1);
    f.e.ingest_text("invalidate", r#"{"queryKey":["b"]}"#);
    f.e.flush();
    clock.advance(1_000);
    assert_eq!(f.seen("plan").len(), 1, "nothing after dispose");
    assert_eq!(clock.pending(), 0);
}

#[wasm_bindgen_test]
fn a_status_listener_may_set_the_scope_subscribe_and_flush() {
    let clock = Clock::install();
    let f = Fixture::new(r#"{"scope": {"factoryId": "f1"}, "debounceMs": 60000}"#);
    f.e.command(r#"[4, {"kind":"list","type":"wo"}]"#).unwrap();
    f.e.command("[6, 1]").unwrap(); // attachConnector(1): every table, no filter
    f.on("status", |e, s| {
        assert_eq!(s.as_string().as_deref(), Some("connecting"));
        e.set_scope(json(r#"{"factoryId": "f2"}"#)).unwrap();
        e.command(r#"[4, {"kind":"doc","type":"wo","id":"7"}]"#).unwrap();
        e.ingest_text("invalidate", r#"{"queryKey":["x"]}"#);
        e.flush();
    });
    clock.advance(0); // the connector's channels open on the next tick, and its status comes
    assert_eq!(f.seen("status").len(), 1);
    assert_eq!(f.seen("plan").len(), 1, "the flush from inside onStatus");
    clock.advance(0);
    let opened: Vec<String> = f.seen("open").iter().map(|c| get(c, &["name"]).as_string().unwrap()).collect();
    assert_eq!(opened, ["factory:f1", "list:wo:f1", "doc:wo:7", "factory:f2", "list:wo:f2"]);
    let closed: Vec<String> = f.seen("close").iter().filter_map(|n| n.as_string()).collect();
    assert_eq!(closed, ["factory:f1", "list:wo:f1"], "moved to the new scope");
}

#[wasm_bindgen_test]
fn a_connector_callback_may_report_facts_and_detach() {
    let clock = Clock::install();
    let f = Fixture::new(r#"{"scope": {"factoryId": "f1"}}"#);
    f.e.command(r#"[4, {"kind":"doc","type":"wo","id":1}]"#).unwrap();
    f.e.command(r#"[6, 3, ["wo"]]"#).unwrap(); // attachConnector(3, ['wo'])
                                               // The client joins synchronously, from inside `open` (a fake client answering at once).
    f.on("open", |e, c| {
        let name = js_sys::JSON::stringify(&get(c, &["name"])).unwrap().as_string().unwrap();
        e.command(&format!(r#"[8, 3, {name}, "joined"]"#)).unwrap(); // channelFact
    });
    clock.advance(0);
    let open = f.seen("open");
    assert_eq!(get(&open[0], &["name"]).as_string().unwrap(), "doc:wo:1");
    let binding = Array::from(&get(&open[0], &["bindings"])).get(0);
    assert_eq!(get(&binding, &["table"]).as_string().unwrap(), "wo");
    assert_eq!(get(&binding, &["filter"]).as_string().unwrap(), "id=eq.1");
    assert_eq!(f.e.status(), "connected", "the joined fact from inside open was applied");
    f.on("close", |e, _| {
        e.command("[7, 3]").unwrap(); // detachConnector
    });
    f.e.command("[7, 3]").unwrap();
    assert_eq!(f.seen("close").len(), 2);
    assert_eq!(f.e.status(), "disconnected");
}
