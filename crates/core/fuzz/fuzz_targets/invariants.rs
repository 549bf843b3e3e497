//! The plan invariants every target checks, in one place: every op's hash is `hash_key` of its
//! key, and no key stands twice in one op list.
use querywire_core::key::hash_key;
use querywire_core::FlushPlan;
use serde_json::Value;
use std::collections::HashSet;

pub fn check_keys(p: &FlushPlan) {
    for list in [
        p.invalidate.iter().map(|o| p.hash(&o.key)).collect::<Vec<_>>(),
        p.patch.iter().map(|o| p.hash(&o.key)).collect(),
        p.refetch.iter().map(|o| p.hash(&o.key)).collect(),
    ] {
        let mut seen = HashSet::new();
        for h in list {
            assert!(seen.insert(h), "a key twice in one op list: {h}");
            let key: Value = serde_json::from_str(h).expect("a hash is JSON");
            assert_eq!(hash_key(&key), h, "the hash is hash_key of its key");
        }
    }
}
