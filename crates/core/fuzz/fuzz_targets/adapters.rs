//! Any bytes as any source's payload: the engine must answer with a value or a typed error, never
//! panic, and keep its invariants (one op per key per plan).
#![no_main]
use libfuzzer_sys::fuzz_target;
use querywire_core::Engine;
use std::collections::HashSet;

const SOURCES: [&str; 6] = ["supabase", "event", "envelope", "centrifugo", "invalidate", "other"];

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let opts = serde_json::json!({ "rules": [{ "table": "t", "invalidate": [["a", "{x}"], ["b-{y}", { "z": "{z}" }]] }],
                                   "scope": { "factoryId": "f1" } });
    let mut e = Engine::from_options(&opts).expect("static options are valid");
    for (i, chunk) in text.split('\u{1e}').enumerate() {
        let _ = e.handle_text(i as u64, SOURCES[(first as usize + i) % SOURCES.len()], chunk);
    }
    e.flush(1_000);
    while let Some(p) = e.poll_plan() {
        let mut seen = HashSet::new();
        for op in &p.invalidate {
            assert!(seen.insert(op.query_hash.clone()), "a key twice in one plan");
        }
    }
});
