//! Replay: a recorded trace (tests/fixtures/trace.jsonl: `{t, source, payload}` per line) driven
//! through the engine on its own clock gives exactly the plans in tests/fixtures/trace.plans.json,
//! every time. Regenerate the expected file after an intended behaviour change with
//! `UPDATE_GOLDEN=1 cargo test -p querywire-core --test replay` and review the diff.

mod common;
use querywire_core::Engine;
use serde_json::{json, Value};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/");

fn replay() -> Value {
    let trace = std::fs::read_to_string(format!("{ROOT}trace.jsonl")).expect("trace.jsonl");
    let opts = json!({ "debounceMs": 300, "maxWaitMs": 1000, "scope": { "factoryId": "f1" },
        "rules": [{ "table": "lines", "invalidate": [["lines", "{id}"], ["dashboard", "{factory_id}"]] }] });
    let mut e = Engine::from_options(&opts).expect("options");
    let mut out = Vec::new();
    let mut errors = 0;
    let take = |e: &mut Engine, at: u64, out: &mut Vec<Value>| {
        while let Some(p) = e.poll_plan() {
            out.push(json!({ "at": at, "plan": common::plan_json(&p) }));
        }
    };
    for line in trace.lines() {
        let rec: Value = serde_json::from_str(line).expect("trace line");
        let t = rec["t"].as_u64().expect("t");
        while let Some(d) = e.poll_timeout().filter(|d| *d <= t) {
            e.handle_timeout(d);
            take(&mut e, d, &mut out);
        }
        if e.handle_text(t, rec["source"].as_str().expect("source"), &rec["payload"].to_string()).is_err() {
            errors += 1;
        }
    }
    while let Some(d) = e.poll_timeout() {
        e.handle_timeout(d);
        take(&mut e, d, &mut out);
    }
    json!({ "plans": out, "errors": errors, "stats": serde_json::to_value(e.stats()).expect("stats") })
}

#[test]
fn a_recorded_trace_replays_to_the_same_plans() {
    let got = replay();
    assert_eq!(got, replay(), "two replays differ: the engine is not deterministic");
    let path = format!("{ROOT}trace.plans.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(&got).expect("json") + "\n").expect("write golden");
    }
    let want: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("trace.plans.json (UPDATE_GOLDEN=1 writes it)"))
            .expect("golden is JSON");
    assert_eq!(got, want, "the replay differs from tests/fixtures/trace.plans.json");
    assert!(got["plans"].as_array().is_some_and(|p| p.len() > 20));
}
