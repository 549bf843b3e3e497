//! Any bytes as any source's payload, by the text path and (when the text is JSON serde_json can
//! hold) by the object path: the engine answers with a value or a typed error, never panics, and
//! its plans keep their invariants: both paths route alike; every op's hash is `hash_key` of its
//! key; no key twice in one op list; every payload is counted once (received = routed + dropped).
#![no_main]
mod invariants;

use libfuzzer_sys::fuzz_target;
use querywire_core::{Engine, FlushPlan, Ingested};
use serde_json::{json, Value};

const SOURCES: [&str; 6] = ["supabase", "event", "envelope", "centrifugo", "invalidate", "other"];

fn check(p: &FlushPlan) -> Value {
    invariants::check_keys(p);
    let fields: Vec<Value> = p
        .patch
        .iter()
        .map(|o| {
            Value::Object(
                p.fields(o)
                    .map(|(n, raw)| (n.to_string(), serde_json::from_str(raw).expect("raw field is JSON")))
                    .collect(),
            )
        })
        .collect();
    json!({ "hashes": p.hashes(), "fields": fields, "exact": p.invalidate.iter().map(|o| o.exact).collect::<Vec<_>>() })
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let opts = json!({ "rules": [{ "table": "t", "invalidate": [["a", "{x}"], ["b-{y}", { "z": "{z}" }]] }],
                       "scope": { "factoryId": "f1" } });
    let mut by_text = Engine::from_options(&opts).expect("static options are valid");
    let mut by_object = Engine::from_options(&opts).expect("static options are valid");
    let mut routed = 0u64;
    for (i, chunk) in text.split('\u{1e}').enumerate() {
        let src = SOURCES[(first as usize + i) % SOURCES.len()];
        let a = by_text.handle_text(i as u64, src, chunk);
        if matches!(a, Ok(Ingested::Queued | Ingested::NoOp)) {
            routed += 1;
        }
        match serde_json::from_str::<Value>(chunk) {
            Ok(v) => {
                let b = by_object.handle_payload(i as u64, src, v, None);
                assert_eq!(
                    a.as_ref().map_err(|e| e.code),
                    b.as_ref().map_err(|e| e.code),
                    "text and object paths disagree on {chunk}"
                );
            }
            // JSON.parse-only texts (lone surrogates, 1e400): the object path cannot receive them.
            Err(_) => {
                let _ = by_object.handle_text(i as u64, src, chunk);
            }
        }
    }
    by_text.flush(1_000);
    by_object.flush(1_000);
    loop {
        match (by_text.poll_plan(), by_object.poll_plan()) {
            (None, None) => break,
            (Some(a), Some(b)) => assert_eq!(check(&a), check(&b), "plans differ"),
            _ => panic!("one path flushed, the other did not"),
        }
    }
    let s = by_text.stats();
    let d = s.dropped;
    assert_eq!(
        s.received,
        routed + d.invalid + d.stale + d.duplicate + d.out_of_scope,
        "every payload is counted once: {s:?}"
    );
});
