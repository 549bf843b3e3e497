//! Contract, "Scope guard": an event whose scope field differs from `scope` is dropped before it
//! reaches the cache; where an event carries the field in more than one accepted spelling
//! (`factoryId`, `factory_id`; on the row or on the event), any one that differs drops it, even when
//! another spelling names our tenant (issue 11). Every source, both paths (text and fast path).

mod common;
use common::{sb, Harness};
use querywire_core::Ingested;
use serde_json::{json, Map, Value};

const OURS: &str = "f1";
const THEIRS: &str = "f2";

fn harness() -> Harness {
    Harness::new(json!({ "scope": { "factoryId": OURS } }))
}

/// Every way of placing the two spellings: `(where, spelling, value)` pairs; `row` is the row (Supabase
/// `new`/`old`, an event's `data`, an envelope's `data`), `event` the event object itself.
fn placements() -> Vec<Vec<(&'static str, &'static str, &'static str)>> {
    let mut out = vec![];
    let places = [("row", "factoryId"), ("row", "factory_id"), ("event", "factoryId"), ("event", "factory_id")];
    // One foreign spelling alone, and a foreign one beside each spelling naming ours.
    for &(w, k) in &places {
        out.push(vec![(w, k, THEIRS)]);
        for &(w2, k2) in &places {
            if (w2, k2) != (w, k) {
                out.push(vec![(w2, k2, OURS), (w, k, THEIRS)]);
                out.push(vec![(w, k, THEIRS), (w2, k2, OURS)]);
            }
        }
    }
    // Ours under three spellings, theirs under the fourth.
    for &(w, k) in &places {
        let mut p: Vec<_> = places.iter().filter(|&&x| x != (w, k)).map(|&(w2, k2)| (w2, k2, OURS)).collect();
        p.push((w, k, THEIRS));
        out.push(p);
    }
    out
}

fn split(p: &[(&str, &str, &str)]) -> (Map<String, Value>, Map<String, Value>) {
    let (mut row, mut ev) = (Map::new(), Map::new());
    for &(w, k, v) in p {
        if w == "row" { &mut row } else { &mut ev }.insert(k.into(), json!(v));
    }
    (row, ev)
}

fn with(mut base: Value, extra: Map<String, Value>) -> Value {
    base.as_object_mut().unwrap().extend(extra);
    base
}

/// The payloads of every source that can carry `p`; Supabase has no event-level fields.
fn payloads(p: &[(&str, &str, &str)]) -> Vec<(&'static str, Value)> {
    let (row, ev) = split(p);
    let mut data = Map::new();
    data.insert("id".into(), json!(5));
    data.insert("status".into(), json!("x"));
    data.extend(row.clone());
    let event = with(
        json!({ "type": "wo", "id": 5, "action": "update", "changedKeys": ["status"], "data": Value::Object(data.clone()) }),
        ev.clone(),
    );
    let envelope = with(
        json!({ "type": "realtime", "entity": "wo", "action": "update", "data": Value::Object(data.clone()), "timestamp": "t", "id": format!("e-{p:?}") }),
        ev.clone(),
    );
    let mut out = vec![
        ("event", event.clone()),
        ("envelope", envelope.clone()),
        ("supabase", json!({ "type": "broadcast", "event": "change", "payload": event.clone() })),
        ("centrifugo", json!({ "channel": "factory:f1", "data": event })),
        ("centrifugo", json!({ "channel": "factory:f1", "data": envelope })),
    ];
    if ev.is_empty() {
        let mut old = Map::new();
        old.insert("id".into(), json!(5));
        out.push(("supabase", sb("UPDATE", "wo", Value::Object(data.clone()), Value::Object(old))));
        out.push(("supabase", sb("INSERT", "wo", Value::Object(data), json!({}))));
    }
    out
}

#[test]
fn another_tenant_under_any_spelling_never_reaches_the_cache() {
    let mut checked = 0;
    for p in placements() {
        for (source, payload) in payloads(&p) {
            let mut h = harness();
            let got = h.try_ingest(source, payload.clone()).unwrap_or_else(|e| panic!("{source} {payload}: {e:?}"));
            assert_eq!(got, Ingested::OutOfScope, "{source} {payload}");
            h.settle();
            assert!(h.plans.is_empty(), "{source} {payload}: nothing reaches the cache");
            assert_eq!(h.engine.stats().dropped.out_of_scope, 1);
            checked += 1;
        }
    }
    assert!(checked > 150, "{checked} cases");
}

#[test]
fn our_tenant_under_every_spelling_is_kept() {
    let all = [
        ("row", "factoryId", OURS),
        ("row", "factory_id", OURS),
        ("event", "factoryId", OURS),
        ("event", "factory_id", OURS),
    ];
    for n in 1..=all.len() {
        for (source, payload) in payloads(&all[..n]) {
            let mut h = harness();
            assert_eq!(h.try_ingest(source, payload.clone()).unwrap(), Ingested::Queued, "{source} {payload}");
        }
    }
    // An event that names no tenant cannot be judged and is kept.
    let mut h = harness();
    assert_eq!(h.try_ingest("event", json!({"type":"wo","id":5,"action":"create"})).unwrap(), Ingested::Queued);
}

#[test]
fn a_numeric_tenant_matches_its_text() {
    let mut h = Harness::new(json!({ "scope": { "factoryId": 7 } }));
    assert_eq!(
        h.try_ingest("event", json!({"type":"wo","id":1,"factoryId":"7","action":"create"})).unwrap(),
        Ingested::Queued
    );
    assert_eq!(
        h.try_ingest("event", json!({"type":"wo","id":2,"factoryId":7,"data":{"factory_id":8},"action":"create"}))
            .unwrap(),
        Ingested::OutOfScope
    );
}
