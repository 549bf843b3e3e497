//! The vector primitives the scanner ([`crate::scan`]) is written with: sixteen bytes loaded as
//! one value, compared byte by byte with a constant, and the comparison's result as a 16-bit mask
//! (bit `k` is byte `k`). One home for them, with a backend per target, so the scanner's logic
//! exists once above it:
//! - wasm32 with `simd128` (the shipped build, `scripts/build.sh`: `-C target-feature=+simd128`;
//!   WebAssembly SIMD is required by the package, README "Browser support"): `core::arch::wasm32`;
//! - x86_64 (SSE2 is part of its baseline): `core::arch::x86_64`, so the native tests, fuzzers and
//!   callgrind counts run the same algorithm the wasm runs;
//! - anything else: [`portable`], plain byte loops (also the oracle the tests compare the active
//!   backend with).
//!
//! x86_64's intrinsics are `#[target_feature(enable = "sse2")]` functions, which Rust lets a
//! function without that attribute call only in an `unsafe` block, even though the build enables
//! SSE2 on every x86_64 target; and both backends load sixteen bytes with a pointer read of a
//! `&[u8; 16]`. Those blocks, and [`utf8`]'s conversion of a text it has checked is ASCII, are the crate's
//! only `unsafe`.

// `imp::V`: sixteen bytes as the active backend holds them. `eq(v, c)`: 0xff where a byte equals `c`;
// `below(v, c)`: where it is less than `c` (unsigned, `c` >= 1); `xor(v, c)`: each byte xor `c`;
// `bitmask`: each byte's high bit, byte `k` as bit `k`.
pub(crate) use imp::{below, bitmask, eq, load16, or, xor};

/// `b` as text when it is UTF-8 (`None` otherwise): what the glue's input buffer holds, written by
/// the shim (`js/loadWasm.js` `writeText`). Sixteen bytes at a time, an ASCII text (every byte's
/// high bit clear, as Supabase's payloads are) is known to be UTF-8 with no further check; any other
/// goes through `std::str::from_utf8`, whose word-at-a-time ASCII walk is four bytes a step on
/// wasm32. The one home of this check (`src/engine.rs` `ingestInput`, `ingestSlots`).
#[allow(unsafe_code)]
pub fn utf8(b: &[u8]) -> Option<&str> {
    let (chunks, rest) = b.as_chunks::<16>();
    let mut high = 0u32;
    for w in chunks {
        high |= bitmask(load16(w));
    }
    // The last few bytes by the sixteen that end the text, when it is that long.
    let last = b.len().wrapping_sub(16);
    match b.get(last..).and_then(|w| w.first_chunk::<16>()) {
        Some(w) if !rest.is_empty() => high |= bitmask(load16(w)),
        _ => high |= u32::from(rest.iter().any(|c| !c.is_ascii())),
    }
    if high == 0 {
        // SAFETY: every byte is below 0x80, and ASCII is UTF-8.
        return Some(unsafe { std::str::from_utf8_unchecked(b) });
    }
    std::str::from_utf8(b).ok()
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[allow(unsafe_code)]
mod imp {
    use core::arch::wasm32::*;

    #[derive(Clone, Copy)]
    pub(crate) struct V(v128);

    #[inline(always)]
    pub(crate) fn load16(b: &[u8; 16]) -> V {
        // SAFETY: `b` is sixteen readable bytes, and `v128.load` takes any alignment. (`u8x16` of
        // the sixteen bytes is safe, but at opt-level z LLVM leaves it as sixteen lane loads.)
        V(unsafe { v128_load(b.as_ptr().cast::<v128>()) })
    }

    /// `0xff` where a byte equals `c`.
    #[inline(always)]
    pub(crate) fn eq(v: V, c: u8) -> V {
        V(u8x16_eq(v.0, u8x16_splat(c)))
    }

    #[inline(always)]
    pub(crate) fn below(v: V, c: u8) -> V {
        V(u8x16_lt(v.0, u8x16_splat(c)))
    }

    #[inline(always)]
    pub(crate) fn or(a: V, b: V) -> V {
        V(v128_or(a.0, b.0))
    }

    #[inline(always)]
    pub(crate) fn xor(v: V, c: u8) -> V {
        V(v128_xor(v.0, u8x16_splat(c)))
    }

    /// The high bit of each byte, byte `k` as bit `k`.
    #[inline(always)]
    pub(crate) fn bitmask(v: V) -> u32 {
        u32::from(u8x16_bitmask(v.0))
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod imp {
    use core::arch::x86_64::*;

    #[derive(Clone, Copy)]
    pub(crate) struct V(__m128i);

    // SAFETY (every block below): SSE2 is enabled on every x86_64 target (`target_feature =
    // "sse2"` is in its baseline), so these intrinsics exist on the CPU; but for the load they take
    // and return values only.

    /// SAFETY: `b` is sixteen readable bytes; `movdqu` takes any alignment.
    #[inline(always)]
    pub(crate) fn load16(b: &[u8; 16]) -> V {
        V(unsafe { _mm_loadu_si128(b.as_ptr().cast::<__m128i>()) })
    }

    #[inline(always)]
    pub(crate) fn eq(v: V, c: u8) -> V {
        V(unsafe { _mm_cmpeq_epi8(v.0, _mm_set1_epi8(c as i8)) })
    }

    /// `v < c` as `min(v, c - 1) == v` (SSE2 has no unsigned byte compare).
    #[inline(always)]
    pub(crate) fn below(v: V, c: u8) -> V {
        V(unsafe { _mm_cmpeq_epi8(_mm_min_epu8(v.0, _mm_set1_epi8(c.wrapping_sub(1) as i8)), v.0) })
    }

    #[inline(always)]
    pub(crate) fn or(a: V, b: V) -> V {
        V(unsafe { _mm_or_si128(a.0, b.0) })
    }

    #[inline(always)]
    pub(crate) fn xor(v: V, c: u8) -> V {
        V(unsafe { _mm_xor_si128(v.0, _mm_set1_epi8(c as i8)) })
    }

    #[inline(always)]
    pub(crate) fn bitmask(v: V) -> u32 {
        (unsafe { _mm_movemask_epi8(v.0) }) as u32
    }
}

#[cfg(not(any(all(target_arch = "wasm32", target_feature = "simd128"), target_arch = "x86_64")))]
use portable as imp;

/// The scalar backend: one byte at a time. Used on targets without one above, and by the tests as
/// the oracle of the active backend.
#[allow(dead_code)]
pub(crate) mod portable {
    #[derive(Clone, Copy)]
    pub(crate) struct V([u8; 16]);

    #[inline(always)]
    pub(crate) fn load16(b: &[u8; 16]) -> V {
        V(*b)
    }

    #[inline(always)]
    fn map(v: V, f: impl Fn(u8) -> bool) -> V {
        V(v.0.map(|x| if f(x) { 0xff } else { 0 }))
    }

    #[inline(always)]
    pub(crate) fn eq(v: V, c: u8) -> V {
        map(v, |x| x == c)
    }

    #[inline(always)]
    pub(crate) fn below(v: V, c: u8) -> V {
        map(v, |x| x < c)
    }

    #[inline(always)]
    pub(crate) fn or(a: V, b: V) -> V {
        V(core::array::from_fn(|k| a.0[k] | b.0[k]))
    }

    #[inline(always)]
    pub(crate) fn xor(v: V, c: u8) -> V {
        V(v.0.map(|x| x ^ c))
    }

    #[inline(always)]
    pub(crate) fn bitmask(v: V) -> u32 {
        v.0.iter().enumerate().fold(0, |m, (k, x)| m | u32::from(x >> 7) << k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `utf8` agrees with `std::str::from_utf8` on ASCII, on every multi-byte and invalid sequence
    /// at every offset around the sixteen-byte chunks, and on lengths 0 to 70.
    #[test]
    fn utf8_is_from_utf8() {
        let pieces: [&[u8]; 9] = [
            b"a",
            "é".as_bytes(),
            "€".as_bytes(),
            "😀".as_bytes(),
            b"\x80",
            b"\xc3",
            b"\xed\xa0\x80",
            b"\xff",
            b"\x7f",
        ];
        let mut x: u32 = 0x2545_f491;
        for len in 0..70usize {
            for p in pieces {
                for at in 0..=len {
                    let mut b = vec![b'x'; len];
                    b.splice(at..at, p.iter().copied());
                    assert_eq!(utf8(&b), std::str::from_utf8(&b).ok(), "{b:?}");
                }
            }
            let mut b = Vec::new();
            while b.len() < len {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                b.extend_from_slice(pieces[(x % 9) as usize]);
            }
            assert_eq!(utf8(&b), std::str::from_utf8(&b).ok(), "{b:?}");
        }
    }

    /// Every primitive of the active backend against the portable one, on bytes that cover every
    /// value (and the signed/unsigned edges 0x7f/0x80) at every lane.
    #[test]
    fn the_backend_agrees_with_the_portable_one() {
        let mut x: u32 = 0x9e37_79b9;
        let mut blocks: Vec<[u8; 16]> =
            (0..=255u8).map(|c| core::array::from_fn(|k| c.wrapping_add(k as u8 * 17))).collect();
        for _ in 0..2000 {
            blocks.push(core::array::from_fn(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                [b'"', b'\\', 0, 0x1f, 0x20, 0x7f, 0x80, 0xff, b'{', b'a'][(x % 10) as usize] ^ ((x >> 8) as u8 & 1)
            }));
        }
        for w in &blocks {
            let (v, p) = (load16(w), portable::load16(w));
            for c in [0u8, 1, 0x1f, 0x20, 0x21, b'"', b'\\', 0x7f, 0x80, 0x81, 0xff] {
                assert_eq!(bitmask(eq(v, c)), portable::bitmask(portable::eq(p, c)), "eq {c} {w:?}");
                if c > 0 {
                    assert_eq!(bitmask(below(v, c)), portable::bitmask(portable::below(p, c)), "below {c} {w:?}");
                }
                let o = bitmask(or(eq(v, c), eq(v, b'"')));
                assert_eq!(o, portable::bitmask(portable::or(portable::eq(p, c), portable::eq(p, b'"'))));
                let x = bitmask(eq(xor(v, c), 0));
                assert_eq!(x, portable::bitmask(portable::eq(portable::xor(p, c), 0)), "xor {c} {w:?}");
                assert_eq!(x, bitmask(eq(v, c)));
            }
            // The mask names lanes in byte order.
            for (k, &b) in w.iter().enumerate() {
                assert_eq!(bitmask(eq(v, b)) >> k & 1, 1);
            }
        }
    }
}
