//! Zero allocations per event in steady state (issue 10): once the scanner's tape, the rings, the
//! key table and the routing buffers have grown to a stream's working size, ingesting a Supabase
//! payload allocates nothing. A counting global allocator counts every allocation made inside
//! `handle_text` (flushes are counted apart: a plan is built once per window, not per event).

mod stream_support;

use querywire_core::Engine;
use serde_json::json;
use stream_support::{counted, counting, due, reset_counted, Counting};

#[global_allocator]
static A: Counting = Counting;

/// A stream shaped like bench/stream.js: four tables, four tenants, updates with the whole old row
/// (work_orders) or only its id, inserts and deletes, per-row versions, rules on two tables.
fn payload(i: u64) -> String {
    let r = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 33;
    let tables = ["work_orders", "work_order_items", "machines", "inspections"];
    let table = tables[(r % 4) as usize];
    let factory = ["f1", "f2", "f3", "f4"][((r >> 3) % 4) as usize];
    let id = (r >> 5) % 800 + 1;
    let version = i / 7 + 1;
    let status = ["open", "done", "blocked"][((r >> 9) % 3) as usize];
    let row = |v: u64, s: &str| {
        json!({ "id": id, "factory_id": factory, "work_order_id": id % 97 + 1, "title": "pump valve", "status": s,
                "qty": (r >> 11) % 500, "version": v, "updated_at": "2025-11-25T09:00:00.000+00:00" })
    };
    let (ev, new, old) = match (r >> 13) % 10 {
        0..=6 if table == "work_orders" => ("UPDATE", row(version, status), row(version - 1, "open")),
        0..=6 => ("UPDATE", row(version, status), json!({ "id": id })),
        7 | 8 => ("INSERT", row(1, status), json!({})),
        _ => ("DELETE", json!({}), json!({ "id": id, "factory_id": factory })),
    };
    json!({ "schema": "public", "table": table, "commit_timestamp": "2025-11-25T09:00:00.000+00:00",
            "eventType": ev, "new": new, "old": old, "errors": null })
    .to_string()
}

/// The bench-like engine the tests below run.
fn engine() -> Engine {
    Engine::from_options(&json!({ "debounceMs": 300, "maxWaitMs": 1000, "scope": { "factoryId": "f1" }, "rules": [
        { "table": "work_order_items", "invalidate": [["work_orders", "items", "{work_order_id}"], ["doc", "work_orders", "{work_order_id}"]] },
        { "table": "inspections", "events": ["INSERT", "DELETE"], "invalidate": [["work_orders", "inspections", "{work_order_id}"]] },
        { "table": "inspections", "events": ["UPDATE"], "invalidate": [{ "queryKey": ["inspection", "{id}"], "exact": true }] }
    ] }))
    .unwrap()
}

#[test]
fn a_steady_stream_allocates_nothing_per_event() {
    let mut e = engine();
    let texts: Vec<String> = (0..4_000).map(payload).collect();
    let run = |e: &mut Engine, from: u64, n: u64, count: bool| {
        for i in from..from + n {
            let now = i * 3;
            due(e, now);
            counting(count);
            let r = e.handle_text(now, "supabase", &texts[(i % texts.len() as u64) as usize]);
            counting(false);
            assert!(r.is_ok());
        }
    };
    run(&mut e, 0, 1_000, true);
    eprintln!("first 1,000 events: {} allocations", counted());
    run(&mut e, 1_000, 59_000, false); // warm-up: rings fill, buffers reach their working size
    reset_counted();
    run(&mut e, 60_000, 20_000, true);
    let allocs = counted();
    assert_eq!(allocs, 0, "{allocs} allocations in 20,000 events");
    assert!(e.stats().flushes > 50, "windows closed along the way");
}

/// Flushes too, once each plan is given back after it is applied (`Engine::recycle_plan`, as the
/// glue's driver does): the next window's plan is built in the same buffers.
#[test]
fn a_steady_streams_flushes_allocate_nothing_once_plans_are_given_back() {
    let mut e = engine();
    let texts: Vec<String> = (0..4_000).map(payload).collect();
    let run = |e: &mut Engine, from: u64, n: u64, count: bool| {
        let mut plans = 0;
        for i in from..from + n {
            let now = i * 3;
            counting(count);
            plans += due(e, now).0; // flushes, each plan given back
            counting(false);
            assert!(e.handle_text(now, "supabase", &texts[(i % texts.len() as u64) as usize]).is_ok());
        }
        plans
    };
    run(&mut e, 0, 60_000, false);
    reset_counted();
    let plans = run(&mut e, 60_000, 20_000, true);
    let allocs = counted();
    assert!(plans > 50, "windows closed along the way: {plans}");
    assert_eq!(allocs, 0, "{allocs} allocations in {plans} flushes");
}
