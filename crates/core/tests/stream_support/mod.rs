//! What the stream-driving checks share: `tests/alloc_steady.rs` (zero allocations per event in
//! steady state) and the bench examples `examples/stream.rs` and `examples/slots.rs` (which include
//! this file by path).
//!
//! - A counting global allocator: every allocation is counted, with its bytes and the bytes still
//!   live; those made while `counting(true)` are also counted apart, so a caller counts one call (an
//!   ingest) without the flushes around it. That switch and count are the calling thread's own, so
//!   tests running side by side do not count each other's allocations. Each binary installs it:
//!   `#[global_allocator] static A: Counting = Counting;`.
//! - The virtual clock's step (`due`) and the examples' arguments (`example_args`).
#![allow(dead_code)]

use querywire_core::Engine;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

pub struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);
static LIVE: AtomicI64 = AtomicI64::new(0);
thread_local! {
    // (const-initialized: reading them never allocates, so the allocator may)
    static ON: Cell<bool> = const { Cell::new(false) };
    static COUNTED: Cell<u64> = const { Cell::new(0) };
}

/// Counts this thread's allocations from now on apart (`true`) or stops (`false`).
pub fn counting(on: bool) {
    ON.set(on);
}
/// Allocations (and reallocations) this thread made while counting, since the last `reset_counted`.
pub fn counted() -> u64 {
    COUNTED.get()
}
pub fn reset_counted() {
    COUNTED.set(0);
}
/// Every allocation and reallocation so far.
pub fn allocations() -> u64 {
    ALLOCS.load(Relaxed)
}
/// Bytes asked for so far.
pub fn bytes() -> u64 {
    BYTES.load(Relaxed)
}
/// Bytes allocated and not yet freed.
pub fn live() -> i64 {
    LIVE.load(Relaxed)
}

#[inline(always)]
fn count(size: usize) {
    ALLOCS.fetch_add(1, Relaxed);
    if ON.get() {
        COUNTED.set(COUNTED.get() + 1);
    }
    BYTES.fetch_add(size as u64, Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        count(l.size());
        LIVE.fetch_add(l.size() as i64, Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as i64, Relaxed);
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        count(n);
        LIVE.fetch_add(n as i64 - l.size() as i64, Relaxed);
        System.realloc(p, l, n)
    }
}

/// Runs the engine's deadlines up to `now` (the virtual clock's step before each event) and drains
/// the plans they make; returns how many plans and keys.
#[inline(always)]
pub fn due(e: &mut Engine, now: u64) -> (usize, usize) {
    let (mut plans, mut keys) = (0, 0);
    while let Some(d) = e.poll_timeout().filter(|d| *d <= now) {
        e.handle_timeout(d);
        while let Some(p) = e.poll_plan() {
            plans += 1;
            keys += p.len();
            e.recycle_plan(p); // as the glue's driver does once the shim has applied it
        }
    }
    (plans, keys)
}

/// The examples' arguments, `<options.json> <file> <events> [...]`: the options' text (the
/// benchmark's, bench/stream.js `STREAM_OPTIONS`, written by scripts/callgrind*.sh), the file's
/// text, the event count (default 10,000) and the arguments after it.
pub fn example_args(usage: &str) -> (String, String, usize, Vec<String>) {
    let args: Vec<String> = std::env::args().collect();
    let read = |i: usize| std::fs::read_to_string(args.get(i).expect(usage)).expect(usage);
    let n = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    (read(1), read(2), n, args.get(4..).unwrap_or_default().to_vec())
}
