//! The core's one ordered set and one ordered map: sorted, distinct keys in a `Vec`, found by
//! binary search. The sets and maps that need an order here are small (a page's channels, a
//! reconnect's intents, the open views, per-channel seqs): a `Vec` is as fast as a tree at that
//! size, and each `BTreeMap`/`BTreeSet` element type cost the wasm kilobytes of tree code (node
//! splits and merges, a stable sort for every `collect`; docs/SIZE.md). Insertion is O(n); nothing
//! here holds more than a few hundred entries. Unordered lookups by hash use `hash::HashIndex`.

use std::borrow::Borrow;

/// Distinct elements in ascending order (the iteration order `BTreeSet` had).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SortedSet<T>(Vec<T>);

impl<T> Default for SortedSet<T> {
    fn default() -> Self {
        SortedSet(Vec::new())
    }
}

impl<T: Ord> SortedSet<T> {
    /// An empty set.
    pub const fn new() -> Self {
        SortedSet(Vec::new())
    }

    fn find<Q: Ord + ?Sized>(&self, x: &Q) -> Result<usize, usize>
    where
        T: Borrow<Q>,
    {
        self.0.binary_search_by(|e| e.borrow().cmp(x))
    }

    /// Adds `x`; false when it was there already.
    pub fn insert(&mut self, x: T) -> bool {
        match self.find(&x) {
            Ok(_) => false,
            Err(at) => {
                self.0.insert(at, x);
                true
            }
        }
    }

    /// Removes `x`; false when it was not there.
    pub fn remove<Q: Ord + ?Sized>(&mut self, x: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        match self.find(x) {
            Ok(at) => {
                self.0.remove(at);
                true
            }
            Err(_) => false,
        }
    }

    pub fn contains<Q: Ord + ?Sized>(&self, x: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        self.find(x).is_ok()
    }

    /// The elements of `self` not in `other`, in order.
    pub fn difference<'a>(&'a self, other: &'a SortedSet<T>) -> impl Iterator<Item = &'a T> + 'a {
        self.0.iter().filter(move |x| !other.contains(*x))
    }

    /// Whether every element of `self` is in `other`.
    pub fn is_subset(&self, other: &SortedSet<T>) -> bool {
        self.0.iter().all(|x| other.contains(x))
    }
}

impl<T> SortedSet<T> {
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// The elements, in order.
    pub fn as_slice(&self) -> &[T] {
        &self.0
    }

    /// The elements, in order, without a copy.
    pub fn into_vec(self) -> Vec<T> {
        self.0
    }
}

impl<T: Ord> Extend<T> for SortedSet<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        for x in iter {
            self.insert(x);
        }
    }
}

/// Inserted one by one (no sort: a sort is one more instantiation of the sort code per type).
impl<T: Ord> FromIterator<T> for SortedSet<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut s = SortedSet::new();
        s.extend(iter);
        s
    }
}

impl<T: Ord, const N: usize> From<[T; N]> for SortedSet<T> {
    fn from(xs: [T; N]) -> Self {
        xs.into_iter().collect()
    }
}

impl<T> IntoIterator for SortedSet<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a, T> IntoIterator for &'a SortedSet<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Entries with distinct keys in ascending key order (the iteration order `BTreeMap` had).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SortedMap<K, V>(Vec<(K, V)>);

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        SortedMap(Vec::new())
    }
}

impl<K: Ord, V> SortedMap<K, V> {
    /// An empty map.
    pub const fn new() -> Self {
        SortedMap(Vec::new())
    }

    fn find<Q: Ord + ?Sized>(&self, k: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        self.0.binary_search_by(|(e, _)| e.borrow().cmp(k))
    }

    pub fn get<Q: Ord + ?Sized>(&self, k: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.find(k).ok().map(|at| &self.0[at].1)
    }

    pub fn get_mut<Q: Ord + ?Sized>(&mut self, k: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.find(k).ok().map(|at| &mut self.0[at].1)
    }

    pub fn contains_key<Q: Ord + ?Sized>(&self, k: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(k).is_ok()
    }

    /// Sets `k`'s value; returns the one it replaced.
    pub fn insert(&mut self, k: K, v: V) -> Option<V> {
        match self.find(&k) {
            Ok(at) => Some(std::mem::replace(&mut self.0[at].1, v)),
            Err(at) => {
                self.0.insert(at, (k, v));
                None
            }
        }
    }

    /// `k`'s value, inserted from `make` when absent (`entry(k).or_insert_with(make)`). `key`
    /// builds the owned key only when it is inserted.
    pub fn get_or_insert_with<Q: Ord + ?Sized>(
        &mut self,
        k: &Q,
        key: impl FnOnce() -> K,
        make: impl FnOnce() -> V,
    ) -> &mut V
    where
        K: Borrow<Q>,
    {
        let at = match self.find(k) {
            Ok(at) => at,
            Err(at) => {
                self.0.insert(at, (key(), make()));
                at
            }
        };
        &mut self.0[at].1
    }

    pub fn remove<Q: Ord + ?Sized>(&mut self, k: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.find(k).ok().map(|at| self.0.remove(at).1)
    }
}

impl<K, V> SortedMap<K, V> {
    /// The entries, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut V)> {
        self.0.iter_mut().map(|(k, v)| (&*k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Inserted one by one; a later entry for the same key replaces an earlier one.
impl<K: Ord, V> FromIterator<(K, V)> for SortedMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut m = SortedMap::new();
        for (k, v) in iter {
            m.insert(k, v);
        }
        m
    }
}

impl<K: Ord, V, const N: usize> From<[(K, V); N]> for SortedMap<K, V> {
    fn from(xs: [(K, V); N]) -> Self {
        xs.into_iter().collect()
    }
}

impl<K, V> IntoIterator for SortedMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Sorts `v` by `cmp` (not stable: callers break ties themselves). A heapsort: O(n log n) with no
/// allocation, and a few hundred bytes of wasm where each `sort_unstable_by` element type brought
/// ~3 KB of pattern-defeating quicksort. The slices sorted here are short (an object's members in
/// a query key, a scope's fields).
pub fn sort_by<T>(v: &mut [T], mut cmp: impl FnMut(&T, &T) -> std::cmp::Ordering) {
    let mut less = |a: &T, b: &T| cmp(a, b) == std::cmp::Ordering::Less;
    let mut sift = |v: &mut [T], mut node: usize, end: usize| loop {
        let mut child = 2 * node + 1;
        if child >= end {
            break;
        }
        if child + 1 < end && less(&v[child], &v[child + 1]) {
            child += 1;
        }
        if !less(&v[node], &v[child]) {
            break;
        }
        v.swap(node, child);
        node = child;
    };
    let len = v.len();
    for i in (0..len / 2).rev() {
        sift(v, i, len);
    }
    for end in (1..len).rev() {
        v.swap(0, end);
        sift(v, 0, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    /// Against `BTreeSet`/`BTreeMap` (the oracle) on a seeded random sequence of operations.
    #[test]
    fn behaves_as_the_btree_collections() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let (mut s, mut bs) = (SortedSet::new(), BTreeSet::new());
        let (mut m, mut bm) = (SortedMap::new(), BTreeMap::new());
        for _ in 0..5_000 {
            let r = next();
            let k = format!("k{}", r % 40);
            match r >> 60 {
                0..=5 => {
                    assert_eq!(s.insert(k.clone()), bs.insert(k.clone()));
                    assert_eq!(m.insert(k.clone(), r), bm.insert(k, r));
                }
                6..=9 => {
                    assert_eq!(s.remove(k.as_str()), bs.remove(k.as_str()));
                    assert_eq!(m.remove(k.as_str()), bm.remove(k.as_str()));
                }
                10..=11 => {
                    *m.get_or_insert_with(k.as_str(), || k.clone(), || 0) += 1;
                    *bm.entry(k.clone()).or_insert(0) += 1;
                }
                _ => {
                    assert_eq!(s.contains(k.as_str()), bs.contains(k.as_str()));
                    assert_eq!(m.get(k.as_str()), bm.get(k.as_str()));
                }
            }
            assert!(s.iter().eq(bs.iter()));
            assert!(m.iter().eq(bm.iter()));
            assert_eq!((s.len(), m.len()), (bs.len(), bm.len()));
        }
        let other: SortedSet<String> = ["k1", "k2", "k3", "zz"].map(String::from).into();
        let bother: BTreeSet<String> = other.iter().cloned().collect();
        assert!(s.difference(&other).eq(bs.difference(&bother)));
        assert!(other.difference(&s).eq(bother.difference(&bs)));
        assert_eq!(other.is_subset(&s), bother.is_subset(&bs));
        assert!(SortedSet::<String>::new().is_subset(&s));
        let dup: SortedSet<u8> = [3, 1, 3, 2, 1].into();
        assert_eq!(dup.as_slice(), [1, 2, 3]);
    }

    #[test]
    fn sort_by_sorts_as_the_std_sort() {
        let mut seed = 7u64;
        for len in 0..200usize {
            let mut v: Vec<(u8, usize)> = (0..len)
                .map(|i| {
                    seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    ((seed >> 59) as u8, i)
                })
                .collect();
            let mut want = v.clone();
            want.sort();
            sort_by(&mut v, |a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
            assert_eq!(v, want, "len {len}");
        }
    }
}
