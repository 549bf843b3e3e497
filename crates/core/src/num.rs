//! Numbers exactly as JavaScript reads and prints them, without power-of-ten tables.
//!
//! - [`parse`]: a JSON number literal's double, correctly rounded (what `JSON.parse` and
//!   `str::parse::<f64>` return: overflow is infinity, subnormals and `-0` as IEEE rounds them).
//!   Short literals take Clinger's exact fast path (at most 19 significant digits forming an
//!   integer ≤ 2^53, times or divided by 10^e with |e| ≤ 22, both exact doubles, so one IEEE
//!   operation rounds correctly); the rest are rounded exactly with big integers: the decimal's
//!   first 800 significant digits (a 9th-digit `5` stands for any nonzero rest: no midpoint between
//!   doubles has more than 767 significant digits, so it decides every tie as the full text would),
//!   times 5^e, or divided by 5^-e with a 56-bit quotient and a sticky remainder.
//! - [`write_js`]: ECMAScript `Number::toString` (the fewest digits that read back to the double,
//!   the closest of them, the even one on a tie), from the double's exact decimal expansion: the
//!   two k-digit decimals around it, for k = 15, 16, 17 (1 ..= 17 for subnormals), each read back
//!   with [`parse`]. [`write_js_text`] prints a literal's value and skips the double when the
//!   literal has at most 15 significant digits in the normal range: then no other decimal of 15
//!   digits or fewer reads to the same double (they are more than an ulp apart), so its own digits,
//!   normalized, are the shortest.
//!
//! Nothing here indexes past a bound or overflows on any input: exponents saturate, digit counts
//! are capped before they reach the big integers.

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
    /// The first (up to) 19 significant digits as an integer.
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
    Literal::split(raw.as_bytes()).map_or(f64::NAN, |l| l.value())
}

/// 10^k for k ≤ 22: every step is an exact double (5^22 < 2^53).
fn pow10(k: i64) -> f64 {
    let mut p = 1.0;
    for _ in 0..k {
        p *= 10.0;
    }
    p
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
    shl(&mut b, 55);
    let mut q = 0u64;
    for i in (0..56).rev() {
        if cmp(&big, &b) != core::cmp::Ordering::Less {
            sub_assign(&mut big, &b);
            q |= 1 << i;
        }
        shr(&mut b, 1);
    }
    assemble(q, !big.is_empty(), -s - i64::from(k))
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
        a.splice(0..0, core::iter::repeat_n(0, whole));
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

/// `a / d` in place, returning the remainder.
fn divmod_small(a: &mut Vec<u32>, d: u32) -> u32 {
    let mut rem = 0u64;
    for limb in a.iter_mut().rev() {
        let t = (rem << 32) | u64::from(*limb);
        *limb = (t / u64::from(d)) as u32;
        rem = t % u64::from(d);
    }
    trim(a);
    rem as u32
}

/// The decimal digits (ASCII) of `a > 0`.
fn decimal(mut a: Vec<u32>) -> Vec<u8> {
    let mut chunks = Vec::with_capacity(a.len() * 32 / 29 + 1);
    while !a.is_empty() {
        chunks.push(divmod_small(&mut a, 1_000_000_000));
    }
    let mut out = Vec::with_capacity(chunks.len() * 9);
    for (i, &c) in chunks.iter().rev().enumerate() {
        let mut buf = [b'0'; 9];
        let mut v = c;
        for slot in buf.iter_mut().rev() {
            *slot = b'0' + (v % 10) as u8;
            v /= 10;
        }
        let from = if i == 0 { buf.iter().position(|&d| d != b'0').unwrap_or(8) } else { 0 };
        out.extend_from_slice(&buf[from..]);
    }
    out
}

// ---- printing ----

/// Up to 17 digits (ASCII, no trailing zero) and the point: `value = 0.digits × 10^n`.
struct Decimal {
    buf: [u8; 17],
    len: usize,
    n: i64,
}

impl Decimal {
    fn new(digits: &[u8], n: i64) -> Self {
        let mut buf = [b'0'; 17];
        let len = digits.len().min(17);
        buf[..len].copy_from_slice(&digits[..len]);
        let mut d = Decimal { buf, len, n };
        while d.len > 1 && d.buf[d.len - 1] == b'0' {
            d.len -= 1;
        }
        d
    }

    fn digits(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Whether this decimal reads back to `x`.
    fn reads_to(&self, x: f64) -> bool {
        let lit = Literal { neg: false, int: self.digits(), frac: &[], exp: self.n - len_i64(self.len) };
        lit.value().to_bits() == x.to_bits()
    }
}

/// The shortest digits that read back to `x` (finite, > 0), the closest of them, even on a tie.
fn shortest(x: f64) -> Decimal {
    let bits = x.to_bits();
    let biased = (bits >> 52) & 0x7ff;
    let frac = bits & ((1 << 52) - 1);
    let (m, e) = if biased == 0 { (frac, -1074i64) } else { (frac | (1 << 52), biased as i64 - 1075) };
    let mut big = vec![m as u32, (m >> 32) as u32];
    trim(&mut big);
    if e >= 0 {
        shl(&mut big, e as u64);
    } else {
        mul_pow5(&mut big, (-e) as u32); // m × 2^e = m × 5^-e × 10^e
    }
    let full = decimal(big);
    let n = len_i64(full.len()) + e.min(0);
    let sig = full.iter().rposition(|&d| d != b'0').map_or(1, |p| p + 1);
    // A normal double's shortest digits are 15 or fewer exactly when one of the two 15-digit
    // decimals around it reads back (two such decimals are more than an ulp apart).
    let first = if biased == 0 { 1 } else { 15 };
    for k in first..=17usize {
        if sig <= k {
            return Decimal::new(&full[..sig], n);
        }
        let floor = Decimal::new(&full[..k], n);
        let mut up = [b'0'; 17];
        up[..k].copy_from_slice(&full[..k]);
        let mut up_n = n;
        match up[..k].iter().rposition(|&d| d != b'9') {
            Some(p) => {
                up[p] += 1;
                up[p + 1..k].fill(b'0');
            }
            None => {
                up[..k].fill(b'0');
                up[0] = b'1';
                up_n += 1;
            }
        }
        let ceil = Decimal::new(&up[..k], up_n);
        let rest = &full[k..];
        let above = match rest.first().copied().unwrap_or(b'0').cmp(&b'5') {
            core::cmp::Ordering::Greater => true,
            core::cmp::Ordering::Less => false,
            core::cmp::Ordering::Equal => rest[1..].iter().any(|&d| d != b'0') || (full[k - 1] - b'0') % 2 == 1,
        };
        let (near, far) = if above { (ceil, floor) } else { (floor, ceil) };
        if near.reads_to(x) || k == 17 {
            return near; // 17 digits always read back
        }
        if far.reads_to(x) {
            return far;
        }
    }
    Decimal::new(&full[..sig.min(17)], n)
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
        let d = shortest(x.abs());
        layout(out, x < 0.0, d.digits(), d.n);
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
