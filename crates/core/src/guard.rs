//! Guards with bounded memory: event ids seen (cross-window dedupe) and the highest version per
//! `(type, id)` (version guard). Both are one [`Ring`]: a fixed number of slots reused first in,
//! first out, each keeping its text in a buffer that is overwritten in place, and an Fx index from
//! the text's hash to its slot. Memory stays flat however many events a long-lived tab sees, and a
//! steady stream allocates nothing.

use crate::event::Action;
use crate::hash::{hash_str, hash_str_from, same_bytes, HashIndex};
use crate::tables::Table;

/// How many event ids and row versions are remembered (the contract asks for at least 10,000).
pub const MEMORY: usize = 16_384;

struct Slot<V> {
    key: String,
    value: V,
}

/// The last `cap` distinct keys with a value each, oldest forgotten first.
pub struct Ring<V> {
    slots: Vec<Slot<V>>,
    next: usize,
    /// From a key's hash to its slot.
    index: HashIndex,
    cap: usize,
}

impl<V> std::fmt::Debug for Ring<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ring").field("len", &self.slots.len()).finish()
    }
}

impl<V: Copy> Ring<V> {
    pub fn new(cap: usize) -> Ring<V> {
        Ring { slots: Vec::new(), next: 0, index: HashIndex::default(), cap: cap.max(1) }
    }

    /// The slot of the key `a` then `b` (its two parts, kept as one text), whose hash is `hash`.
    /// A key is found by its parts, so a caller never writes it out to look it up.
    #[inline(always)]
    fn find(&self, hash: u64, a: &str, b: &str) -> Option<usize> {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        let is = |i: u32| match self.slots.get(i as usize) {
            Some(s) => {
                let key = s.key.as_bytes();
                key.len() == a.len() + b.len()
                    && match (key.get(..a.len()), key.get(a.len()..)) {
                        (Some(ka), Some(kb)) => same_bytes(ka, a) && same_bytes(kb, b),
                        _ => false,
                    }
            }
            None => false,
        };
        self.index.find(hash, is).map(|i| i as usize)
    }

    /// The value of slot `at` (from [`Ring::find`]).
    fn value(&self, at: usize) -> Option<V> {
        self.slots.get(at).map(|s| s.value)
    }

    /// Sets the value of the key `a` then `b` whose hash is `hash` and whose slot [`Ring::find`]
    /// found (`at`); a new key takes the oldest slot once the ring is full.
    fn set(&mut self, hash: u64, a: &str, b: &str, at: Option<usize>, value: V) {
        if let Some(s) = at.and_then(|i| self.slots.get_mut(i)) {
            s.value = value;
            return;
        }
        let i = if self.slots.len() < self.cap {
            let mut key = String::with_capacity(a.len() + b.len());
            key.push_str(a);
            key.push_str(b);
            self.slots.push(Slot { key, value });
            self.slots.len() - 1
        } else {
            let i = self.next;
            self.next = (i + 1) % self.cap;
            self.index.unlink(i as u32);
            let s = &mut self.slots[i];
            // Reuses the slot's buffer.
            s.key.clear();
            s.key.push_str(a);
            s.key.push_str(b);
            s.value = value;
            i
        };
        self.index.link(hash, i as u32);
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}

/// The last `MEMORY` event ids, first in first out.
#[derive(Debug)]
pub struct IdMemory(Ring<()>);

impl Default for IdMemory {
    fn default() -> Self {
        IdMemory(Ring::new(MEMORY))
    }
}

impl IdMemory {
    /// Records `id`; false when it was already seen.
    pub fn insert(&mut self, id: &str) -> bool {
        let hash = hash_str(id);
        let at = self.0.find(hash, id, "");
        if at.is_none() {
            self.0.set(hash, id, "", None, ());
        }
        at.is_none()
    }
    pub fn contains(&self, id: &str) -> bool {
        self.0.find(hash_str(id), id, "").is_some()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
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

/// Highest version seen per `(type, id)`, keyed `type \0 id`.
#[derive(Debug)]
pub struct VersionMemory {
    ring: Ring<(f64, Action)>,
}

impl Default for VersionMemory {
    fn default() -> Self {
        VersionMemory { ring: Ring::new(MEMORY) }
    }
}

impl VersionMemory {
    /// The verdict on version `version` of row `id` of `table`; a fresh one is remembered. The key
    /// is the table's interned `type \0` and the id, hashed from the table's hash on (`tables.rs`).
    pub fn check(&mut self, table: &Table, id: &str, version: Option<f64>, action: Action) -> Verdict {
        let Some(v) = version else { return Verdict::Fresh };
        let hash = hash_str_from(table.hash, id);
        let at = self.ring.find(hash, &table.key, id);
        if let Some((max, act)) = at.and_then(|i| self.ring.value(i)) {
            // A create starts a new row's history (an id reused after a delete starts again at 1).
            if action != Action::Create || act == Action::Create {
                if v < max {
                    return Verdict::Stale;
                }
                if v == max && act == action {
                    return Verdict::Duplicate;
                }
            }
        }
        self.ring.set(hash, &table.key, id, at, (v, action));
        Verdict::Fresh
    }
    pub fn len(&self) -> usize {
        self.ring.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
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

    fn table(name: &str) -> Table {
        Table::new(name, &crate::rules::RuleTable::default())
    }

    #[test]
    fn versions_stale_duplicate_fresh() {
        let mut m = VersionMemory::default();
        let wo = table("wo");
        assert_eq!(m.check(&wo, "1", Some(3.0), Action::Update), Verdict::Fresh);
        assert_eq!(m.check(&wo, "1", Some(2.0), Action::Update), Verdict::Stale);
        assert_eq!(m.check(&wo, "1", Some(3.0), Action::Update), Verdict::Duplicate);
        assert_eq!(m.check(&wo, "1", Some(3.0), Action::Delete), Verdict::Fresh);
        assert_eq!(m.check(&wo, "1", Some(1.0), Action::Create), Verdict::Fresh);
        assert_eq!(m.check(&wo, "1", None, Action::Update), Verdict::Fresh);
    }

    /// A row is its table and its id: the same id in another table, or a table and id whose texts
    /// run together the same way (`w` + `o1`), is another row.
    #[test]
    fn versions_are_per_table_and_id() {
        let mut m = VersionMemory::default();
        assert_eq!(m.check(&table("wo"), "1", Some(3.0), Action::Update), Verdict::Fresh);
        assert_eq!(m.check(&table("w"), "o1", Some(1.0), Action::Update), Verdict::Fresh);
        assert_eq!(m.check(&table("items"), "1", Some(1.0), Action::Update), Verdict::Fresh);
        assert_eq!(m.check(&table("wo"), "11", Some(1.0), Action::Update), Verdict::Fresh);
        assert_eq!(m.check(&table("wo"), "1", Some(2.0), Action::Update), Verdict::Stale);
        assert_eq!(m.check(&table("w"), "o1", Some(0.5), Action::Update), Verdict::Stale);
    }

    #[test]
    fn version_memory_is_bounded() {
        let mut m = VersionMemory::default();
        let wo = table("wo");
        for i in 0..MEMORY * 3 {
            m.check(&wo, &i.to_string(), Some(1.0), Action::Update);
        }
        assert_eq!(m.len(), MEMORY);
        assert_eq!(m.check(&wo, &(MEMORY * 3 - 1).to_string(), Some(0.0), Action::Update), Verdict::Stale);
    }
}
