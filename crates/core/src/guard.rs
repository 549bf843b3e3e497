//! Guards with bounded memory: event ids seen (cross-window dedupe) and the highest version per
//! `(type, id)` (version guard). Both are one [`Ring`]: a fixed number of slots reused first in,
//! first out, each keeping its text in a buffer that is overwritten in place, and an Fx index from
//! the text's hash to its slot. Memory stays flat however many events a long-lived tab sees, and a
//! steady stream allocates nothing.

use crate::event::Action;
use crate::hash::{hash_str, FxMap};

/// How many event ids and row versions are remembered (the contract asks for at least 10,000).
pub const MEMORY: usize = 16_384;

struct Slot<V> {
    hash: u64,
    key: String,
    value: V,
}

/// The last `cap` distinct keys with a value each, oldest forgotten first.
pub struct Ring<V> {
    slots: Vec<Slot<V>>,
    next: usize,
    index: FxMap<u64, u32>,
    cap: usize,
}

impl<V> std::fmt::Debug for Ring<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ring").field("len", &self.slots.len()).finish()
    }
}

impl<V: Copy> Ring<V> {
    pub fn new(cap: usize) -> Ring<V> {
        Ring { slots: Vec::new(), next: 0, index: FxMap::default(), cap: cap.max(1) }
    }

    fn find(&self, hash: u64, key: &str) -> Option<usize> {
        let &i = self.index.get(&hash)?;
        let s = &self.slots[i as usize];
        (s.key == key).then_some(i as usize)
    }

    pub fn get(&self, key: &str) -> Option<V> {
        self.find(hash_str(key), key).map(|i| self.slots[i].value)
    }

    /// Sets `key`'s value; a new key takes the oldest slot once the ring is full.
    pub fn set(&mut self, key: &str, value: V) {
        let hash = hash_str(key);
        match self.find(hash, key) {
            Some(i) => self.slots[i].value = value,
            None => self.insert_new(hash, key, value),
        }
    }

    /// `key`'s value, and `decide(value)`'s answer: when it is `Some(new)`, `key` is set to `new`
    /// (the key hashed and found once for both).
    pub fn update<R>(&mut self, key: &str, decide: impl FnOnce(Option<V>) -> (R, Option<V>)) -> R {
        let hash = hash_str(key);
        let at = self.find(hash, key);
        let (answer, set) = decide(at.map(|i| self.slots[i].value));
        match (set, at) {
            (Some(v), Some(i)) => self.slots[i].value = v,
            (Some(v), None) => self.insert_new(hash, key, v),
            (None, _) => {}
        }
        answer
    }

    fn insert_new(&mut self, hash: u64, key: &str, value: V) {
        let i = if self.slots.len() < self.cap {
            self.slots.push(Slot { hash, key: key.to_string(), value });
            self.slots.len() - 1
        } else {
            let i = self.next;
            self.next = (i + 1) % self.cap;
            let old = self.slots[i].hash;
            if self.index.get(&old) == Some(&(i as u32)) {
                self.index.remove(&old);
            }
            let s = &mut self.slots[i];
            s.hash = hash;
            s.key.clear();
            s.key.push_str(key); // reuses the slot's buffer
            s.value = value;
            i
        };
        // A different key with the same 64-bit hash is forgotten here (a memory may forget).
        self.index.insert(hash, i as u32);
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
        self.0.update(id, |seen| (seen.is_none(), seen.is_none().then_some(())))
    }
    pub fn contains(&self, id: &str) -> bool {
        self.0.get(id).is_some()
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

/// Highest version seen per `(type, id)`.
#[derive(Debug)]
pub struct VersionMemory {
    ring: Ring<(f64, Action)>,
    /// `type \0 id`, built in place.
    buf: String,
}

impl Default for VersionMemory {
    fn default() -> Self {
        VersionMemory { ring: Ring::new(MEMORY), buf: String::new() }
    }
}

impl VersionMemory {
    pub fn check(&mut self, ty: &str, id: &str, version: Option<f64>, action: Action) -> Verdict {
        let Some(v) = version else { return Verdict::Fresh };
        self.buf.clear();
        self.buf.push_str(ty);
        self.buf.push('\0');
        self.buf.push_str(id);
        self.ring.update(&self.buf, |seen| {
            if let Some((max, act)) = seen {
                // A create starts a new row's history (an id reused after a delete starts again at 1).
                if action != Action::Create || act == Action::Create {
                    if v < max {
                        return (Verdict::Stale, None);
                    }
                    if v == max && act == action {
                        return (Verdict::Duplicate, None);
                    }
                }
            }
            (Verdict::Fresh, Some((v, action)))
        })
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

    #[test]
    fn version_memory_is_bounded() {
        let mut m = VersionMemory::default();
        for i in 0..MEMORY * 3 {
            m.check("wo", &i.to_string(), Some(1.0), Action::Update);
        }
        assert_eq!(m.len(), MEMORY);
    }
}
