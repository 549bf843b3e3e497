//! Guards with bounded memory: event ids seen (cross-window dedupe) and the highest version per
//! `(type, id)` (version guard). Both forget their oldest entries past a fixed capacity, so a
//! long-lived tab's memory stays flat however many events it sees.

use crate::event::Action;
use std::collections::{HashMap, HashSet, VecDeque};

/// How many event ids and row versions are remembered (the contract asks for at least 10,000).
pub const MEMORY: usize = 16_384;

/// The last `MEMORY` event ids, first in first out.
#[derive(Debug, Default)]
pub struct IdMemory {
    order: VecDeque<String>,
    seen: HashSet<String>,
}

impl IdMemory {
    /// Records `id`; false when it was already seen.
    pub fn insert(&mut self, id: &str) -> bool {
        if self.seen.contains(id) {
            return false;
        }
        if self.order.len() >= MEMORY {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        self.order.push_back(id.to_string());
        self.seen.insert(id.to_string());
        true
    }
    pub fn contains(&self, id: &str) -> bool {
        self.seen.contains(id)
    }
    pub fn len(&self) -> usize {
        self.order.len()
    }
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// What the version guard decides for one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Fresh,
    /// Lower than the highest version seen for this row.
    Stale,
    /// The same version and action as the last accepted one: a copy (another channel, a replay).
    Duplicate,
}

/// Highest version seen per `(type, id)`.
#[derive(Debug, Default)]
pub struct VersionMemory {
    order: VecDeque<(String, String)>,
    highest: HashMap<(String, String), (f64, Action)>,
}

impl VersionMemory {
    pub fn check(&mut self, ty: &str, id: &str, version: Option<f64>, action: Action) -> Verdict {
        let Some(v) = version else { return Verdict::Fresh };
        let key = (ty.to_string(), id.to_string());
        if let Some(&(max, act)) = self.highest.get(&key) {
            // A create starts a new row's history (an id reused after a delete starts again at 1).
            if action != Action::Create || act == Action::Create {
                if v < max {
                    return Verdict::Stale;
                }
                if v == max && act == action {
                    return Verdict::Duplicate;
                }
            }
            self.highest.insert(key, (v, action));
            return Verdict::Fresh;
        }
        if self.order.len() >= MEMORY {
            if let Some(old) = self.order.pop_front() {
                self.highest.remove(&old);
            }
        }
        self.order.push_back(key.clone());
        self.highest.insert(key, (v, action));
        Verdict::Fresh
    }
    pub fn len(&self) -> usize {
        self.highest.len()
    }
    pub fn is_empty(&self) -> bool {
        self.highest.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_memory_is_bounded_and_remembers_the_last_ten_thousand() {
        let mut m = IdMemory::default();
        for i in 0..MEMORY * 2 {
            assert!(m.insert(&i.to_string()));
        }
        assert_eq!(m.len(), MEMORY);
        assert!(m.contains(&(MEMORY * 2 - 10_000).to_string()));
        assert!(!m.contains("0"));
    }

    #[test]
    fn versions_stale_duplicate_fresh() {
        let mut m = VersionMemory::default();
        assert_eq!(m.check("wo", "1", Some(3.0), Action::Update), Verdict::Fresh);
        assert_eq!(m.check("wo", "1", Some(2.0), Action::Update), Verdict::Stale);
        assert_eq!(m.check("wo", "1", Some(3.0), Action::Update), Verdict::Duplicate);
        assert_eq!(m.check("wo", "1", Some(3.0), Action::Delete), Verdict::Fresh);
        assert_eq!(m.check("wo", "1", Some(1.0), Action::Create), Verdict::Fresh);
        assert_eq!(m.check("wo", "1", None, Action::Update), Verdict::Fresh);
    }
}
