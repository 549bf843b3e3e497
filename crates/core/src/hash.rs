//! The core's one hasher: Fx (rustc's, after Firefox), a multiply-rotate over 8-byte words. Keys
//! here are short texts the core built itself or that came from the app's own tables; none is
//! chosen by an attacker to collide (and a collision costs a comparison, never a wrong answer:
//! every table checks the text). SipHash, std's default, cost ~12 % of a payload's instructions.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

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

pub type FxBuild = BuildHasherDefault<FxHasher>;
/// The one hash map type of the core (ordered sets and maps: `sorted.rs`).
pub type FxMap<K, V> = HashMap<K, V, FxBuild>;

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
