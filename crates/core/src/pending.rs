//! Operations waiting for the next flush, kept so that building a plan is linear in their number:
//! one entry per query hash (merging `exact`/`refetchType`), patches merged by version, and prefix
//! subsumption through hash lookups of each key's prefixes (never key-against-key).

use crate::event::RefetchType;
use crate::key::{hash_key, prefix_hash};
use crate::plan::{FlushPlan, InvalidateOp, PatchOp, RefetchOp};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Fields a patch never writes: writing them through an object spread or assignment could reach
/// `Object.prototype` in the shim (prototype pollution).
pub const FORBIDDEN_FIELDS: [&str; 3] = ["__proto__", "constructor", "prototype"];

#[derive(Debug, Default)]
pub struct Pending {
    invalidate: Vec<InvalidateOp>,
    inv_at: HashMap<String, usize>,
    patch: Vec<PatchOp>,
    patch_at: HashMap<String, usize>,
    refetch: Vec<RefetchOp>,
    refetch_at: HashMap<String, usize>,
}

impl Pending {
    pub fn is_empty(&self) -> bool {
        self.invalidate.is_empty() && self.patch.is_empty() && self.refetch.is_empty()
    }

    pub fn len(&self) -> usize {
        self.invalidate.len() + self.patch.len() + self.refetch.len()
    }

    /// Adds an invalidation; the same key twice becomes one op that does what both asked.
    pub fn invalidate(&mut self, key: Value, exact: bool, refetch_type: RefetchType) {
        let hash = hash_key(&key);
        if let Some(&i) = self.inv_at.get(&hash) {
            let op = &mut self.invalidate[i];
            op.exact &= exact;
            op.refetch_type = op.refetch_type.join(refetch_type);
            return;
        }
        self.inv_at.insert(hash.clone(), self.invalidate.len());
        self.invalidate.push(InvalidateOp { query_key: key, query_hash: hash, exact, refetch_type });
    }

    /// Adds a patch; a second patch of the same doc merges in, the higher version's values winning.
    pub fn patch(&mut self, key: Value, fields: Map<String, Value>, version: Option<f64>) {
        let fields: Map<String, Value> =
            fields.into_iter().filter(|(k, _)| !FORBIDDEN_FIELDS.contains(&k.as_str())).collect();
        let hash = hash_key(&key);
        if let Some(&i) = self.patch_at.get(&hash) {
            let op = &mut self.patch[i];
            let newer = match (op.version, version) {
                (Some(old), Some(new)) => new >= old,
                _ => true, // without versions, arrival order decides
            };
            if newer {
                op.fields.extend(fields);
                op.version = version.or(op.version);
            } else {
                for (k, v) in fields {
                    op.fields.entry(k).or_insert(v);
                }
            }
            return;
        }
        self.patch_at.insert(hash.clone(), self.patch.len());
        self.patch.push(PatchOp { query_key: key, query_hash: hash, fields, version });
    }

    /// Adds a refetch of the active queries under `key`.
    pub fn refetch(&mut self, key: Value, exact: bool) {
        let hash = hash_key(&key);
        if let Some(&i) = self.refetch_at.get(&hash) {
            self.refetch[i].exact &= exact;
            return;
        }
        self.refetch_at.insert(hash.clone(), self.refetch.len());
        self.refetch.push(RefetchOp { query_key: key, query_hash: hash, exact });
    }

    /// Empties the pending set into a plan: redundant invalidations (a pending non-exact key that is
    /// a prefix and refetches at least as much), patches of keys that an active refetch covers, and
    /// refetches that an invalidation already refetches are left out.
    pub fn take_plan(&mut self) -> FlushPlan {
        let invalidate = std::mem::take(&mut self.invalidate);
        let patch = std::mem::take(&mut self.patch);
        let refetch = std::mem::take(&mut self.refetch);
        self.inv_at.clear();
        self.patch_at.clear();
        self.refetch_at.clear();

        let broad: HashMap<&str, RefetchType> = invalidate
            .iter()
            .filter(|o| !o.exact)
            .map(|o| (o.query_hash.as_str(), o.refetch_type))
            .collect();
        let any: HashMap<&str, RefetchType> =
            invalidate.iter().map(|o| (o.query_hash.as_str(), o.refetch_type)).collect();
        // Is every query under `key` (just `key` itself when `exact`) refetched at least as `rt` by
        // another pending invalidation: one of its proper prefixes, or the same key (`same_key`)?
        let covered = |key: &Value, own_hash: &str, exact: bool, rt: RefetchType, same_key: bool| -> bool {
            if same_key {
                let same = if exact { any.get(own_hash) } else { broad.get(own_hash) };
                if same.is_some_and(|p| p.covers(rt)) {
                    return true;
                }
            }
            let Some(items) = key.as_array() else { return false };
            (0..items.len()).any(|len| broad.get(prefix_hash(items, len).as_str()).is_some_and(|p| p.covers(rt)))
        };

        let kept_inv: Vec<InvalidateOp> = invalidate
            .iter()
            .filter(|o| !covered(&o.query_key, &o.query_hash, o.exact, o.refetch_type, false))
            .cloned()
            .collect();
        let kept_patch: Vec<PatchOp> = patch
            .into_iter()
            .filter(|o| !covered(&o.query_key, &o.query_hash, true, RefetchType::Active, true))
            .collect();
        let kept_refetch: Vec<RefetchOp> = refetch
            .into_iter()
            .filter(|o| !covered(&o.query_key, &o.query_hash, o.exact, RefetchType::Active, true))
            .collect();
        FlushPlan { invalidate: kept_inv, patch: kept_patch, refetch: kept_refetch }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prefix_subsumes_same_refetch_type() {
        let mut p = Pending::default();
        p.invalidate(json!(["list", "wo", "f1", {"page": 1}]), false, RefetchType::Active);
        p.invalidate(json!(["list", "wo"]), false, RefetchType::Active);
        p.invalidate(json!(["list", "wo", "f2"]), false, RefetchType::All);
        let plan = p.take_plan();
        let keys: Vec<_> = plan.invalidate.iter().map(|o| o.query_key.clone()).collect();
        assert_eq!(keys, vec![json!(["list", "wo"]), json!(["list", "wo", "f2"])]);
    }

    #[test]
    fn same_key_merges_flags() {
        let mut p = Pending::default();
        p.invalidate(json!(["a"]), true, RefetchType::Active);
        p.invalidate(json!(["a"]), false, RefetchType::Inactive);
        let plan = p.take_plan();
        assert_eq!(plan.invalidate.len(), 1);
        assert!(!plan.invalidate[0].exact);
        assert_eq!(plan.invalidate[0].refetch_type, RefetchType::All);
    }

    #[test]
    fn patches_merge_by_version_and_drop_forbidden_fields() {
        let mut p = Pending::default();
        let f = |v: Value| v.as_object().unwrap().clone();
        p.patch(json!(["doc", "wo", "1"]), f(json!({"a": 2, "b": 2})), Some(2.0));
        p.patch(json!(["doc", "wo", "1"]), f(json!({"a": 1, "c": 1})), Some(1.0));
        p.patch(json!(["doc", "wo", "1"]), f(json!({"__proto__": {"x": 1}, "constructor": 1, "d": 3})), Some(3.0));
        let plan = p.take_plan();
        assert_eq!(plan.patch.len(), 1);
        assert_eq!(Value::Object(plan.patch[0].fields.clone()), json!({"a": 2, "b": 2, "c": 1, "d": 3}));
        assert_eq!(plan.patch[0].version, Some(3.0));
    }

    #[test]
    fn invalidated_doc_is_not_also_patched() {
        let mut p = Pending::default();
        p.patch(json!(["doc", "wo", "1"]), Map::new(), None);
        p.invalidate(json!(["doc", "wo", "1"]), false, RefetchType::Active);
        let plan = p.take_plan();
        assert!(plan.patch.is_empty());
        assert_eq!(plan.invalidate.len(), 1);
    }
}
