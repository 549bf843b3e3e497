//! The contract's "Routing" and "Coalescing, dedupe and guards" sections, one test per promise.

mod common;
use common::{sb, Harness};
use querywire_core::key::hash_key;
use querywire_core::{ErrorCode, Ingested};
use serde_json::{json, Value};

fn opts() -> Value {
    json!({ "debounceMs": 300, "maxWaitMs": 1000, "scope": { "factoryId": "f1" } })
}

#[test]
fn doc_update_with_changed_fields_patches_only_that_doc() {
    let mut h = Harness::new(opts());
    h.ingest("event", json!({"type":"wo","id":"7","factoryId":"f1","action":"update","changedKeys":["status"],"version":2,"data":{"status":"done"}}));
    h.settle();
    assert_eq!(h.patched(), vec![(json!(["doc", "wo", "7"]), json!({"status":"done"}))]);
    assert!(h.invalidated().is_empty());
    assert_eq!(h.plans[0].1.patch[0].version, Some(2.0));
}

#[test]
fn doc_update_without_values_invalidates_only_that_doc() {
    let mut h = Harness::new(opts());
    h.ingest("supabase", sb("UPDATE", "wo", json!({"id": 7, "factory_id": "f1", "status": "x"}), json!({"id": 7})));
    h.settle();
    assert_eq!(h.invalidated(), vec![json!(["doc", "wo", "7"])]);
}

#[test]
fn patch_off_invalidates_instead() {
    let mut h = Harness::new(json!({"patch": false}));
    h.ingest("event", json!({"type":"wo","id":1,"action":"update","data":{"a":1}}));
    h.settle();
    assert_eq!(h.invalidated(), vec![json!(["doc", "wo", "1"])]);
}

#[test]
fn create_invalidates_the_list_head_only() {
    let mut h = Harness::new(opts());
    h.ingest("supabase", sb("INSERT", "wo", json!({"id": 9, "factory_id": "f1"}), json!({})));
    h.settle();
    assert_eq!(h.invalidated(), vec![json!(["list","wo","f1",{"page":1}])]);
    assert_eq!(h.plans[0].1.invalidate[0].refetch_type.as_str(), "active");
}

#[test]
fn delete_then_insert_is_one_flush_with_one_list_head() {
    // seed 002: DELETE + INSERT used to refetch twice.
    let mut h = Harness::new(opts());
    h.ingest("supabase", sb("DELETE", "wo", json!({}), json!({"id": 1, "factory_id": "f1"})));
    h.advance(20);
    h.ingest("supabase", sb("INSERT", "wo", json!({"id": 2, "factory_id": "f1"}), json!({})));
    h.settle();
    assert_eq!(h.plans.len(), 1);
    assert_eq!(h.invalidated(), vec![json!(["list","wo","f1",{"page":1}]), json!(["doc", "wo", "1"])]);
}

#[test]
fn many_tables_touching_the_same_keys_invalidate_each_key_once() {
    // seed 002: check-ins, goals, partners all invalidate the dashboard.
    let rules = json!([
        {"table": "check_ins", "invalidate": [["goals", "{user_id}"], ["dashboard"], ["analytics"]]},
        {"table": "goals", "invalidate": [["goals", "{user_id}"], ["dashboard"]]},
        {"table": "partners", "invalidate": [["dashboard"], ["analytics"]]},
    ]);
    let mut h = Harness::new(json!({"rules": rules}));
    for t in ["check_ins", "goals", "partners", "goals", "check_ins"] {
        h.ingest("supabase", sb("INSERT", t, json!({"id": 1, "user_id": "u1"}), json!({})));
    }
    h.settle();
    let keys = h.invalidated();
    assert_eq!(keys, vec![json!(["goals", "u1"]), json!(["dashboard"]), json!(["analytics"])]);
}

#[test]
fn every_matching_rule_applies_and_policy_is_skipped() {
    let rules = json!([{"table": "wo", "events": ["UPDATE"], "invalidate": [["a"]]}, {"table": "wo", "invalidate": [["b", "{id}"]]}]);
    let mut h = Harness::new(json!({"rules": rules}));
    h.ingest("supabase", sb("UPDATE", "wo", json!({"id": 3}), json!({"id": 3})));
    h.ingest("supabase", sb("INSERT", "wo", json!({"id": 4}), json!({})));
    h.settle();
    assert_eq!(h.invalidated(), vec![json!(["a"]), json!(["b", 3]), json!(["b", 4])]);
}

#[test]
fn window_restarts_on_each_event_but_max_wait_caps_it() {
    let mut h = Harness::new(json!({"debounceMs": 300, "maxWaitMs": 1000}));
    for i in 0..30 {
        h.ingest("invalidate", json!({"queryKey": ["k", i]}));
        h.advance(100); // a continuous stream: the trailing window never closes on its own
    }
    h.settle();
    let flushes: Vec<(u64, usize)> = h.plans.iter().map(|(t, p)| (*t, p.invalidate.len())).collect();
    // Events at 0, 100, … 2900: each window opens with its first event and closes at maxWaitMs.
    assert_eq!(flushes, vec![(1000, 10), (2000, 10), (3000, 10)]);
}

#[test]
fn trailing_window_closes_debounce_ms_after_the_last_event() {
    let mut h = Harness::new(json!({"debounceMs": 300, "maxWaitMs": 1000}));
    h.ingest("invalidate", json!({"queryKey": ["a"]}));
    h.advance(200);
    h.ingest("invalidate", json!({"queryKey": ["b"]}));
    h.advance(299);
    assert!(h.plans.is_empty());
    h.advance(1);
    assert_eq!(h.plans.len(), 1);
    assert_eq!(h.plans[0].0, 500);
}

#[test]
fn debounce_zero_flushes_at_the_same_instant() {
    let mut h = Harness::new(json!({"debounceMs": 0}));
    h.ingest("invalidate", json!({"queryKey": ["a"]}));
    assert_eq!(h.engine.poll_timeout(), Some(0));
    h.advance(0);
    assert_eq!(h.plans.len(), 1);
}

#[test]
fn ten_events_within_200ms_give_at_most_two_flushes() {
    // seed 001: "debounce: 10 events within 200ms produce ≤ 2 handler calls".
    let mut h = Harness::new(json!({"debounceMs": 300}));
    for i in 0..10 {
        h.ingest("event", json!({"type":"wo","id":i,"action":"update"}));
        h.advance(20);
    }
    h.settle();
    assert!(h.plans.len() <= 2, "{} flushes", h.plans.len());
    assert_eq!(h.invalidated().len(), 10);
}

#[test]
fn one_flush_never_holds_a_key_twice() {
    let mut h = Harness::new(json!({}));
    for _ in 0..5 {
        h.ingest("invalidate", json!({"queryKey": ["x", {"b": 1, "a": 2}]}));
        h.ingest("invalidate", json!({"queryKey": ["x", {"a": 2, "b": 1}]}));
    }
    h.settle();
    assert_eq!(h.invalidated().len(), 1);
}

#[test]
fn prefix_invalidation_makes_longer_keys_redundant() {
    let mut h = Harness::new(json!({}));
    h.ingest("invalidate", json!({"queryKey": ["list", "wo", "f1", {"page": 1}]}));
    h.ingest("invalidate", json!({"queryKey": ["list", "wo"]}));
    h.ingest("invalidate", json!({"queryKey": ["list", "wo", "f1"], "refetchType": "all"}));
    h.settle();
    assert_eq!(h.invalidated(), vec![json!(["list", "wo"]), json!(["list", "wo", "f1"])]);
}

#[test]
fn stale_version_is_dropped_and_newer_one_stands() {
    let mut h = Harness::new(json!({}));
    h.ingest("event", json!({"type":"wo","id":1,"action":"update","version":5,"data":{"s":"v5"}}));
    h.settle();
    assert_eq!(
        h.try_ingest("event", json!({"type":"wo","id":1,"action":"update","version":4,"data":{"s":"v4"}})).unwrap(),
        Ingested::Stale
    );
    h.ingest("event", json!({"type":"wo","id":1,"action":"update","version":6,"data":{"s":"v6"}}));
    h.settle();
    assert_eq!(
        h.patched(),
        vec![(json!(["doc", "wo", "1"]), json!({"s":"v5"})), (json!(["doc", "wo", "1"]), json!({"s":"v6"}))]
    );
    assert_eq!(h.engine.stats().dropped.stale, 1);
}

#[test]
fn same_type_id_action_in_a_window_keeps_the_highest_version() {
    let mut h = Harness::new(json!({}));
    h.ingest("event", json!({"type":"wo","id":1,"action":"update","version":2,"data":{"a":"2"}}));
    h.ingest("event", json!({"type":"wo","id":1,"action":"update","version":3,"data":{"a":"3","b":"3"}}));
    assert_eq!(
        h.try_ingest("event", json!({"type":"wo","id":1,"action":"update","version":3,"data":{"a":"3","b":"3"}}))
            .unwrap(),
        Ingested::Duplicate
    );
    h.settle();
    assert_eq!(h.patched(), vec![(json!(["doc", "wo", "1"]), json!({"a":"3","b":"3"}))]);
    assert_eq!(h.plans[0].1.patch[0].version, Some(3.0));
    assert_eq!(h.engine.stats().dropped.duplicate, 1);
}

#[test]
fn event_ids_are_deduped_across_windows() {
    let mut h = Harness::new(json!({}));
    let env = json!({"type":"realtime","entity":"wo","action":"update","data":{"id":1},"timestamp":"t","id":"e-1"});
    h.ingest("envelope", env.clone());
    h.settle();
    h.advance(60_000);
    assert_eq!(h.try_ingest("envelope", env).unwrap(), Ingested::Duplicate);
    let pub1 = json!({"channel":"org:1","offset":41,"data":{"event":"invalidate","queryKey":["posts"]}});
    h.ingest("centrifugo", pub1.clone());
    assert_eq!(h.try_ingest("centrifugo", pub1).unwrap(), Ingested::Duplicate);
    // The same offset on another channel is another event.
    h.ingest(
        "centrifugo",
        json!({"channel":"org:2","offset":41,"data":{"event":"invalidate","queryKey":["posts", 2]}}),
    );
    assert_eq!(h.engine.stats().dropped.duplicate, 2);
}

#[test]
fn scope_guard_drops_other_tenants_by_camel_or_snake_name() {
    let mut h = Harness::new(opts());
    assert_eq!(
        h.try_ingest("supabase", sb("INSERT", "wo", json!({"id": 1, "factory_id": "f2"}), json!({}))).unwrap(),
        Ingested::OutOfScope
    );
    assert_eq!(
        h.try_ingest("event", json!({"type":"wo","id":1,"factoryId":"f2","action":"create"})).unwrap(),
        Ingested::OutOfScope
    );
    h.ingest("event", json!({"type":"wo","id":1,"factoryId":"f1","action":"create"}));
    h.settle();
    assert_eq!(h.invalidated(), vec![json!(["list","wo","f1",{"page":1}])]);
    assert_eq!(h.engine.stats().dropped.out_of_scope, 2);
    h.engine.set_scope(&json!({"factoryId": "f2"})).unwrap();
    assert_eq!(
        h.try_ingest("event", json!({"type":"wo","id":2,"factoryId":"f1","action":"create"})).unwrap(),
        Ingested::OutOfScope
    );
}

/// A table's list head is the scope's factory's, in every window and after the scope changes: an
/// event with the factory, one without it (listed under the scope's), across flushes, then the
/// same under a new scope.
#[test]
fn list_heads_follow_the_scope_across_windows_and_set_scope() {
    let mut h = Harness::new(opts());
    for round in 0..2 {
        h.ingest("supabase", sb("INSERT", "wo", json!({"id": round, "factory_id": "f1"}), json!({})));
        h.ingest("supabase", sb("DELETE", "wo", json!({}), json!({"id": 10 + round})));
        h.settle();
        let mut got = h.invalidated();
        got.sort_by_key(|k| k.to_string());
        let doc = json!(["doc", "wo", (10 + round).to_string()]);
        assert_eq!(got, vec![doc, json!(["list","wo","f1",{"page":1}])], "round {round}");
        h.plans.clear();
    }
    h.engine.set_scope(&json!({"factoryId": "f2"})).unwrap();
    h.ingest("supabase", sb("INSERT", "wo", json!({"id": 5, "factory_id": "f2"}), json!({})));
    h.settle();
    assert_eq!(h.invalidated(), vec![json!(["list","wo","f2",{"page":1}])]);
}

#[test]
fn scope_numbers_compare_as_js_prints_them() {
    // An event's number is judged by `String(JSON.parse(literal))` (node: 1.50 → "1.5", 1e2 → "100",
    // -0 → "0"); 1e400 (JS: Infinity) prints "null" here, as before.
    let cases = [
        ("1.5", "1.50", true),
        ("1.5", "1.5e0", true),
        ("100", "1e2", true),
        ("0", "-0", true),
        ("0.30000000000000004", "0.30000000000000004", true),
        ("0.30000000000000004", "0.3", false),
        ("1.50", "1.50", false),
        ("Infinity", "1e400", false),
        ("null", "1e400", true),
    ];
    for (want, lit, kept) in cases {
        let mut h = Harness::new(json!({ "scope": { "factoryId": want } }));
        let text = format!(r#"{{"type":"wo","id":1,"factoryId":{lit},"action":"create"}}"#);
        let got = h.engine.handle_text(0, "event", &text).unwrap();
        assert_eq!(got != Ingested::OutOfScope, kept, "scope {want}, event {lit}");
    }
}

#[test]
fn patch_never_names_prototype_fields() {
    let mut h = Harness::new(json!({}));
    h.engine
        .handle_text(0, "event", r#"{"type":"wo","id":1,"action":"update","data":{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}},"prototype":1,"ok":1}}"#)
        .unwrap();
    h.settle();
    assert_eq!(h.patched(), vec![(json!(["doc", "wo", "1"]), json!({"ok":1}))]);
}

#[test]
fn visibility_turning_visible_flushes_at_once() {
    let mut h = Harness::new(json!({"debounceMs": 300}));
    h.engine.set_visible(0, false);
    h.ingest("invalidate", json!({"queryKey": ["a"]}));
    h.now = 10;
    h.engine.set_visible(10, true);
    h.drain();
    assert_eq!(h.plans.len(), 1);
    assert_eq!(h.engine.poll_timeout(), None);
}

#[test]
fn flush_applies_now_and_spurious_timeouts_do_nothing() {
    let mut h = Harness::new(json!({}));
    h.engine.handle_timeout(5);
    h.ingest("invalidate", json!({"queryKey": ["a"]}));
    h.engine.handle_timeout(1); // before the deadline
    h.drain();
    assert!(h.plans.is_empty());
    h.engine.flush(2);
    h.drain();
    assert_eq!(h.plans.len(), 1);
}

#[test]
fn every_bad_input_class_is_a_typed_error_counted_as_invalid() {
    let mut h = Harness::new(json!({}));
    let cases: Vec<(&str, String, ErrorCode)> = vec![
        ("supabase", "42".into(), ErrorCode::NotObject),
        ("supabase", "[1,2]".into(), ErrorCode::NotObject),
        ("supabase", "{not json".into(), ErrorCode::BadJson),
        ("kafka", "{}".into(), ErrorCode::UnknownSource),
        ("supabase", json!({"eventType":"INSERT","new":{"id":1}}).to_string(), ErrorCode::MissingTable),
        ("event", json!({"id":1,"action":"create"}).to_string(), ErrorCode::MissingTable),
        ("envelope", json!({"action":"insert","data":{"id":1}}).to_string(), ErrorCode::MissingTable),
        ("supabase", json!({"table":"t","eventType":"INSERT","new":{"x":1}}).to_string(), ErrorCode::MissingId),
        ("event", json!({"type":"t","action":"create"}).to_string(), ErrorCode::MissingId),
        ("event", json!({"type":"t","id":{"a":1},"action":"create"}).to_string(), ErrorCode::WrongType),
        ("event", json!({"type":"t","id":1,"action":"create","version":"3"}).to_string(), ErrorCode::WrongType),
        ("invalidate", json!({"queryKey":"todos"}).to_string(), ErrorCode::WrongType),
        ("invalidate", json!({"queryKey":["a"],"refetchType":"soon"}).to_string(), ErrorCode::WrongType),
        ("centrifugo", json!({"channel":"c","data":"hello"}).to_string(), ErrorCode::NotObject),
        ("centrifugo", json!({"channel":"c","data":{"what":1}}).to_string(), ErrorCode::WrongType),
        ("invalidate", format!(r#"{{"queryKey":["a"],"pad":"{}"}}"#, "x".repeat(1 << 20)), ErrorCode::TooLarge),
    ];
    let n = cases.len() as u64;
    for (src, text, code) in cases {
        let err = h.engine.handle_text(0, src, &text).expect_err(src);
        assert_eq!(err.code, code, "{src} {}", &text[..text.len().min(80)]);
        assert_eq!(err.source, src);
        assert!(!err.message.is_empty());
    }
    assert_eq!(h.engine.stats().dropped.invalid, n);
    assert_eq!(h.engine.stats().received, n);
    // Nothing else is lost: the next good event still flows.
    h.ingest("invalidate", json!({"queryKey": ["ok"]}));
    h.settle();
    assert_eq!(h.invalidated(), vec![json!(["ok"])]);
}

#[test]
fn stats_count_received_flushes_and_applied_ops() {
    let mut h = Harness::new(json!({}));
    h.ingest("invalidate", json!({"queryKey": ["a"]}));
    h.ingest("invalidate", json!({"queryKey": ["a", 1]}));
    h.ingest("event", json!({"type":"wo","id":1,"action":"update","data":{"x":1}}));
    h.settle();
    let s = h.engine.stats();
    assert_eq!((s.received, s.flushes, s.invalidations, s.patches), (3, 1, 1, 1));
}

#[test]
fn list_head_falls_back_to_scope_then_to_every_list_of_the_type() {
    let mut h = Harness::new(json!({"scope": {"factoryId": "f9"}}));
    h.ingest("event", json!({"type":"wo","id":1,"action":"create"}));
    h.settle();
    assert_eq!(h.invalidated(), vec![json!(["list","wo","f9",{"page":1}])]);
    let mut h = Harness::new(json!({}));
    h.ingest("event", json!({"type":"wo","id":1,"action":"delete"}));
    h.settle();
    assert_eq!(h.invalidated(), vec![json!(["list", "wo"]), json!(["doc", "wo", "1"])]);
}

#[test]
fn invalid_options_are_refused_at_creation() {
    for bad in [
        json!({"debounceMs": -1}),
        json!({"maxWaitMs": "1s"}),
        json!({"scope": [1]}),
        json!({"primaryKey": []}),
        json!({"patch": "yes"}),
        json!({"rules": [{"table": "t", "invalidate": "x"}]}),
        json!(7),
    ] {
        assert_eq!(querywire_core::Engine::from_options(&bad).unwrap_err().code, ErrorCode::InvalidOption, "{bad}");
    }
}

#[test]
fn recovery_refetches_go_through_the_window_and_each_key_once() {
    let mut h = Harness::new(json!({"debounceMs": 50}));
    // Three recoveries arriving together (one per channel; the factory channel covers every view).
    h.engine.refetch(0, vec![hash_key(&json!(["doc", "wo", "1"]))]);
    h.engine.refetch(1, vec![hash_key(&json!(["doc", "wo", "1"])), hash_key(&json!(["list", "wo", "f1"]))]);
    h.engine.refetch(2, vec![hash_key(&json!(["list", "wo", "f1"]))]);
    h.drain();
    assert!(h.plans.is_empty());
    h.settle();
    assert_eq!(h.plans.len(), 1);
    let p = &h.plans[0].1;
    let keys: Vec<_> = p.refetch.iter().map(|r| common::key(p, &r.key)).collect();
    assert_eq!(keys, vec![json!(["doc", "wo", "1"]), json!(["list", "wo", "f1"])]);
}
