//! Properties that hold for ANY event sequence (proptest): every key an event maps to is flushed at
//! or before its deadline, no flush holds a key twice, memory stays bounded, nothing panics.

mod common;
use common::Harness;
use proptest::prelude::*;
use querywire_core::{Engine, Millis};

use serde_json::{json, Value};
use std::collections::HashSet;

/// A payload from a small universe, so that keys collide, repeat and race.
fn payload() -> impl Strategy<Value = (String, Value)> {
    let id = 0u8..6;
    let ver = prop::option::of(0u8..5);
    let fid = prop::sample::select(vec!["f1", "f2"]);
    prop_oneof![
        (prop::sample::select(vec!["INSERT", "UPDATE", "DELETE"]), id.clone(), ver.clone(), fid.clone()).prop_map(|(ev, id, v, f)| {
            let mut row = json!({"id": id, "factory_id": f, "status": "s"});
            if let Some(v) = v {
                row["version"] = json!(v);
            }
            let (new, old) = if ev == "DELETE" { (json!({}), row) } else { (row, json!({"id": id})) };
            ("supabase".to_string(), json!({"schema":"public","table":"wo","commit_timestamp":"t","eventType":ev,"new":new,"old":old,"errors":null}))
        }),
        (id.clone(), ver, prop::sample::select(vec!["create", "update", "delete", "approve"])).prop_map(|(id, v, a)| {
            ("event".to_string(), json!({"type":"wo","id":id,"action":a,"version":v,"data":{"status":"x"}}))
        }),
        (0u8..4, any::<bool>()).prop_map(|(k, exact)| ("invalidate".to_string(), json!({"queryKey":["k", k], "exact": exact}))),
        Just(("invalidate".to_string(), json!({"queryKey": ["k"]}))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_queued_key_flushes_by_its_deadline_and_once_per_flush(
        events in prop::collection::vec((payload(), 0u64..400), 1..60),
        debounce in 0u64..500,
        max_wait in 0u64..1500,
    ) {
        let mut h = Harness::new(json!({"debounceMs": debounce, "maxWaitMs": max_wait}));
        for ((src, p), gap) in events {
            h.advance(gap);
            h.try_ingest(&src, p).expect("generated payloads are valid");
            // The deadline never lies beyond maxWaitMs from now (the window opened at or before now).
            if let Some(d) = h.engine.poll_timeout() {
                prop_assert!(d <= h.now + max_wait);
            }
        }
        let end = h.now;
        h.settle();
        prop_assert!(h.engine.poll_timeout().is_none());
        if let Some((t, _)) = h.plans.last() {
            prop_assert!(*t <= end + max_wait);
        }
        for (_, plan) in &h.plans {
            let hashes: Vec<&str> = plan.invalidate.iter().map(|o| plan.hash(&o.key)).collect();
            let set: HashSet<&str> = hashes.iter().copied().collect();
            prop_assert_eq!(set.len(), hashes.len(), "a key twice in one flush");
            let patches: HashSet<&str> = plan.patch.iter().map(|o| plan.hash(&o.key)).collect();
            prop_assert_eq!(patches.len(), plan.patch.len());
            prop_assert!(patches.is_disjoint(&set), "a doc both patched and invalidated");
        }
    }

    #[test]
    fn no_event_waits_longer_than_max_wait(
        gaps in prop::collection::vec(0u64..200, 1..80),
        debounce in 1u64..400,
        max_wait in 1u64..1000,
    ) {
        let mut h = Harness::new(json!({"debounceMs": debounce, "maxWaitMs": max_wait}));
        let mut arrivals: Vec<(Millis, usize)> = Vec::new();
        for (i, gap) in gaps.iter().enumerate() {
            h.advance(*gap);
            h.ingest("invalidate", json!({"queryKey": ["k", i]}));
            arrivals.push((h.now, i));
        }
        h.settle();
        for (at, i) in arrivals {
            let key = json!(["k", i]);
            let flushed = h.plans.iter().find(|(_, p)| p.invalidate.iter().any(|o| common::key(p, &o.key) == key));
            let (t, _) = flushed.expect("every key is flushed");
            prop_assert!(*t >= at && *t - at <= max_wait, "key {} waited {} ms", i, *t - at);
        }
    }

    #[test]
    fn arbitrary_json_never_panics(text in ".{0,200}", src in prop::sample::select(vec!["supabase","event","envelope","centrifugo","invalidate","nope"])) {
        let mut e = Engine::from_options(&json!({})).unwrap();
        let _ = e.handle_text(0, src, &text);
    }

    #[test]
    fn arbitrary_json_values_never_panic(v in arb_json(), src in prop::sample::select(vec!["supabase","event","envelope","centrifugo","invalidate"])) {
        let mut e = Engine::from_options(&json!({"rules":[{"table":"t","invalidate":[["a","{x}"],["b-{y}",{"z":"{z}"}]]}]})).unwrap();
        let _ = e.handle_payload(0, src, v, None);
        e.flush(1);
        while e.poll_plan().is_some() {}
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        prop::sample::select(vec![
            "table",
            "id",
            "new",
            "old",
            "eventType",
            "INSERT",
            "UPDATE",
            "DELETE",
            "t",
            "__proto__",
            "queryKey",
            "data",
            "entity",
            "event",
            "invalidate"
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "table",
                    "id",
                    "new",
                    "old",
                    "eventType",
                    "type",
                    "action",
                    "data",
                    "queryKey",
                    "entity",
                    "payload",
                    "channel",
                    "offset",
                    "version",
                    "changedKeys",
                    "x",
                    "y",
                    "z",
                    "exact",
                    "refetchType",
                    "event"
                ])
                .prop_map(String::from),
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn memory_stays_bounded_after_a_long_stream() {
    let mut e = Engine::from_options(&json!({"debounceMs": 10})).unwrap();
    let mut now = 0;
    for i in 0..200_000u64 {
        let text = format!(
            r#"{{"type":"r","entity":"wo","action":"update","data":{{"id":{},"version":{}}},"timestamp":"t","id":"e{}"}}"#,
            i % 50_000,
            i,
            i
        );
        e.handle_text(now, "envelope", &text).unwrap();
        now += 1;
        e.handle_timeout(now);
        while e.poll_plan().is_some() {}
    }
    let (ids, versions, pending) = e.memory();
    assert!(e.interned_keys() <= querywire_core::pending::KEY_CAPACITY + 1_000, "{}", e.interned_keys());
    assert!(ids <= querywire_core::guard::MEMORY, "{ids}");
    assert!(versions <= querywire_core::guard::MEMORY, "{versions}");
    assert!(pending < 100, "{pending}");
}
