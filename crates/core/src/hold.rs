//! Optimistic updates (CONTRACT "Optimistic updates"): a realtime operation never overwrites an
//! optimistic update in flight. While a mutation is pending whose key prefixes (its `mutationKey`,
//! `meta.querywire.keys`) match a query's key, patches, invalidations and refetches of that query
//! wait in [`crate::pending::Pending`], and go out in one flush once the last such mutation settles.
//! Queries no pending mutation names are not delayed.
//!
//! The shim only reports `mutation started (id, prefixes)` and `settled (id)`; this module decides,
//! per pending operation at flush time. A hold prefix `H` matches a key `K` when `H`'s elements are
//! `K`'s first ones (TanStack's `partialMatchKey` for the keys querywire builds; an object element
//! must be equal, not a subset):
//!
//! | operation on key `K` | verdict |
//! | --- | --- |
//! | some hold `H` matches `K` (every query under `K` is under `H`) | [`Verdict::Held`]: stays pending |
//! | non-exact, `K` matches some holds `H1..Hn` (`K` is broader) | [`Verdict::Split`]: goes out now, but must not touch queries under `H1..Hn`; a copy of it on each `Hi` stays pending |
//! | otherwise | [`Verdict::Free`] |
//!
//! Keys are compared as their canonical hashes (TanStack `hashKey`, as interned in `Pending`), prefix
//! by prefix at element boundaries: no JSON is parsed here. Holds are few (one per pending mutation)
//! and only consulted while any exists.

/// TanStack's `mutation.mutationId`.
pub type MutationId = u64;

/// What a pending operation does at a flush while mutations are pending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// No pending mutation names it: it goes out as usual.
    Free,
    /// A pending mutation names every query it touches: it waits.
    Held,
    /// It goes out now for the queries no mutation names; these hold keys (hashes) are excluded from
    /// it and a copy of it on each waits.
    Split(Vec<String>),
}

/// A held key prefix: its canonical hash and the offsets just after each top-level element.
#[derive(Debug, Clone)]
struct Prefix {
    hash: String,
    ends: Vec<u32>,
}

/// The pending mutations and the key prefixes each holds.
#[derive(Debug, Default, Clone)]
pub struct Holds {
    active: Vec<(MutationId, Vec<Prefix>)>,
}

/// A mutation named a key hash that is not a JSON array (`Holds::start` refused it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAKey;

impl Holds {
    /// Whether no mutation holds anything (the common case: nothing to judge).
    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }

    /// A mutation went pending with these key prefixes, as canonical hashes (`hashKey`). A hash that
    /// is not a JSON array is refused (`Err`, nothing held); a mutation naming no key holds nothing;
    /// starting the same id again replaces its keys.
    pub fn start<'h>(&mut self, id: MutationId, hashes: impl IntoIterator<Item = &'h str>) -> Result<(), NotAKey> {
        self.settle(id);
        let mut keys = Vec::new();
        for h in hashes {
            let ends = element_ends(h).ok_or(NotAKey)?;
            if !ends.is_empty() {
                keys.push(Prefix { hash: h.to_string(), ends });
            }
        }
        if !keys.is_empty() {
            self.active.push((id, keys));
        }
        Ok(())
    }

    /// A mutation settled (success, error, or removed from the cache); whether it held anything.
    pub fn settle(&mut self, id: MutationId) -> bool {
        let before = self.active.len();
        self.active.retain(|(m, _)| *m != id);
        self.active.len() != before
    }

    fn prefixes(&self) -> impl Iterator<Item = &Prefix> {
        self.active.iter().flat_map(|(_, keys)| keys)
    }

    /// The verdict for a pending operation on the key with canonical hash `hash` and element ends
    /// `ends` (`exact`: it touches only that query).
    pub fn judge(&self, hash: &str, ends: &[u32], exact: bool) -> Verdict {
        if self.prefixes().any(|h| is_prefix(&h.hash, &h.ends, hash, ends)) {
            return Verdict::Held;
        }
        if exact {
            return Verdict::Free;
        }
        let mut under: Vec<String> = Vec::new();
        for h in self.prefixes() {
            if is_prefix(hash, ends, &h.hash, &h.ends) && !under.contains(&h.hash) {
                under.push(h.hash.clone());
            }
        }
        if under.is_empty() {
            Verdict::Free
        } else {
            Verdict::Split(under)
        }
    }
}

/// Is key `a` (hash, element ends) a prefix of key `b`: its elements are `b`'s first ones?
fn is_prefix(a: &str, a_ends: &[u32], b: &str, b_ends: &[u32]) -> bool {
    let n = a_ends.len();
    if n == 0 {
        return true; // `[]` matches every key
    }
    n <= b_ends.len() && a.get(..a_ends[n - 1] as usize) == b.get(..b_ends[n - 1] as usize)
}

/// The offsets just after each top-level element of a canonical JSON array (`["a",1,{"b":2}]` →
/// `[4, 6, 14]`), or `None` when `hash` is not an array.
pub fn element_ends(hash: &str) -> Option<Vec<u32>> {
    let b = hash.as_bytes();
    if b.len() < 2 || b[0] != b'[' || b[b.len() - 1] != b']' {
        return None;
    }
    let mut ends = Vec::new();
    if b.len() == 2 {
        return Some(ends);
    }
    let (mut depth, mut in_str, mut esc) = (0u32, false, false);
    for (i, &c) in b.iter().enumerate().skip(1) {
        if in_str {
            match (esc, c) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'[' | b'{' => depth += 1,
            b']' | b'}' if depth > 0 => depth -= 1,
            b']' if depth == 0 && i != b.len() - 1 => return None, // something after the array
            b',' | b']' if depth == 0 => ends.push(u32::try_from(i).ok()?),
            _ => {}
        }
    }
    (depth == 0 && !in_str && ends.last().map(|e| *e as usize) == Some(b.len() - 1)).then_some(ends)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::hash_key;
    use serde_json::{json, Value};

    fn k(v: Value) -> (String, Vec<u32>) {
        let h = hash_key(&v);
        let e = element_ends(&h).unwrap();
        (h, e)
    }

    fn judge(h: &Holds, v: Value, exact: bool) -> Verdict {
        let (hash, ends) = k(v);
        h.judge(&hash, &ends, exact)
    }

    #[test]
    fn element_ends_of_canonical_arrays() {
        assert_eq!(element_ends(r#"["a",1,{"b":[2,3]}]"#), Some(vec![4, 6, 18]));
        assert_eq!(element_ends(r#"["a,\"]",["x"]]"#), Some(vec![8, 14]));
        assert_eq!(element_ends("[]"), Some(vec![]));
        assert_eq!(element_ends(r#"{"a":1}"#), None);
        assert_eq!(element_ends(r#"["a""#), None);
        assert_eq!(element_ends("[1]]"), None);
    }

    #[test]
    fn verdicts() {
        let mut h = Holds::default();
        assert!(h.is_empty());
        assert_eq!(judge(&h, json!(["doc", "wo", "1"]), true), Verdict::Free);
        let hashes = [hash_key(&json!(["doc", "wo", "1"])), "[]".into()];
        h.start(7, hashes.iter().map(String::as_str)).unwrap();
        h.start(8, [hash_key(&json!(["list", "wo", "f1"]))].iter().map(String::as_str)).unwrap();
        h.start(9, std::iter::empty()).unwrap(); // names nothing: holds nothing
        assert!(h.start(10, ["not a key"]).is_err());
        // Under a hold: waits (the doc itself, a page under the list prefix).
        assert_eq!(judge(&h, json!(["doc", "wo", "1"]), true), Verdict::Held);
        assert_eq!(judge(&h, json!(["list", "wo", "f1", {"page": 1}]), false), Verdict::Held);
        // Another doc (also one whose id only starts the same), another factory: free.
        assert_eq!(judge(&h, json!(["doc", "wo", "2"]), true), Verdict::Free);
        assert_eq!(judge(&h, json!(["doc", "wo", "12"]), true), Verdict::Free);
        assert_eq!(judge(&h, json!(["list", "wo", "f2"]), false), Verdict::Free);
        // Broader than holds: now for the rest, later for the held part.
        assert_eq!(judge(&h, json!(["doc", "wo"]), false), Verdict::Split(vec![hashes[0].clone()]));
        assert_eq!(
            judge(&h, json!([]), false),
            Verdict::Split(vec![hashes[0].clone(), hash_key(&json!(["list", "wo", "f1"]))])
        );
        // An exact op on the broad key touches only that query: free.
        assert_eq!(judge(&h, json!(["doc", "wo"]), true), Verdict::Free);
        assert!(h.settle(7));
        assert!(!h.settle(7), "settling twice does nothing");
        assert_eq!(judge(&h, json!(["doc", "wo", "1"]), true), Verdict::Free);
        assert!(h.settle(8));
        assert!(h.is_empty());
    }

    #[test]
    fn two_mutations_on_one_key_hold_until_both_settle() {
        let mut h = Holds::default();
        h.start(1, [hash_key(&json!(["doc", "wo", "1"]))].iter().map(String::as_str)).unwrap();
        h.start(2, [hash_key(&json!(["doc", "wo"]))].iter().map(String::as_str)).unwrap();
        h.settle(1);
        assert_eq!(judge(&h, json!(["doc", "wo", "1"]), true), Verdict::Held);
        h.settle(2);
        assert_eq!(judge(&h, json!(["doc", "wo", "1"]), true), Verdict::Free);
    }
}
