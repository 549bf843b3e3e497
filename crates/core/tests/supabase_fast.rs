//! The text path and the object path route every Supabase payload alike: same outcome, same
//! error, same plans (as the shim reads them), same stats. One engine gets the text, compact or
//! pretty-printed (whitespace everywhere the scanner looks), the other the parsed value
//! (`handle_payload`, what the glue's object path calls).

mod common;
use proptest::prelude::*;
use querywire_core::Engine;
use serde_json::{json, Map, Value};

fn cell() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (0i64..4).prop_map(Value::from),
        prop::sample::select(vec![1.5f64, 2.0, -0.0]).prop_map(Value::from),
        prop::sample::select(vec!["f1", "f2", "a", "", "q\"uote", "é"]).prop_map(Value::from),
        Just(json!({"nested": [1, {"b": 2}]})),
    ]
}

fn row() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(
        prop::sample::select(vec![
            "id",
            "uuid",
            "code",
            "factory_id",
            "factoryId",
            "version",
            "status",
            "tenant",
            "tenant_id",
            "user_id",
        ]),
        cell(),
        0..8,
    )
    .prop_map(|m| m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn payload() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec!["INSERT", "UPDATE", "DELETE", "UPSERT"]),
        row(),
        row(),
        any::<bool>(),
        prop::sample::select(vec!["wo", "lines", ""]),
    )
        .prop_map(|(ev, new, old, pk_only, table)| {
            let old = if pk_only { old.into_iter().filter(|(k, _)| k == "id").collect() } else { old };
            json!({ "schema": "public", "table": table, "commit_timestamp": "t", "eventType": ev,
                    "new": new, "old": old, "errors": null })
        })
}

fn options() -> impl Strategy<Value = Value> {
    prop::sample::select(vec![
        json!({}),
        json!({ "scope": { "factoryId": "f1" } }),
        json!({ "scope": { "tenant": "a", "factoryId": "f2" }, "patch": false }),
        json!({ "rules": [{ "table": "lines", "invalidate": [["lines", "{status}"], ["t-{tenant_id}"]] }], "scope": { "factoryId": "f1" } }),
        json!({ "primaryKey": ["code", "id"] }),
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn fast_and_general_paths_route_alike(opts in options(), stream in prop::collection::vec((payload(), any::<bool>()), 1..12)) {
        let mut fast = Engine::from_options(&opts).unwrap();
        let mut general = Engine::from_options(&opts).unwrap();
        for (i, (p, pretty)) in stream.into_iter().enumerate() {
            // Compact (as JSON.stringify writes it) or pretty (whitespace everywhere the scanner looks).
            let text = if pretty { serde_json::to_string_pretty(&p).unwrap() } else { p.to_string() };
            let a = fast.handle_text(i as u64, "supabase", &text);
            let b = general.handle_payload(i as u64, "supabase", p, None);
            prop_assert_eq!(a, b);
        }
        fast.flush(1_000);
        general.flush(1_000);
        loop {
            let (a, b) = (fast.poll_plan(), general.poll_plan());
            prop_assert_eq!(a.as_ref().map(common::plan_json), b.as_ref().map(common::plan_json));
            if a.is_none() { break }
        }
        prop_assert_eq!(fast.stats(), general.stats());
    }
}
