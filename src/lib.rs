//! # querywire (the WebAssembly glue)
//!
//! Thin glue around the sans-IO [`querywire_core`]: it converts inputs for the core, hands the core's
//! next deadline to the shim's one `setTimeout` (the `timer` handler; it calls `timeout` back), hands the link's connect/close/send to the shim's
//! WebSocket and EventSource handles (js/transport.js), and hands each flush plan to JavaScript in
//! one call. The page's visibility and the window's `online` event
//! arrive from the shim (`setVisible`, `online`): the glue holds no DOM listener. Every decision
//! lives in the core; nothing here decides what to invalidate or when.
//!
//! On non-wasm targets this crate only re-exports the core, so `cargo test` runs natively.

pub use querywire_core as core;

#[cfg(target_arch = "wasm32")]
mod clock;
#[cfg(target_arch = "wasm32")]
mod driver;
#[cfg(target_arch = "wasm32")]
mod engine;
#[cfg(target_arch = "wasm32")]
mod interop;

#[cfg(target_arch = "wasm32")]
pub use engine::WasmRealtime;

/// talc instead of std's dlmalloc (docs/SIZE.md, "Allocator"): smaller, and the per-event
/// allocations at the boundary are gone (`inputBuffer`/`ingestInput`), so a simpler allocator is safe.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
