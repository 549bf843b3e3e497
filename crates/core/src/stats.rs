//! Cumulative counts, as `rt.stats()` returns them (CONTRACT "Inspecting").

use serde::Serialize;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dropped {
    pub invalid: u64,
    pub stale: u64,
    pub duplicate: u64,
    pub out_of_scope: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Payloads handed to `ingest` (valid or not).
    pub received: u64,
    /// Non-empty flushes.
    pub flushes: u64,
    /// Query keys invalidated, as applied to the QueryClient.
    pub invalidations: u64,
    /// Docs patched with `setQueryData`.
    pub patches: u64,
    pub dropped: Dropped,
}
