//! # querywire-core
//!
//! The sans-IO engine behind querywire: realtime change events and the current time go in, TanStack
//! Query cache operations and the next deadline come out. It owns no timer, no socket and no JS
//! value, so it runs natively under `cargo test` in milliseconds and a recorded trace replays exactly.
//!
//! ## The run loop
//!
//! ```
//! use querywire_core::{Engine, Millis};
//! use serde_json::json;
//!
//! let mut engine = Engine::from_options(&json!({ "debounceMs": 300 })).unwrap();
//! let mut now: Millis = 0;
//! // 1. Feed inputs with the time they arrived (bad input comes back as an error value).
//! engine.handle_text(now, "supabase", r#"{"table":"wo","eventType":"DELETE","old":{"id":1,"factory_id":"f1"}}"#).unwrap();
//! engine.handle_text(now + 5, "supabase", r#"{"table":"wo","eventType":"INSERT","new":{"id":2,"factory_id":"f1"}}"#).unwrap();
//! // 2. Sleep until `poll_timeout()`, then call `handle_timeout(now)` (a spurious call is harmless).
//! while let Some(deadline) = engine.poll_timeout() {
//!     now = deadline;
//!     engine.handle_timeout(now);
//! }
//! // 3. Drain the plans and apply each to the QueryClient in one pass (the JS shim does this).
//! let plan = engine.poll_plan().unwrap();
//! assert_eq!(plan.invalidate.len(), 2); // the list head once, the deleted doc once
//! assert!(engine.poll_plan().is_none());
//! ```
//!
//! The connection policy ([`link`], [`views`]) follows the same loop: `handle_*` inputs with `now`,
//! `poll_*` outputs, `poll_timeout` for its deadline.
//!
//! ## Fail-fast policy
//! Bad input (payloads, options) is an [`Error`] value with a `code`; a panic means a broken invariant.
//! Nothing here unwraps data that came from outside.
// No `unsafe` outside `simd.rs` (calls of x86_64's SSE2 intrinsics, which Rust makes `unsafe`).
#![deny(unsafe_code)]

pub mod adapt;
pub mod columns;
pub mod config;
pub mod connector;
pub mod engine;
pub mod error;
pub mod event;
pub mod guard;
pub mod hash;
pub mod hold;
pub mod key;
pub mod link;
pub mod num;
pub mod pending;
pub mod plan;
pub mod realtime;
pub mod recovery;
pub mod rules;
pub mod scan;
pub mod share;
mod simd;
pub use simd::utf8;
pub mod slots;
pub mod sorted;
pub mod stats;
pub mod tables;
pub mod views;
pub mod wire;

/// Milliseconds on the caller's clock (JS: `Date.now()`); the engine never reads a clock itself.
pub type Millis = u64;

/// The parts one after another: the one home of `[..].concat()` for the core's texts (channel names,
/// filters, option errors, shared frames), so `join_generic_copy` is not instantiated for it.
pub(crate) fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        out.push_str(p);
    }
    out
}

/// `s` split around its first `b` (an ASCII byte): `str::split_once` for one byte, by a plain
/// search (a `char` pattern links `CharSearcher` and `memchr`; docs/SIZE.md).
pub(crate) fn split_byte(s: &str, b: u8) -> Option<(&str, &str)> {
    let i = s.bytes().position(|c| c == b)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

pub use adapt::Source;
pub use config::Config;
pub use engine::{Engine, Ingested, Slotted, MAX_PAYLOAD_BYTES};
pub use error::{Error, ErrorCode};
pub use plan::{FlushPlan, InvalidateOp, PatchOp, RefetchOp};
pub use realtime::{Output, Realtime};
pub use stats::{Dropped, Stats};
