//! Feeds the benchmark stream (`bench/stream.js`, one supabase-js payload per line as JSON text) to
//! the engine on a virtual clock (3 ms per event, as the stream's commit timestamps step; flushes
//! happen where the 300 ms window closes), and prints allocation counts per event after a warm-up.
//! `scripts/callgrind.sh` runs it under callgrind twice (two event counts) to get instructions per
//! event without the set-up.
//!
//! The engine options are the benchmark's (`bench/stream.js` `STREAM_OPTIONS`, as JSON: the script
//! writes them to a file).
//!
//!   cargo run --release -p querywire-core --example stream -- <options.json> <stream.jsonl> <events> [warmup]

#[path = "../tests/stream_support/mod.rs"]
mod stream_support;

use querywire_core::Engine;
use stream_support::{allocations, bytes, counted, counting, due, example_args, live, Counting};

#[global_allocator]
static A: Counting = Counting;

fn main() {
    let (options, text, n, rest) = example_args("usage: stream <options.json> <stream.jsonl> <events> [warmup]");
    let warmup: usize = rest.first().and_then(|a| a.parse().ok()).unwrap_or(n / 10);
    let lines: Vec<&str> = text.lines().collect();
    assert!(!lines.is_empty(), "empty stream");
    // Built from a serde_json value, as this example always was (its counts stay comparable).
    let mut e = Engine::from_options(&serde_json::from_str(&options).expect("json")).expect("options");
    let (mut plans, mut keys, mut errors) = (0usize, 0usize, 0usize);
    let (mut a0, mut b0, mut i0) = (0, 0, 0);
    for i in 0..n {
        if i == warmup {
            a0 = allocations();
            b0 = bytes();
            i0 = counted();
        }
        if i % (n / 5).max(1) == 0 {
            eprintln!("after {i} events: {:.2} MB live", live() as f64 / 1e6);
        }
        let now = i as u64 * 3;
        let (p, k) = due(&mut e, now);
        (plans, keys) = (plans + p, keys + k);
        counting(true); // inside handle_text only: flushes build one plan per window
        let r = e.handle_text(now, "supabase", lines[i % lines.len()]);
        counting(false);
        if r.is_err() {
            errors += 1;
        }
    }
    let measured = (n - warmup).max(1) as f64;
    let allocs = allocations() - a0;
    let bytes = bytes() - b0;
    let ingest = counted() - i0;
    println!(
        "events {n} (warm-up {warmup}) plans {plans} keys {keys} errors {errors} | after warm-up: {:.3} allocations/event inside handle_text, {:.2} allocations/event in all (flushes included), {:.0} bytes allocated/event",
        ingest as f64 / measured,
        allocs as f64 / measured,
        bytes as f64 / measured
    );
}
