//! Numbers exactly as JavaScript reads and prints them, without power-of-ten tables (the
//! Eisel–Lemire table behind `str::parse::<f64>` was 11 KB of the wasm, zmij's printer tables more).
//!
//! - [`parse`]: a JSON number literal's double, correctly rounded (what `JSON.parse` and
//!   `str::parse::<f64>` return: overflow is infinity, subnormals and `-0` as IEEE rounds them).
//!   Short literals take Clinger's exact fast path (at most 19 digits forming an integer ≤ 2^53,
//!   times or divided by 10^e with |e| ≤ 22, both exact doubles, so one IEEE operation rounds
//!   correctly); the rest are rounded exactly with big integers: the literal's first 800
//!   significant digits (an 801st digit `5` stands for any nonzero rest: no midpoint between two
//!   doubles has more than 767 significant digits, so every tie is decided as the full text
//!   decides it), times 5^e, or divided by 5^-e to a quotient of 55 or 56 bits and a sticky remainder.
//! - [`write_js`]: ECMAScript `Number::toString` (the fewest digits that read back to the double,
//!   the closest of them, the even one on a tie), from the double's first 17 digits and where the
//!   rest of its exact expansion lies (one big division): the two k-digit decimals around it, for
//!   k = 15, 16, 17 (1 ..= 17 for subnormals), the nearer first, each read back with [`parse`]'s
//!   reader. [`write_js_text`] prints a literal's value without a double when the literal has at
//!   most 15 significant digits in the normal range: no other decimal of 15 digits or fewer reads
//!   to the same double (two such decimals are more than an ulp apart), so its own digits,
//!   normalized, are the shortest.
//!
//! Nothing here indexes past a bound or overflows on any input: exponents saturate, digit counts
//! are capped before they reach the big integers (at most ~2,700 bits).

use crate::scan::push_uint;

/// A JSON number literal's parts: `-? int (. frac)? (e exp)?`, digits as ASCII.
struct Literal<'a> {
    neg: bool,
    int: &'a [u8],
    frac: &'a [u8],
    /// Saturated at ±2^40 (far beyond where any double stops changing).
    exp: i64,
}

/// Significant digits of a literal: `value = int(first nd of them) × 10^e0`.
struct Digits {
    /// The first (up to) 19 significant digits as an integer (trailing zeros included).
    w: u64,
    /// How many significant digits (from the first nonzero to the end of the digits).
    sig: usize,
    /// Up to the last nonzero digit.
    nd: usize,
    e0: i64,
}

fn digits_of(raw: &[u8]) -> usize {
    raw.iter().position(|c| !c.is_ascii_digit()).unwrap_or(raw.len())
}

impl<'a> Literal<'a> {
    /// `None` for anything but JSON's number grammar (leading zeros are not checked: the
    /// scanner did; they read as the same value).
    fn split(raw: &'a [u8]) -> Option<Self> {
        let (neg, rest) = match raw.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, raw),
        };
        let n = digits_of(rest);
        let (int, mut rest) = rest.split_at(n);
        if int.is_empty() {
            return None;
        }
        let mut frac: &[u8] = &[];
        if let Some((b'.', r)) = rest.split_first() {
            let n = digits_of(r);
            if n == 0 {
                return None;
            }
            (frac, rest) = r.split_at(n);
        }
        let mut exp: i64 = 0;
        if let Some((b'e' | b'E', r)) = rest.split_first() {
            let (eneg, r) = match r.split_first() {
                Some((b'-', r)) => (true, r),
                Some((b'+', r)) => (false, r),
                _ => (false, r),
            };
            let n = digits_of(r);
            if n == 0 {
                return None;
            }
            for &c in &r[..n] {
                exp = (exp * 10 + i64::from(c - b'0')).min(1 << 40);
            }
            if eneg {
                exp = -exp;
            }
            rest = &r[n..];
        }
        rest.is_empty().then_some(Literal { neg, int, frac, exp })
    }

    fn digits(&self) -> impl Iterator<Item = u8> + '_ {
        self.int.iter().chain(self.frac).map(|c| c.wrapping_sub(b'0'))
    }

    fn significant(&self) -> Digits {
        let (mut w, mut sig, mut nd) = (0u64, 0usize, 0usize);
        for d in self.digits() {
            if sig == 0 && d == 0 {
                continue;
            }
            sig += 1;
            if d != 0 {
                nd = sig;
            }
            if sig <= 19 {
                w = w * 10 + u64::from(d); // < 10^19 < 2^64
            }
        }
        let e0 = self.exp.saturating_sub(len_i64(self.frac.len())).saturating_add(len_i64(sig - nd));
        Digits { w, sig, nd, e0 }
    }

    fn value(&self) -> f64 {
        let d = self.significant();
        let x = if d.nd == 0 {
            0.0
        } else {
            // The first 19 digits times 10^(e0 - (kept - nd)) are the value exactly when no nonzero
            // digit is beyond them.
            let kept = d.sig.min(19);
            let fast = if d.nd <= kept { clinger(d.w, d.e0.saturating_sub(len_i64(kept - d.nd))) } else { None };
            fast.unwrap_or_else(|| exact(self.digits().skip_while(|&c| c == 0), d.nd, d.e0))
        };
        if self.neg {
            -x
        } else {
            x
        }
    }
}

fn len_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A JSON number literal's double (`JSON.parse`), correctly rounded; NaN if `raw` is not one.
pub fn parse(raw: &str) -> f64 {
    let b = raw.as_bytes();
    short(b).unwrap_or_else(|| Literal::split(b).map_or(f64::NAN, |l| l.value()))
}

/// Most literals (ids, prices, versions): at most 19 digits, so their integer is exact in a u64,
/// read in one pass for Clinger's path. `None` for anything else (the general reader decides).
#[inline]
fn short(b: &[u8]) -> Option<f64> {
    let neg = b.first() == Some(&b'-');
    let mut i = usize::from(neg);
    let mut w = 0u64;
    // (a fn, not a closure: at opt-level z a closure is a call per literal part)
    #[inline(always)]
    fn digits(b: &[u8], i: &mut usize, w: &mut u64) -> usize {
        let from = *i;
        while let Some(d) = b.get(*i).map(|c| c.wrapping_sub(b'0')).filter(|d| *d <= 9) {
            *w = w.wrapping_mul(10).wrapping_add(u64::from(d));
            *i += 1;
        }
        *i - from
    }
    let int = digits(b, &mut i, &mut w);
    if i == b.len() {
        // an integer: u64 → f64 rounds to nearest, ties to even
        return (int > 0 && int <= 19).then(|| if neg { -(w as f64) } else { w as f64 });
    }
    let mut frac = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac = digits(b, &mut i, &mut w);
        if frac == 0 {
            return None;
        }
    }
    if int == 0 || int + frac > 19 {
        return None;
    }
    let mut exp = 0i64;
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        let eneg = b.get(i) == Some(&b'-');
        i += usize::from(matches!(b.get(i), Some(b'-' | b'+')));
        let mut e = 0u64;
        let n = digits(b, &mut i, &mut e);
        if n == 0 || n > 4 {
            return None;
        }
        exp = if eneg { -(e as i64) } else { e as i64 };
    }
    if i != b.len() {
        return None;
    }
    let x = clinger(w, exp - frac as i64)?;
    Some(if neg { -x } else { x })
}

/// 10^k for 0 ≤ k ≤ 22, exactly (10^19 fits a u64; 10^22 = 10^19 × 10^3, both exact doubles).
fn pow10(k: i64) -> f64 {
    let k = k.clamp(0, 22) as u32;
    if k <= 19 {
        10u64.pow(k) as f64
    } else {
        10u64.pow(19) as f64 * 10u64.pow(k - 19) as f64
    }
}

/// Clinger's fast path: `w × 10^e` when `w` and `10^|e|` are exact doubles (one rounding).
fn clinger(w: u64, e: i64) -> Option<f64> {
    const EXACT: u64 = 1 << 53;
    if e == 0 {
        return Some(w as f64); // u64 → f64 rounds to nearest, ties to even
    }
    if w > EXACT {
        return None;
    }
    match e {
        -22..=-1 => Some(w as f64 / pow10(-e)),
        1..=22 => Some(w as f64 * pow10(e)),
        23..=37 => {
            // 1e30 and the like: move the extra zeros into w while it stays exact.
            let s = w.checked_mul(10u64.checked_pow((e - 22) as u32)?)?;
            (s <= EXACT).then(|| s as f64 * pow10(22))
        }
        _ => None,
    }
}

/// Digits kept exactly before the rest becomes a sticky `5` (any count ≥ 768 decides ties right).
const MAX_DIGITS: usize = 800;

/// `int(digits[..nd]) × 10^e0` correctly rounded, with big integers. `digits` starts at the first
/// nonzero digit; `nd ≥ 1`.
fn exact(mut digits: impl Iterator<Item = u8>, nd: usize, e0: i64) -> f64 {
    // value ∈ [10^(mag-1), 10^mag)
    let mag = len_i64(nd).saturating_add(e0);
    if mag > 310 {
        return f64::INFINITY;
    }
    if mag < -324 {
        return 0.0; // below 10^-324, under half the least subnormal
    }
    let take = nd.min(MAX_DIGITS);
    let mut big: Vec<u32> = Vec::with_capacity(take / 9 + 3);
    let mut left = take;
    while left > 0 {
        let n = left.min(9);
        let mut chunk = 0u32;
        for _ in 0..n {
            chunk = chunk * 10 + u32::from(digits.next().unwrap_or(0));
        }
        mul_small(&mut big, 10u32.pow(n as u32));
        add_small(&mut big, chunk);
        left -= n;
    }
    // e stays within [-1126, 310]: mag is in range and at most MAX_DIGITS + 1 digits are kept.
    let mut e = mag - len_i64(take);
    if nd > take {
        mul_small(&mut big, 10);
        add_small(&mut big, 5);
        e -= 1;
    }
    if e >= 0 {
        mul_pow5(&mut big, e as u32);
        let l = bitlen(&big);
        if l <= 64 {
            return assemble(low_u64(&big), false, e);
        }
        let shift = l - 64;
        let sticky = low_bits_nonzero(&big, shift);
        shr(&mut big, shift);
        return assemble(low_u64(&big), sticky, e + shift as i64);
    }
    // value = big / (5^k 2^k): scale so that big / 5^k has 55 bits, then divide bit by bit.
    let k = (-e) as u32;
    let mut b = vec![1u32];
    mul_pow5(&mut b, k);
    let s = 55 + bitlen(&b) as i64 - bitlen(&big) as i64;
    if s >= 0 {
        shl(&mut big, s as u64);
    } else {
        shl(&mut b, (-s) as u64);
    }
    // big / b ∈ (2^54, 2^56)
    let q = quotient(&mut big, &b);
    assemble(q, !big.is_empty(), -s - i64::from(k))
}

/// `num / den` for `den > 0` and a quotient below 2^64 (callers scale `num` so); `num` becomes
/// the remainder. The quotient of the top 128 bits of `num` by the top 64 of `den` (aligned) is
/// the true one or up to 2 above it, corrected by subtracting.
fn quotient(num: &mut Vec<u32>, den: &[u32]) -> u64 {
    let s = bitlen(den).saturating_sub(64);
    // the low 128 bits of a >> s
    let top = |a: &[u32]| -> u128 {
        let (w, b) = ((s / 32) as usize, (s % 32) as u32);
        let limb = |i: usize| u64::from(a.get(w + i).copied().unwrap_or(0));
        (0..4).rev().fold(0u128, |acc, i| (acc << 32) | u128::from(((limb(i) | (limb(i + 1) << 32)) >> b) as u32))
    };
    let den_top = top(den) as u64; // 2^63 ≤ den_top < 2^64 when s > 0
    let n = top(num);
    let mut q = div_128_64((n >> 64) as u64, n as u64, den_top.max(1));
    let mut prod = mul_u64(den, q);
    while cmp(&prod, num) == core::cmp::Ordering::Greater && q > 0 {
        sub_assign(&mut prod, den);
        q -= 1;
    }
    sub_assign(num, &prod);
    q
}

/// `(hi·2^64 + lo) / v` for `v > 0`, `u64::MAX` when the quotient does not fit, by two steps of
/// 32-bit digits on 64-bit words (Hacker's Delight `divlu`, Knuth's algorithm D for a two-digit
/// quotient), so no 128-bit division (compiler-builtins' `u128_div_rem`, ~1 KB of wasm) is linked.
fn div_128_64(hi: u64, lo: u64, v: u64) -> u64 {
    if hi >= v {
        return u64::MAX;
    }
    const B: u64 = 1 << 32;
    let s = v.leading_zeros();
    let v = v << s; // normalized: its top bit set
    let (vn1, vn0) = (v >> 32, v & (B - 1));
    // hi < v, so the shifted-out bits of `hi` are zero and un32 < v.
    let un32 = if s == 0 { hi } else { (hi << s) | (lo >> (64 - s)) };
    let un10 = lo << s;
    let (un1, un0) = (un10 >> 32, un10 & (B - 1));
    // One 32-bit digit of the quotient of `u` (< v·2^32) by `v`, and `u·2^32 + low − digit·v`.
    let digit = |u: u64, low: u64| -> (u64, u64) {
        let mut q = u / vn1;
        let mut r = u - q * vn1;
        while q >= B || q * vn0 > (r << 32 | low) {
            q -= 1;
            r += vn1;
            if r >= B {
                break;
            }
        }
        (q, (u << 32 | low).wrapping_sub(q.wrapping_mul(v)))
    };
    let (q1, un21) = digit(un32, un1);
    let (q0, _) = digit(un21, un0);
    q1 << 32 | q0
}

/// `a × m`.
fn mul_u64(a: &[u32], m: u64) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len() + 2);
    let mut carry = 0u128;
    for &limb in a {
        let t = u128::from(limb) * u128::from(m) + carry;
        out.push(t as u32);
        carry = t >> 32;
    }
    while carry > 0 {
        out.push(carry as u32);
        carry >>= 32;
    }
    trim(&mut out);
    out
}

/// The double nearest `(q + f) × 2^e2`, ties to even, where `f ∈ [0, 1)` is nonzero iff `sticky`
/// (callers give `q` at least 54 bits whenever `sticky`).
fn assemble(q: u64, sticky: bool, e2: i64) -> f64 {
    if q == 0 {
        return 0.0;
    }
    let l = i64::from(64 - q.leading_zeros());
    // Bits of q below the double's last mantissa bit (53 kept; fewer as a subnormal).
    let drop = (l - 53).max(-1074 - e2);
    let (mut m, mut ex) = if drop > 0 {
        if drop > l {
            return 0.0; // under half the least subnormal
        }
        let d = drop as u32; // 1 ..= 64
        let wide = u128::from(q);
        let kept = wide >> d;
        let rem = wide & ((1u128 << d) - 1);
        let half = 1u128 << (d - 1);
        let up = rem > half || (rem == half && (sticky || kept & 1 == 1));
        ((kept as u64) + u64::from(up), e2 + drop)
    } else {
        let t = (-drop) as u32; // ≤ 52
        (q << t, e2 - i64::from(t))
    };
    if m >= 1 << 53 {
        m >>= 1;
        ex += 1;
    }
    if m < 1 << 52 {
        return f64::from_bits(m); // subnormal: ex is -1074 here
    }
    let biased = ex + 52 + 1023;
    if biased >= 2047 {
        return f64::INFINITY;
    }
    f64::from_bits(((biased as u64) << 52) | (m & ((1 << 52) - 1)))
}

// ---- big unsigned integers: little-endian u32 limbs, no high zero limb ----

fn mul_small(a: &mut Vec<u32>, m: u32) {
    let mut carry = 0u64;
    for limb in a.iter_mut() {
        let t = u64::from(*limb) * u64::from(m) + carry;
        *limb = t as u32;
        carry = t >> 32;
    }
    if carry > 0 {
        a.push(carry as u32);
    }
    trim(a);
}

fn add_small(a: &mut Vec<u32>, v: u32) {
    let mut carry = u64::from(v);
    for limb in a.iter_mut() {
        if carry == 0 {
            return;
        }
        let t = u64::from(*limb) + carry;
        *limb = t as u32;
        carry = t >> 32;
    }
    if carry > 0 {
        a.push(carry as u32);
    }
}

fn mul_pow5(a: &mut Vec<u32>, mut k: u32) {
    const P13: u32 = 1_220_703_125; // 5^13, the largest power of 5 in a u32
    a.reserve(k as usize * 7 / 96 + 2); // 5^k has k log2(5) < 2.33 k bits
    while k >= 13 {
        mul_small(a, P13);
        k -= 13;
    }
    if k > 0 {
        mul_small(a, 5u32.pow(k));
    }
}

fn trim(a: &mut Vec<u32>) {
    while a.last() == Some(&0) {
        a.pop();
    }
}

fn bitlen(a: &[u32]) -> u64 {
    a.last().map_or(0, |top| (a.len() as u64 - 1) * 32 + u64::from(32 - top.leading_zeros()))
}

fn low_u64(a: &[u32]) -> u64 {
    let lo = a.first().copied().map_or(0, u64::from);
    let hi = a.get(1).copied().map_or(0, u64::from);
    lo | (hi << 32)
}

fn low_bits_nonzero(a: &[u32], bits: u64) -> bool {
    let whole = (bits / 32) as usize;
    let part = (bits % 32) as u32;
    a.iter().take(whole).any(|&l| l != 0) || (part > 0 && a.get(whole).is_some_and(|&l| l & ((1 << part) - 1) != 0))
}

fn shl(a: &mut Vec<u32>, bits: u64) {
    if a.is_empty() || bits == 0 {
        return;
    }
    let whole = (bits / 32) as usize;
    let part = (bits % 32) as u32;
    a.reserve(whole + 1);
    if part > 0 {
        let mut carry = 0u32;
        for limb in a.iter_mut() {
            let v = *limb;
            *limb = (v << part) | carry;
            carry = v >> (32 - part);
        }
        if carry > 0 {
            a.push(carry);
        }
    }
    if whole > 0 {
        let len = a.len();
        a.resize(len + whole, 0);
        a.copy_within(0..len, whole);
        a[..whole].fill(0);
    }
}

fn shr(a: &mut Vec<u32>, bits: u64) {
    let whole = usize::try_from(bits / 32).unwrap_or(usize::MAX).min(a.len());
    let part = (bits % 32) as u32;
    a.drain(..whole);
    if part > 0 {
        let mut carry = 0u32;
        for limb in a.iter_mut().rev() {
            let v = *limb;
            *limb = (v >> part) | carry;
            carry = v << (32 - part);
        }
    }
    trim(a);
}

fn cmp(a: &[u32], b: &[u32]) -> core::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.iter().rev().cmp(b.iter().rev()))
}

/// `a -= b` for `a ≥ b`.
fn sub_assign(a: &mut Vec<u32>, b: &[u32]) {
    let mut borrow = 0i64;
    for (i, limb) in a.iter_mut().enumerate() {
        let t = i64::from(*limb) - i64::from(b.get(i).copied().unwrap_or(0)) - borrow;
        borrow = i64::from(t < 0);
        *limb = t.rem_euclid(1 << 32) as u32;
    }
    trim(a);
}

// ---- printing ----

/// Where a value lies between two consecutive decimals of some length: on the lower one, below,
/// on or above the midpoint.
#[derive(Clone, Copy, PartialEq)]
enum Rest {
    Zero,
    Below,
    Half,
    Above,
}

/// `floor(x × 10^t)` for `x = m × 2^e`, if below 2^64, and where the rest lies.
fn scaled(m: u64, e: i64, t: i64) -> Option<(u64, Rest)> {
    // x × 10^t = m × 5^t × 2^(e + t)
    let mut num = vec![m as u32, (m >> 32) as u32];
    trim(&mut num);
    let mut den = vec![1u32];
    if t >= 0 {
        mul_pow5(&mut num, t as u32);
    } else {
        mul_pow5(&mut den, (-t) as u32);
    }
    let p2 = e + t;
    if p2 >= 0 {
        shl(&mut num, p2 as u64);
    } else {
        shl(&mut den, (-p2) as u64);
    }
    if bitlen(&num) > bitlen(&den) + 63 {
        return None;
    }
    let q = quotient(&mut num, &den);
    let rest = if num.is_empty() {
        Rest::Zero
    } else {
        shl(&mut num, 1);
        match cmp(&num, &den) {
            core::cmp::Ordering::Less => Rest::Below,
            core::cmp::Ordering::Equal => Rest::Half,
            core::cmp::Ordering::Greater => Rest::Above,
        }
    };
    Some((q, rest))
}

/// `w × 10^e` read as a literal would be (through the literal reader: one copy of the code).
fn read(w: u64, e: i64) -> f64 {
    let mut buf = [0u8; 20];
    let from = ascii(&mut buf, w);
    Literal { neg: false, int: &buf[from..], frac: &[], exp: e }.value()
}

/// The shortest digits that read back to `x` (finite, > 0), the closest of them, the even one on
/// a tie: `(s, n)` with `x ≈ 0.s × 10^n`, `s` without trailing zeros.
fn shortest(x: f64) -> (u64, i64) {
    const E16: u64 = 10_000_000_000_000_000;
    let bits = x.to_bits();
    let biased = (bits >> 52) & 0x7ff;
    let frac = bits & ((1 << 52) - 1);
    let (m, e) = if biased == 0 { (frac, -1074i64) } else { (frac | (1 << 52), biased as i64 - 1075) };
    // x ∈ [2^p2, 2^(p2+1)); n = floor(log10 x) + 1, estimated (1233 / 4096 ≈ log10 2), then fixed
    // so that the first 17 digits d satisfy 10^16 ≤ d < 10^17.
    let p2 = e + i64::from(63 - m.leading_zeros() as i32);
    let mut n = ((p2 * 1233) >> 12) + 1;
    let (mut d, mut rest) = (0u64, Rest::Zero);
    for _ in 0..4 {
        match scaled(m, e, 17 - n) {
            Some((q, r)) if q < E16 => {
                n -= 1;
                (d, rest) = (q, r);
            }
            Some((q, r)) if q < 10 * E16 => {
                (d, rest) = (q, r);
                break;
            }
            _ => n += 1,
        }
    }
    // A normal double's shortest digits are 15 or fewer exactly when one of the two 15-digit
    // decimals around it reads back (two such decimals are more than an ulp apart).
    let first = if biased == 0 { 1 } else { 15 };
    let mut p = 10u64.pow(17 - first as u32);
    for k in first..=17i64 {
        let (fl, low) = (d / p, d % p);
        let here = if p == 1 {
            rest
        } else {
            let half = p / 2;
            match low.cmp(&half) {
                core::cmp::Ordering::Greater => Rest::Above,
                core::cmp::Ordering::Less if low == 0 && rest == Rest::Zero => Rest::Zero,
                core::cmp::Ordering::Less => Rest::Below,
                core::cmp::Ordering::Equal if rest == Rest::Zero => Rest::Half,
                core::cmp::Ordering::Equal => Rest::Above,
            }
        };
        if here == Rest::Zero {
            return trim_zeros(fl, n);
        }
        let up = fl + 1;
        let up_n = if up == 10u64.pow(k as u32) { n + 1 } else { n };
        let floor = (fl, n - k);
        let ceil = if up_n > n { (up / 10, up_n - k) } else { (up, n - k) };
        let above = here == Rest::Above || (here == Rest::Half && fl % 2 == 1);
        let (near, far) = if above { (ceil, floor) } else { (floor, ceil) };
        // 17 digits always read back
        if k == 17 || read(near.0, near.1).to_bits() == bits {
            return trim_zeros(near.0, near.1 + k);
        }
        if read(far.0, far.1).to_bits() == bits {
            return trim_zeros(far.0, far.1 + k);
        }
        p /= 10;
    }
    trim_zeros(d, n)
}

fn trim_zeros(mut s: u64, n: i64) -> (u64, i64) {
    while s >= 10 && s.is_multiple_of(10) {
        s /= 10;
    }
    (s, n)
}

/// The ASCII digits of `s > 0`, into the end of `buf`; returns where they start.
fn ascii(buf: &mut [u8; 20], mut s: u64) -> usize {
    let mut i = buf.len();
    while i > 0 {
        i -= 1;
        buf[i] = b'0' + (s % 10) as u8;
        s /= 10;
        if s == 0 {
            break;
        }
    }
    i
}

/// ECMAScript's layout of `sign 0.digits × 10^n`: plain up to 21 integer digits, `0.000001`-style
/// down to 10^-6, else `d.ddde±x`.
fn layout(out: &mut String, neg: bool, digits: &[u8], n: i64) {
    let k = len_i64(digits.len());
    if neg {
        out.push('-');
    }
    let push = |out: &mut String, d: &[u8]| d.iter().for_each(|&c| out.push(char::from(c)));
    if k <= n && n <= 21 {
        push(out, digits);
        (k..n).for_each(|_| out.push('0'));
    } else if 0 < n && n <= 21 {
        let (a, b) = digits.split_at(n as usize);
        push(out, a);
        out.push('.');
        push(out, b);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        (n..0).for_each(|_| out.push('0'));
        push(out, digits);
    } else {
        let (a, b) = digits.split_at(1.min(digits.len()));
        push(out, a);
        if !b.is_empty() {
            out.push('.');
            push(out, b);
        }
        out.push_str(if n >= 1 { "e+" } else { "e-" });
        push_uint(out, (n - 1).unsigned_abs());
    }
}

/// `Number::toString(x)` appended to `out`: `0` for ±0, `null` for a non-finite value (what
/// `JSON.stringify` writes; JSON never holds one).
pub fn write_js(out: &mut String, x: f64) {
    if x == 0.0 {
        out.push('0');
    } else if !x.is_finite() {
        out.push_str("null");
    } else {
        let (s, n) = shortest(x.abs());
        let mut buf = [0u8; 20];
        let from = ascii(&mut buf, s);
        layout(out, x < 0.0, &buf[from..], n);
    }
}

/// `Number::toString` of a JSON number literal's value, appended to `out`; without a double when
/// the literal has at most 15 significant digits and lies in the normal range.
pub fn write_js_text(out: &mut String, raw: &str) {
    let Some(lit) = Literal::split(raw.as_bytes()) else {
        return write_js(out, f64::NAN);
    };
    let d = lit.significant();
    if d.nd == 0 {
        out.push('0');
        return;
    }
    let n = len_i64(d.nd).saturating_add(d.e0);
    if d.nd <= 15 && (-306..=308).contains(&n) {
        let mut buf = [0u8; 15];
        for (slot, c) in buf.iter_mut().zip(lit.digits().skip_while(|&c| c == 0)) {
            *slot = b'0' + c;
        }
        layout(out, lit.neg, &buf[..d.nd], n);
    } else {
        write_js(out, lit.value());
    }
}

#[cfg(test)]
mod div_tests {
    use super::div_128_64;

    /// Against `u128` division on edge cases and 2 M pseudo-random operands of every divisor width.
    #[test]
    fn div_128_64_is_u128_division() {
        let check = |hi: u64, lo: u64, v: u64| {
            let want = ((u128::from(hi) << 64 | u128::from(lo)) / u128::from(v)).try_into().unwrap_or(u64::MAX);
            assert_eq!(div_128_64(hi, lo, v), want, "{hi:#x}:{lo:#x} / {v:#x}");
        };
        for v in [1, 2, 3, (1 << 32) - 1, 1 << 32, (1 << 32) + 1, 1 << 63, u64::MAX, u64::MAX - 1] {
            for hi in [0, 1, v.saturating_sub(1), v, v / 2, u64::MAX] {
                for lo in [0, 1, u64::MAX, 1 << 63, (1 << 32) - 1] {
                    check(hi, lo, v);
                }
            }
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for i in 0..2_000_000u32 {
            let v = (next() >> (i % 64)).max(1);
            let hi = next() % v; // a quotient that fits, mostly
            let hi = if i % 16 == 0 { next() } else { hi };
            check(hi, next(), v);
        }
    }
}
