//! The benchmark's flush (`bench/page.mjs` `flushSweep`): `n` Supabase DELETEs of distinct work
//! orders (each one doc key plus the factory's list head), then one flush and its binary plan.
//! Natively, to count what the core spends building and encoding the plan: run it under callgrind
//! with and without the flush and subtract (`scripts/callgrind-flush.sh`).
//!
//!   cargo run --release -p querywire-core --example flush -- <n> [flush|ingest]

use querywire_core::Engine;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(15_000);
    let flush = args.get(2).is_none_or(|m| m != "ingest");
    let options = r#"{ "debounceMs": 600000, "maxWaitMs": 600000, "scope": { "factoryId": "f1" } }"#;
    let mut e = Engine::from_options_text(options).expect("options");
    for id in 0..n {
        let text = format!(
            r#"{{"schema":"public","table":"work_orders","commit_timestamp":"2025-11-25T09:00:00.000+00:00","eventType":"DELETE","new":{{}},"old":{{"id":{id},"factory_id":"f1","title":"x","status":"open","qty":1,"version":2}},"errors":null}}"#
        );
        e.handle_text(1, "supabase", &text).expect("event");
    }
    let mut out = Vec::new();
    if flush {
        e.flush(2);
        while let Some(p) = e.poll_plan() {
            out.clear();
            p.encode(&mut out);
            println!("plan: {} ops, {} bytes", p.len(), out.len());
        }
    }
}
