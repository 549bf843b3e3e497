//! querywire: the WebAssembly glue around `querywire-core` (placeholder while the core lands).
#[cfg(target_arch = "wasm32")]
use wasm_bindgen::prelude::*;

/// The package version, for diagnostics.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
