//! The flush plan: everything one flush applies to the QueryClient, in the shape the shim reads
//! (docs/INTERFACES.md). One plan crosses the wasm boundary per flush.

use crate::event::RefetchType;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvalidateOp {
    pub query_key: Value,
    pub query_hash: String,
    pub exact: bool,
    #[serde(serialize_with = "ser_refetch")]
    pub refetch_type: RefetchType,
}

/// Patch a cached doc with `fields` (and `version`); when the doc is not cached, invalidate it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PatchOp {
    pub query_key: Value,
    pub query_hash: String,
    pub fields: Map<String, Value>,
    pub version: Option<f64>,
}

/// Refetch the active queries under a key (recovery after a reconnect, polling).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefetchOp {
    pub query_key: Value,
    pub query_hash: String,
    pub exact: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FlushPlan {
    pub invalidate: Vec<InvalidateOp>,
    pub patch: Vec<PatchOp>,
    pub refetch: Vec<RefetchOp>,
}

impl FlushPlan {
    pub fn is_empty(&self) -> bool {
        self.invalidate.is_empty() && self.patch.is_empty() && self.refetch.is_empty()
    }
    /// Every key the plan touches, for tests and traces.
    pub fn hashes(&self) -> Vec<&str> {
        self.invalidate
            .iter()
            .map(|o| o.query_hash.as_str())
            .chain(self.patch.iter().map(|o| o.query_hash.as_str()))
            .chain(self.refetch.iter().map(|o| o.query_hash.as_str()))
            .collect()
    }
}

fn ser_refetch<S: Serializer>(r: &RefetchType, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(r.as_str())
}
