//! Feeds the benchmark stream (`bench/stream.js`, one supabase-js payload per line as JSON text) to
//! the engine on a virtual clock (3 ms per event, as the stream's commit timestamps step; flushes
//! happen where the 300 ms window closes), and prints allocation counts per event after a warm-up.
//! `scripts/callgrind.sh` runs it under callgrind twice (two event counts) to get instructions per
//! event without the set-up.
//!
//!   cargo run --release -p querywire-core --example stream -- <stream.jsonl> <events> [warmup]

use querywire_core::Engine;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);
/// Bytes allocated and not yet freed (the engine's memory).
static LIVE: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
/// Allocations made inside `handle_text` only (flushes build one plan per window).
static INGEST: AtomicU64 = AtomicU64::new(0);
static IN_INGEST: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        if IN_INGEST.load(Relaxed) {
            INGEST.fetch_add(1, Relaxed);
        }
        BYTES.fetch_add(l.size() as u64, Relaxed);
        LIVE.fetch_add(l.size() as i64, Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as i64, Relaxed);
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        if IN_INGEST.load(Relaxed) {
            INGEST.fetch_add(1, Relaxed);
        }
        BYTES.fetch_add(n as u64, Relaxed);
        LIVE.fetch_add(n as i64 - l.size() as i64, Relaxed);
        System.realloc(p, l, n)
    }
}

#[global_allocator]
static A: Counting = Counting;

const OPTIONS: &str = r#"{ "debounceMs": 300, "maxWaitMs": 1000, "scope": { "factoryId": "f1" }, "rules": [
  { "table": "work_order_items", "invalidate": [["work_orders", "items", "{work_order_id}"], ["doc", "work_orders", "{work_order_id}"]] },
  { "table": "inspections", "events": ["INSERT", "DELETE"], "invalidate": [["work_orders", "inspections", "{work_order_id}"]] },
  { "table": "inspections", "events": ["UPDATE"], "invalidate": [{ "queryKey": ["inspection", "{id}"], "exact": true }] }
] }"#;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).expect("usage: stream <stream.jsonl> <events> [warmup]");
    let n: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let warmup: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(n / 10);
    let text = std::fs::read_to_string(path).expect("stream file");
    let lines: Vec<&str> = text.lines().collect();
    assert!(!lines.is_empty(), "empty stream");
    let mut e = Engine::from_options(&serde_json::from_str(OPTIONS).expect("json")).expect("options");
    let (mut plans, mut keys, mut errors) = (0usize, 0usize, 0usize);
    let (mut a0, mut b0, mut i0) = (0, 0, 0);
    for i in 0..n {
        if i == warmup {
            a0 = ALLOCS.load(Relaxed);
            b0 = BYTES.load(Relaxed);
            i0 = INGEST.load(Relaxed);
        }
        if i % (n / 5).max(1) == 0 {
            eprintln!("after {i} events: {:.2} MB live", LIVE.load(Relaxed) as f64 / 1e6);
        }
        let now = i as u64 * 3;
        while let Some(d) = e.poll_timeout().filter(|d| *d <= now) {
            e.handle_timeout(d);
            while let Some(p) = e.poll_plan() {
                plans += 1;
                keys += p.hashes().len();
            }
        }
        IN_INGEST.store(true, Relaxed);
        let r = e.handle_text(now, "supabase", lines[i % lines.len()]);
        IN_INGEST.store(false, Relaxed);
        if r.is_err() {
            errors += 1;
        }
    }
    let measured = (n - warmup).max(1) as f64;
    let allocs = ALLOCS.load(Relaxed) - a0;
    let bytes = BYTES.load(Relaxed) - b0;
    let ingest = INGEST.load(Relaxed) - i0;
    println!(
        "events {n} (warm-up {warmup}) plans {plans} keys {keys} errors {errors} | after warm-up: {:.3} allocations/event inside handle_text, {:.2} allocations/event in all (flushes included), {:.0} bytes allocated/event",
        ingest as f64 / measured,
        allocs as f64 / measured,
        bytes as f64 / measured
    );
}
