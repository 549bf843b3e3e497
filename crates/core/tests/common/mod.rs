//! A test harness in the style of quinn's `Pair`: a virtual clock that jumps to the engine's
//! deadline. Nothing sleeps.
#![allow(dead_code)]

use querywire_core::{Engine, FlushPlan, Millis};
use serde_json::{json, Value};

pub mod realtime;
pub mod tabs;

/// A sans-IO machine's clock: the deadline it asks for, and the call when it has come.
pub trait Clocked {
    fn deadline(&self) -> Option<Millis>;
    fn fire(&mut self, now: Millis);
}

impl Clocked for Engine {
    fn deadline(&self) -> Option<Millis> {
        self.poll_timeout()
    }
    fn fire(&mut self, now: Millis) {
        self.handle_timeout(now)
    }
}

/// Fires `m`'s next deadline if it is at or before `end`, moving `now` to it (never backwards);
/// false when nothing waits until then. The one step of every harness's virtual clock.
pub fn fire_next(m: &mut impl Clocked, now: &mut Millis, end: Millis) -> bool {
    match m.deadline() {
        Some(d) if d <= end => {
            *now = (*now).max(d);
            m.fire(*now);
            true
        }
        _ => false,
    }
}

pub struct Harness {
    pub engine: Engine,
    pub now: Millis,
    pub plans: Vec<(Millis, FlushPlan)>,
}

impl Harness {
    pub fn new(opts: Value) -> Harness {
        Harness { engine: Engine::from_options(&opts).expect("valid options"), now: 0, plans: Vec::new() }
    }

    /// Ingests `payload` at the current time; panics on an input error (use `try_ingest` to see it).
    pub fn ingest(&mut self, source: &str, payload: Value) {
        self.try_ingest(source, payload).expect("payload accepted");
    }

    pub fn try_ingest(
        &mut self,
        source: &str,
        payload: Value,
    ) -> Result<querywire_core::Ingested, querywire_core::Error> {
        let text = payload.to_string();
        let r = self.engine.handle_text(self.now, source, &text);
        self.drain();
        r
    }

    /// Moves the clock forward by `ms`, firing every deadline on the way in order.
    pub fn advance(&mut self, ms: Millis) {
        let end = self.now + ms;
        while fire_next(&mut self.engine, &mut self.now, end) {
            self.drain();
        }
        self.now = end;
    }

    /// Runs until nothing waits.
    pub fn settle(&mut self) {
        while fire_next(&mut self.engine, &mut self.now, Millis::MAX) {
            self.drain();
        }
    }

    pub fn drain(&mut self) {
        while let Some(p) = self.engine.poll_plan() {
            // Play the shim: every invalidation and patch is applied (docs are "cached").
            self.engine.record_applied(p.invalidate.len() as u64, p.patch.len() as u64);
            self.plans.push((self.now, p));
        }
    }

    pub fn invalidated(&self) -> Vec<Value> {
        self.plans.iter().flat_map(|(_, p)| p.invalidate.iter().map(|o| key(p, &o.key))).collect()
    }

    pub fn patched(&self) -> Vec<(Value, Value)> {
        self.plans.iter().flat_map(|(_, p)| p.patch.iter().map(|o| (key(p, &o.key), fields(p, o)))).collect()
    }
}

/// A Supabase postgres_changes callback payload, as supabase-js v2 builds it.
pub fn sb(event: &str, table: &str, new: Value, old: Value) -> Value {
    json!({ "schema": "public", "table": table, "commit_timestamp": "2026-11-25T10:00:00.000Z",
            "eventType": event, "new": new, "old": old, "errors": null })
}

/// An op's query key, as the shim reads it from the hash (`JSON.parse(queryHash)`).
pub fn key(p: &FlushPlan, k: &querywire_core::plan::KeyRef) -> Value {
    serde_json::from_str(p.hash(k)).expect("a key hash is JSON")
}

/// A patch op's fields as one object.
pub fn fields(p: &FlushPlan, o: &querywire_core::plan::PatchOp) -> Value {
    Value::Object(p.fields(o).map(|(n, raw)| (n.to_string(), serde_json::from_str(raw).expect("raw JSON"))).collect())
}

/// The plan in the JSON shape the shim applies (docs/INTERFACES.md), for golden files.
pub fn plan_json(p: &FlushPlan) -> Value {
    let inv: Vec<Value> = p
        .invalidate
        .iter()
        .map(|o| {
            json!({ "queryKey": key(p, &o.key), "queryHash": p.hash(&o.key),
        "exact": o.exact, "refetchType": o.refetch_type.as_str() })
        })
        .collect();
    let patch: Vec<Value> = p
        .patch
        .iter()
        .map(|o| {
            json!({ "queryKey": key(p, &o.key), "queryHash": p.hash(&o.key),
        "fields": fields(p, o), "version": o.version })
        })
        .collect();
    let refetch: Vec<Value> = p
        .refetch
        .iter()
        .map(|o| {
            json!({ "queryKey": key(p, &o.key), "queryHash": p.hash(&o.key),
        "exact": o.exact })
        })
        .collect();
    json!({ "invalidate": inv, "patch": patch, "refetch": refetch })
}
