//! `replayTrace`: a trace recorded by `rt.inspect` (the devtools' "Export trace") driven through a
//! fresh [`Realtime`] on the trace's own clock, so a bug report replays to the same flush plans on
//! a maintainer's machine. The live glue reads `Date.now()`; here every input carries its recorded
//! time `t`, and `handle_timeout` runs exactly when the live engine applied a plan (the `plan`
//! records), which is when its timer fired. Nothing else is timed, so the replay is deterministic.
//!
//! Replayed inputs: `ingest`, `frame` (our own WebSocket / SSE frames), `subscribe`, `unsubscribe`,
//! `scope`, `flush`, `dispose`, `visible`, `mutation` / `settled`, and the `start` record's views. Connection events are not inputs
//! here (the transport's opens and closes are not in a trace), so refetches that a reconnect or a
//! `seq` gap caused live show up as a difference, not as a replayed plan.

use querywire_core::rules::value_text;
use querywire_core::views::{View, ViewHandle};
use querywire_core::{FlushPlan, Millis, Output, Realtime, Stats};
use serde_json::{Map, Value};

/// What a replay gives besides its plans (which go to `on_plan` as they are made).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replayed {
    /// Inputs the engine refused (bad payloads and frames, as `onError` reported them live).
    pub errors: u64,
    pub stats: Stats,
}

/// Replays `trace` (`{ options, records }`) with `overrides` merged over its options, handing each
/// plan to `on_plan` with the time it was made; a trace that cannot be read is a message.
pub fn replay(trace: &Value, overrides: &Value, mut on_plan: impl FnMut(Millis, &FlushPlan)) -> Result<Replayed, String> {
    let records = trace.get("records").and_then(Value::as_array).ok_or("a trace has a `records` array")?;
    let mut options = trace.get("options").and_then(Value::as_object).cloned().unwrap_or_default();
    if let Some(o) = overrides.as_object() {
        options.extend(o.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    let t0 = records.first().and_then(time).unwrap_or(0);
    let mut rt = Realtime::new(t0, &Value::Object(options)).map_err(|e| e.message)?;
    // Recorded view handles -> this engine's handles (views are few: a list is enough).
    let mut handles: Vec<(u64, ViewHandle)> = Vec::new();
    let mut errors = 0u64;
    let mut last = t0;
    for r in records {
        // Recorded times never go backwards for the engine (a clock step back would move deadlines).
        let t = time(r).unwrap_or(last).max(last);
        last = t;
        let s = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default();
        match s("kind") {
            "start" => {
                if let Some(v) = r.get("visible").and_then(Value::as_bool) {
                    rt.set_visible(t, v);
                }
                for v in r.get("views").and_then(Value::as_array).into_iter().flatten() {
                    open(&mut rt, &mut handles, t, v);
                }
                for m in r.get("mutations").and_then(Value::as_array).into_iter().flatten() {
                    let keys = m.get("keys").and_then(Value::as_str).unwrap_or_default();
                    errors += u64::from(rt.mutation_started(m.get("id").and_then(Value::as_u64).unwrap_or(0), keys).is_err());
                }
            }
            "ingest" => errors += u64::from(rt.ingest_text(t, s("source"), s("text")).is_err()),
            "frame" => errors += u64::from(rt.transport_frame(t, s("text")).is_err()),
            "subscribe" => open(&mut rt, &mut handles, t, r),
            "unsubscribe" => {
                let id = r.get("handle").and_then(Value::as_u64);
                if let Some(i) = handles.iter().position(|(h, _)| Some(*h) == id) {
                    let (_, h) = handles.swap_remove(i);
                    rt.unsubscribe(t, h);
                }
            }
            "scope" => errors += u64::from(rt.set_scope(t, r.get("scope").unwrap_or(&Value::Null)).is_err()),
            // `rt.dispose()` flushes before it stops (the rest is the transport's business).
            "flush" | "dispose" => rt.flush(t),
            "visible" => rt.set_visible(t, r.get("visible").and_then(Value::as_bool).unwrap_or(true)),
            // Optimistic updates: a mutation went pending (`keys`: JSON text) / settled.
            "mutation" => errors += u64::from(rt.mutation_started(r.get("id").and_then(Value::as_u64).unwrap_or(0), s("keys")).is_err()),
            "settled" => rt.mutation_settled(t, r.get("id").and_then(Value::as_u64).unwrap_or(0)),
            // The live engine's timer fired here and applied a plan.
            "plan" => rt.handle_timeout(t),
            _ => {}
        }
        while let Some(out) = rt.poll_output() {
            if let Output::Plan(p) = out {
                on_plan(t, &p);
            }
        }
    }
    Ok(Replayed { errors, stats: rt.engine().stats() })
}

fn time(r: &Value) -> Option<Millis> {
    r.get("t").and_then(Value::as_f64).filter(|t| *t >= 0.0).map(|t| t as Millis)
}

/// A `{ handle, view: { kind, type, id? } }` record (or a `start` record's view entry).
fn open(rt: &mut Realtime, handles: &mut Vec<(u64, ViewHandle)>, t: Millis, r: &Value) {
    let Some(v) = r.get("view").and_then(Value::as_object) else { return };
    let text = |m: &Map<String, Value>, k: &str| m.get(k).filter(|v| !v.is_null()).map(value_text);
    let view = match (text(v, "kind").as_deref(), text(v, "type")) {
        (Some("doc"), Some(ty)) => match text(v, "id") {
            Some(id) => View::doc(ty, id),
            None => return,
        },
        (Some("list"), Some(ty)) => View::list(ty),
        _ => return,
    };
    let h = rt.subscribe(t, view);
    if let Some(id) = r.get("handle").and_then(Value::as_u64) {
        handles.push((id, h));
    }
}

#[cfg(target_arch = "wasm32")]
mod js {
    use crate::interop::{error_to_js, from_js, stats_to_js};
    use js_sys::{Array, Object, Reflect, Uint8Array};
    use querywire_core::{Error, ErrorCode};
    use wasm_bindgen::prelude::*;

    /// `replayTrace(traceJson, overrides)` → `{ plans: [{ t, bytes }], errors, stats }`, each plan in
    /// the binary form the shim decodes (js/applyPlan.js `createPlanDecoder`, a fresh one per
    /// replay); throws an `Error` with `code: 'bad_json'`, `source: 'replay'` for an unreadable trace.
    #[wasm_bindgen(js_name = replayTrace)]
    pub fn replay_trace(trace: &str, overrides: JsValue) -> Result<JsValue, JsValue> {
        let bad = |m: String| error_to_js(&Error::new(ErrorCode::BadJson, "replay", m));
        // The core's one scanner (serde_json's parser is not linked into the module).
        let trace = querywire_core::scan::parse_value(trace).map_err(|e| bad(e.message("the trace is not JSON: ")))?;
        let overrides = if overrides.is_undefined() || overrides.is_null() { serde_json::Value::Null } else { from_js(&overrides).map_err(bad)? };
        let plans = Array::new();
        let mut buf = Vec::new();
        let done = super::replay(&trace, &overrides, |t, p| {
            buf.clear();
            p.encode(&mut buf);
            let o = Object::new();
            let _ = Reflect::set(&o, &"t".into(), &(t as f64).into());
            let _ = Reflect::set(&o, &"bytes".into(), &Uint8Array::from(&buf[..]));
            plans.push(&o);
        })
        .map_err(bad)?;
        let out = Object::new();
        let _ = Reflect::set(&out, &"plans".into(), &plans);
        let _ = Reflect::set(&out, &"errors".into(), &(done.errors as f64).into());
        let _ = Reflect::set(&out, &"stats".into(), &stats_to_js(&done.stats));
        Ok(out.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(id: u64, t: u64) -> Value {
        json!({ "t": t, "kind": "ingest", "source": "envelope", "text": json!({
            "type": "realtime", "entity": "work_orders", "action": "update",
            "data": { "id": id, "factory_id": "f1", "version": t }, "timestamp": "t", "id": format!("chg-{id}-{t}") }).to_string() })
    }

    fn run(trace: &Value, overrides: &Value) -> (Vec<(Millis, FlushPlan)>, Replayed) {
        let mut plans = Vec::new();
        let done = replay(trace, overrides, |t, p| plans.push((t, p.clone()))).unwrap();
        (plans, done)
    }

    #[test]
    fn a_burst_replays_to_one_plan_at_the_recorded_flush() {
        let mut records = vec![json!({ "t": 1000, "kind": "start", "views": [{ "handle": 1, "view": { "kind": "doc", "type": "work_orders", "id": 1 } }] })];
        for i in 0..50u64 {
            records.push(env(i % 5, 1000 + i));
        }
        // The live timer fired late (debounce 300 after the last event = 1349; applied at 1352).
        records.push(json!({ "t": 1352, "kind": "plan" }));
        records.push(env(1, 1400));
        records.push(json!({ "t": 1401, "kind": "flush" }));
        let trace = json!({ "options": { "debounceMs": 300, "maxWaitMs": 1000, "scope": { "factoryId": "f1" } }, "records": records });
        let (plans, done) = run(&trace, &Value::Null);
        assert_eq!(plans.len(), 2, "{plans:?}");
        assert_eq!(plans[0].0, 1352);
        assert_eq!(plans[0].1.invalidate.len(), 5, "five docs, each once: {plans:?}");
        assert_eq!(plans[1].0, 1401);
        assert_eq!(done.stats.received, 51);
        assert_eq!(run(&trace, &Value::Null), (plans, done), "deterministic");
        // Overrides are merged over the trace's options: another scope drops every event.
        let (other, done) = run(&trace, &json!({ "scope": { "factoryId": "f2" } }));
        assert!(other.is_empty(), "{other:?}");
        assert_eq!(done.stats.dropped.out_of_scope, 51);
    }

    #[test]
    fn a_trace_without_records_is_an_error_not_a_panic() {
        assert!(replay(&json!({}), &Value::Null, |_, _| {}).is_err());
        assert!(replay(&json!({ "records": [{ "kind": "ingest", "t": -5, "text": 3 }, { "kind": "subscribe", "view": 1 }] }), &Value::Null, |_, _| {}).is_ok());
    }
}
