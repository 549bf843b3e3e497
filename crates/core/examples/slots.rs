//! The object path natively: replays what `rt.ingest('supabase', obj)` sends for the benchmark
//! stream (one line per payload: `S <words>\t<text>`, typed slots, `slots.rs`; or `T <json>`, what
//! crossed as text: a payload the core wanted so, or its rows) on the virtual clock of
//! `examples/stream.rs`. Under callgrind (`scripts/callgrind-slots.sh`) it gives instructions per
//! event of the object path's core.
//!
//!   cargo run --release -p querywire-core --example slots -- <slots.txt> <events>

use querywire_core::{Engine, Slotted};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

/// Counts allocations made inside `handle_slots` (the slot events only).
struct Counting;
static IN_SLOTS: AtomicBool = AtomicBool::new(false);
static SLOT_ALLOCS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if IN_SLOTS.load(Relaxed) {
            SLOT_ALLOCS.fetch_add(1, Relaxed);
        }
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        if IN_SLOTS.load(Relaxed) {
            SLOT_ALLOCS.fetch_add(1, Relaxed);
        }
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

enum Line {
    Slots(Vec<u32>, String),
    Text(String),
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).expect("usage: slots <slots.txt> <events>");
    let n: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let file = std::fs::read_to_string(path).expect("slots file");
    let lines: Vec<Line> = file
        .lines()
        .map(|l| match l.split_at(2) {
            ("S ", rest) => {
                let (w, t) = rest.split_once('\t').expect("words\ttext");
                Line::Slots(w.split(' ').map(|x| x.parse().expect("word")).collect(), t.to_string())
            }
            (_, rest) => Line::Text(rest.to_string()),
        })
        .collect();
    assert!(!lines.is_empty(), "empty file");
    let mut e = Engine::from_options_text(OPTIONS).expect("options");
    let epoch = e.columns_epoch();
    let (mut plans, mut keys, mut refused, mut errors, mut slot_events) = (0usize, 0usize, 0usize, 0usize, 0usize);
    for i in 0..n {
        let now = i as u64 * 3;
        while let Some(d) = e.poll_timeout().filter(|d| *d <= now) {
            e.handle_timeout(d);
            while let Some(p) = e.poll_plan() {
                plans += 1;
                keys += p.hashes().len();
            }
        }
        match &lines[i % lines.len()] {
            Line::Slots(w, t) => {
                if i == n / 10 {
                    SLOT_ALLOCS.store(0, Relaxed); // after a warm-up
                }
                IN_SLOTS.store(true, Relaxed);
                let r = e.handle_slots(now, epoch, w, t);
                IN_SLOTS.store(false, Relaxed);
                slot_events += usize::from(i >= n / 10);
                refused += usize::from(!matches!(r, Slotted::Read(_)));
            }
            Line::Text(t) => errors += usize::from(e.handle_text(now, "supabase", t).is_err()),
        }
    }
    println!("events {n} plans {plans} keys {keys} refused {refused} errors {errors} stats {:?}", e.stats());
    println!(
        "after warm-up: {:.3} allocations per slot event inside handle_slots ({slot_events} events)",
        SLOT_ALLOCS.load(Relaxed) as f64 / slot_events.max(1) as f64
    );
}
