//! The core's one hasher: Fx (rustc's, after Firefox), a multiply-rotate over 8-byte words. Keys
//! here are short texts the core built itself or that came from the app's own tables; none is
//! chosen by an attacker to collide (and a collision costs a comparison, never a wrong answer:
//! every table checks the text). SipHash, std's default, cost ~12 % of a payload's instructions.

use std::hash::Hasher;

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        // `split_first_chunk` / `first_chunk`, not `chunks_exact` and `last_chunk`: at opt z, the
        // shipped setting, those were calls of their own (issue 10).
        let mut rest = bytes;
        while let Some((w, r)) = rest.split_first_chunk::<8>() {
            self.add(u64::from_le_bytes(*w));
            rest = r;
        }
        if !rest.is_empty() {
            // The tail zero-padded: from a text of 8 bytes or more, its last word shifted (no copy,
            // the same value); from a shorter one, byte by byte.
            let last = bytes.get(bytes.len().wrapping_sub(8)..).and_then(|b| b.first_chunk::<8>());
            let w = match last {
                Some(last) => u64::from_le_bytes(*last) >> (64 - 8 * rest.len()),
                None => {
                    let mut w = 0u64;
                    for (i, &c) in rest.iter().enumerate() {
                        w |= u64::from(c) << (8 * i);
                    }
                    w
                }
            };
            self.add(w ^ ((rest.len() as u64) << 56));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// No id: an empty bucket, the end of a chain ([`HashIndex`]).
pub const NO_ID: u32 = u32::MAX;
/// The link of an id that is in no chain.
const UNLINKED: u32 = u32::MAX - 1;

/// The core's one hash table (ordered sets and maps: `sorted.rs`): from the 64-bit hashes of texts
/// to the small dense ids (`0..n`) of the table that keeps them (the version guard's ring slots,
/// `guard.rs`; the interned keys, `pending.rs`), chained per bucket. The caller keeps each id's
/// text and confirms a hit by comparing it ([`HashIndex::find`]). A bucket is the hash's top bits,
/// read from a `u32` array: one load and one compare find most ids (issue 10: `std`'s map was two
/// calls and ~50 instructions per lookup at opt z, the shipped setting).
#[derive(Debug, Default, Clone)]
pub struct HashIndex {
    /// Per bucket (a power of two of them, at least as many as ids once any is linked), the id
    /// linked there last, or [`NO_ID`].
    heads: Vec<u32>,
    /// Per id: its hash and the id linked in its bucket before it ([`NO_ID`]: none; `UNLINKED`:
    /// the id is in no chain).
    links: Vec<(u64, u32)>,
    /// `64 - log2(heads.len())`: a hash's bucket is `hash >> shift`.
    shift: u32,
    /// How many ids are linked.
    len: usize,
}

impl HashIndex {
    /// How many ids are linked.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The id whose hash is `hash` and for which `is` holds (the caller compares its text), walking
    /// the ids of `hash`'s bucket from the last linked.
    #[inline(always)]
    pub fn find(&self, hash: u64, mut is: impl FnMut(u32) -> bool) -> Option<u32> {
        let b = (hash >> (self.shift & 63)) as usize;
        let mut id = match self.heads.get(b) {
            Some(&id) => id,
            None => NO_ID,
        };
        while let Some(&(h, next)) = self.links.get(id as usize) {
            if h == hash && is(id) {
                return Some(id);
            }
            id = next;
        }
        None
    }

    /// Links `id` (in no chain: new, or [`HashIndex::unlink`]ed) under `hash`.
    pub fn link(&mut self, hash: u64, id: u32) {
        let i = id as usize;
        if i >= self.links.len() {
            self.links.resize(i + 1, (0, UNLINKED));
        }
        if self.links[i].1 != UNLINKED {
            return;
        }
        self.len += 1;
        if self.len > self.heads.len() {
            self.rebuild((self.heads.len() * 2).max(16));
        }
        let b = (hash >> (self.shift & 63)) as usize;
        let Some(head) = self.heads.get_mut(b) else { return };
        self.links[i] = (hash, *head);
        *head = id;
    }

    /// Takes `id` out of its chain (an id reused for another text).
    pub fn unlink(&mut self, id: u32) {
        let Some(&(hash, next)) = self.links.get(id as usize) else { return };
        if next == UNLINKED {
            return;
        }
        let b = (hash >> (self.shift & 63)) as usize;
        let Some(&head) = self.heads.get(b) else { return };
        if head == id {
            self.heads[b] = next;
        } else {
            let mut at = head;
            while let Some(&(_, n)) = self.links.get(at as usize) {
                if n == id {
                    self.links[at as usize].1 = next;
                    break;
                }
                at = n;
            }
        }
        self.links[id as usize].1 = UNLINKED;
        self.len -= 1;
    }

    /// Forgets every id (the buffers are kept).
    pub fn clear(&mut self) {
        self.links.clear();
        for h in self.heads.iter_mut() {
            *h = NO_ID;
        }
        self.len = 0;
    }

    /// `size` buckets (a power of two), every linked id chained again.
    #[cold]
    #[inline(never)]
    fn rebuild(&mut self, size: usize) {
        self.heads.clear();
        self.heads.resize(size, NO_ID);
        self.shift = 64 - size.trailing_zeros();
        for i in 0..self.links.len() {
            let (hash, next) = self.links[i];
            if next == UNLINKED {
                continue;
            }
            let b = (hash >> (self.shift & 63)) as usize;
            self.links[i].1 = self.heads[b];
            self.heads[b] = i as u32;
        }
    }
}

/// Whether `a` and `b` hold the same bytes: eight at a time, the last (or only) few by the last
/// word when the texts are that long (no call to `memcmp`, which costs more on the short texts the
/// core compares, and no byte loop): how the tables above confirm a hit, and how two values'
/// texts are compared (`adapt/fields.rs`).
#[inline(always)]
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut x, mut y) = (a, b);
    while let (Some((wx, rx)), Some((wy, ry))) = (x.split_first_chunk::<8>(), y.split_first_chunk::<8>()) {
        if u64::from_le_bytes(*wx) != u64::from_le_bytes(*wy) {
            return false;
        }
        (x, y) = (rx, ry);
    }
    // `get` and `first_chunk`, not `last_chunk`: at opt z, the shipped setting, that was a call.
    let n = a.len().wrapping_sub(8);
    match (a.get(n..).and_then(|w| w.first_chunk::<8>()), b.get(n..).and_then(|w| w.first_chunk::<8>())) {
        (Some(wx), Some(wy)) => u64::from_le_bytes(*wx) == u64::from_le_bytes(*wy),
        _ => crate::scan::bytes_eq(x, y),
    }
}

/// Fx hash of a text (length folded in, so "a" and "a\0" differ).
#[inline]
pub fn hash_str(s: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write(s.as_bytes());
    h.write_usize(s.len());
    h.finish()
}

/// [`hash_str`] of `s` started from `seed` instead of the empty state: the hash of a key made of a
/// part whose hash is `seed` and then `s` (the version guard's `type \0 id`, `guard.rs`), without
/// writing the key out.
#[inline]
pub fn hash_str_from(seed: u64, s: &str) -> u64 {
    let mut h = FxHasher { hash: seed };
    h.write(s.as_bytes());
    h.write_usize(s.len());
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tail as it was first written: copied into a zeroed word.
    fn reference(s: &[u8]) -> u64 {
        let mut h = FxHasher::default();
        let mut chunks = s.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            h.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            h.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 56));
        }
        h.finish()
    }

    /// Every linked id is found under its hash (ids sharing a hash, or a bucket, told apart by the
    /// caller's compare) across the growths of the bucket array, and an unlinked id no longer is.
    #[test]
    fn the_index_finds_every_linked_id_and_no_unlinked_one() {
        let mut ix = HashIndex::default();
        let hash = |i: u32| if i.is_multiple_of(3) { 7 } else { hash_str(&i.to_string()) };
        for i in 0..1000 {
            ix.link(hash(i), i);
        }
        for i in (0..1000).step_by(2) {
            ix.unlink(i);
        }
        assert_eq!(ix.len(), 500);
        for i in 0..1000 {
            let found = ix.find(hash(i), |id| id == i);
            assert_eq!(found, (i % 2 == 1).then_some(i), "{i}");
        }
        ix.link(hash(4), 4);
        assert_eq!(ix.find(hash(4), |id| id == 4), Some(4));
        ix.clear();
        assert!(ix.is_empty() && ix.find(hash(5), |_| true).is_none());
    }

    #[test]
    fn same_bytes_is_equality() {
        let text: Vec<u8> = (0u8..40).collect();
        for len in 0..=text.len() {
            let a = &text[..len];
            let copy = a.to_vec();
            assert!(same_bytes(a, &copy));
            for i in 0..len {
                let mut b = a.to_vec();
                b[i] ^= 1;
                assert!(!same_bytes(a, &b), "{len} {i}");
            }
            assert!(!same_bytes(a, &text[..len.saturating_sub(1)]) || len == 0);
        }
    }

    #[test]
    fn the_tail_word_is_the_zero_padded_tail() {
        let text: Vec<u8> = (0u8..40).map(|i| i.wrapping_mul(37).wrapping_add(200)).collect();
        for len in 0..=text.len() {
            let mut h = FxHasher::default();
            h.write(&text[..len]);
            assert_eq!(h.finish(), reference(&text[..len]), "{len} bytes");
        }
    }
}
