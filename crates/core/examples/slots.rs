//! The object path natively: replays what `rt.ingest('supabase', obj)` sends for the benchmark
//! stream (one line per payload: `S <words>\t<text>`, typed slots, `slots.rs`; or `T <json>`, what
//! crossed as text: a payload the core wanted so, or its rows) on the virtual clock of
//! `examples/stream.rs`. Under callgrind (`scripts/callgrind-slots.sh`) it gives instructions per
//! event of the object path's core.
//!
//!   cargo run --release -p querywire-core --example slots -- <slots.txt> <events>

use querywire_core::{Engine, Slotted};

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
    let (mut plans, mut keys, mut refused, mut errors) = (0usize, 0usize, 0usize, 0usize);
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
            Line::Slots(w, t) => refused += usize::from(!matches!(e.handle_slots(now, epoch, w, t), Slotted::Read(_))),
            Line::Text(t) => errors += usize::from(e.handle_text(now, "supabase", t).is_err()),
        }
    }
    println!("events {n} plans {plans} keys {keys} refused {refused} errors {errors} stats {:?}", e.stats());
}
