//! The object path natively: replays what `rt.ingest('supabase', obj)` sends for the benchmark
//! stream (one line per payload: `S <words>\t<text>`, typed slots, `slots.rs`; or `T <json>`, what
//! crossed as text: a payload the core wanted so, or its rows) on the virtual clock of
//! `examples/stream.rs`. Under callgrind (`scripts/callgrind-slots.sh`) it gives instructions per
//! event of the object path's core.
//!
//! The engine options are the benchmark's (`bench/stream.js` `STREAM_OPTIONS`, as JSON), as in
//! `examples/stream.rs`.
//!
//!   cargo run --release -p querywire-core --example slots -- <options.json> <slots.txt> <events>

#[path = "../tests/stream_support/mod.rs"]
mod stream_support;

use querywire_core::{Engine, Slotted};
use stream_support::{counted, counting, due, example_args, reset_counted, Counting};

#[global_allocator]
static A: Counting = Counting;

enum Line {
    Slots(Vec<u32>, String),
    Text(String),
}

fn main() {
    let (options, file, n, _) = example_args("usage: slots <options.json> <slots.txt> <events>");
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
    let mut e = Engine::from_options_text(&options).expect("options");
    let epoch = e.columns_epoch();
    let (mut plans, mut keys, mut refused, mut errors, mut slot_events) = (0usize, 0usize, 0usize, 0usize, 0usize);
    for i in 0..n {
        let now = i as u64 * 3;
        let (p, k) = due(&mut e, now);
        (plans, keys) = (plans + p, keys + k);
        match &lines[i % lines.len()] {
            Line::Slots(w, t) => {
                if i == n / 10 {
                    reset_counted(); // after a warm-up
                }
                counting(true); // inside handle_slots only (the slot events)
                let r = e.handle_slots(now, epoch, w, t);
                counting(false);
                slot_events += usize::from(i >= n / 10);
                refused += usize::from(!matches!(r, Slotted::Read(_)));
            }
            Line::Text(t) => errors += usize::from(e.handle_text(now, "supabase", t).is_err()),
        }
    }
    println!("events {n} plans {plans} keys {keys} refused {refused} errors {errors} stats {:?}", e.stats());
    println!(
        "after warm-up: {:.3} allocations per slot event inside handle_slots ({slot_events} events)",
        counted() as f64 / slot_events.max(1) as f64
    );
}
