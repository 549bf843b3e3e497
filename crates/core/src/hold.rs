//! Optimistic updates (CONTRACT "Optimistic updates"): a realtime operation never overwrites an
//! optimistic update in flight. While a mutation is pending whose key prefixes (its `mutationKey`,
//! `meta.querywire.keys`) match a query's key, patches, invalidations and refetches of that query
//! wait in [`crate::pending::Pending`], and go out in one flush once the last such mutation settles.
//! Queries no pending mutation names are not delayed.
//!
//! The shim only reports `mutation started (id, prefixes)` and `settled (id)`; this module decides,
//! per pending operation at flush time, with TanStack's `partialMatchKey` (a hold prefix `H`
//! matches a query key `K` when `H`'s entries match `K`'s first ones):
//!
//! | operation on key `K` | verdict |
//! | --- | --- |
//! | some hold `H` matches `K` (every query under `K` is under `H`) | [`Verdict::Held`]: stays pending |
//! | non-exact, `K` matches some holds `H1..Hn` (`K` is broader) | [`Verdict::Split`]: goes out now, but must not touch queries under `H1..Hn`; a copy of it on each `Hi` stays pending |
//! | otherwise | [`Verdict::Free`] |
//!
//! Holds are few (one per pending mutation) and only consulted while any exists.

use crate::key::partial_match_key;
use serde_json::Value;

/// TanStack's `mutation.mutationId`.
pub type MutationId = u64;

/// What a pending operation does at a flush while mutations are pending.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// No pending mutation names it: it goes out as usual.
    Free,
    /// A pending mutation names every query it touches: it waits.
    Held,
    /// It goes out now for the queries no mutation names; these hold keys are excluded from it and a
    /// copy of it on each waits.
    Split(Vec<Value>),
}

/// The pending mutations and the key prefixes each holds.
#[derive(Debug, Default, Clone)]
pub struct Holds {
    active: Vec<(MutationId, Vec<Value>)>,
}

impl Holds {
    /// Whether no mutation holds anything (the common case: nothing to judge).
    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }

    /// A mutation went pending with these key prefixes (arrays; anything else is ignored). A
    /// mutation that names no key holds nothing. Starting the same id again replaces its keys.
    pub fn start(&mut self, id: MutationId, keys: Vec<Value>) {
        self.settle(id);
        let keys: Vec<Value> = keys.into_iter().filter(|k| k.as_array().is_some_and(|a| !a.is_empty())).collect();
        if !keys.is_empty() {
            self.active.push((id, keys));
        }
    }

    /// A mutation settled (success, error, or removed from the cache); whether it held anything.
    pub fn settle(&mut self, id: MutationId) -> bool {
        let before = self.active.len();
        self.active.retain(|(m, _)| *m != id);
        self.active.len() != before
    }

    /// Every key prefix held now.
    pub fn keys(&self) -> impl Iterator<Item = &Value> {
        self.active.iter().flat_map(|(_, keys)| keys)
    }

    /// The verdict for a pending operation on `key` (`exact`: it touches only the query `key`).
    pub fn judge(&self, key: &Value, exact: bool) -> Verdict {
        if self.keys().any(|h| partial_match_key(key, h)) {
            return Verdict::Held;
        }
        if exact {
            return Verdict::Free;
        }
        let mut under: Vec<Value> = Vec::new();
        for h in self.keys() {
            if partial_match_key(h, key) && !under.contains(h) {
                under.push(h.clone());
            }
        }
        if under.is_empty() {
            Verdict::Free
        } else {
            Verdict::Split(under)
        }
    }

    /// [`Holds::judge`] for a key given as its canonical hash (valid JSON); an unreadable hash is
    /// judged free (it cannot name a held query).
    pub fn judge_hash(&self, hash: &str, exact: bool) -> Verdict {
        match serde_json::from_str::<Value>(hash) {
            Ok(key) => self.judge(&key, exact),
            Err(_) => Verdict::Free,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn verdicts() {
        let mut h = Holds::default();
        assert!(h.is_empty());
        assert_eq!(h.judge(&json!(["doc", "wo", "1"]), true), Verdict::Free);
        h.start(7, vec![json!(["doc", "wo", "1"]), json!("not a key"), json!([])]);
        h.start(8, vec![json!(["list", "wo", "f1"])]);
        h.start(9, vec![]); // names nothing: holds nothing
        assert_eq!(h.keys().count(), 2);
        // Under a hold: waits (the doc itself, a page under the list prefix).
        assert_eq!(h.judge(&json!(["doc", "wo", "1"]), true), Verdict::Held);
        assert_eq!(h.judge(&json!(["list", "wo", "f1", {"page": 1}]), false), Verdict::Held);
        // Another doc, another factory: free.
        assert_eq!(h.judge(&json!(["doc", "wo", "2"]), true), Verdict::Free);
        assert_eq!(h.judge(&json!(["list", "wo", "f2"]), false), Verdict::Free);
        // Broader than holds: now for the rest, later for the held part.
        assert_eq!(h.judge(&json!(["doc", "wo"]), false), Verdict::Split(vec![json!(["doc", "wo", "1"])]));
        assert_eq!(h.judge(&json!([]), false), Verdict::Split(vec![json!(["doc", "wo", "1"]), json!(["list", "wo", "f1"])]));
        // An exact op on the broad key touches only that query: free.
        assert_eq!(h.judge(&json!(["doc", "wo"]), true), Verdict::Free);
        assert_eq!(h.judge_hash(r#"["doc","wo","1"]"#, true), Verdict::Held);
        assert_eq!(h.judge_hash("not json", true), Verdict::Free);
        assert!(h.settle(7));
        assert!(!h.settle(7), "settling twice does nothing");
        assert_eq!(h.judge(&json!(["doc", "wo", "1"]), true), Verdict::Free);
        assert!(h.settle(8));
        assert!(h.is_empty());
    }

    #[test]
    fn two_mutations_on_one_key_hold_until_both_settle() {
        let mut h = Holds::default();
        h.start(1, vec![json!(["doc", "wo", "1"])]);
        h.start(2, vec![json!(["doc", "wo"])]);
        h.settle(1);
        assert_eq!(h.judge(&json!(["doc", "wo", "1"]), true), Verdict::Held);
        h.settle(2);
        assert_eq!(h.judge(&json!(["doc", "wo", "1"]), true), Verdict::Free);
    }
}
