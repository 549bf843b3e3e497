//! The differential check of `num.rs` (table-free number reading and printing) against its oracles,
//! shared by `tests/num_differential.rs` (a few hundred thousand seeded cases under `cargo test`)
//! and `examples/numdiff.rs` (tens of millions): `str::parse::<f64>` for reading, and the printer
//! `num.rs` replaced (zmij's shortest digits in ECMAScript's layout, checked against V8's
//! `Number#toString` on 4 million doubles) for printing.
#![allow(dead_code)]

use querywire_core::num;

/// splitmix64: seeded, deterministic.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
    fn digit(&mut self) -> u8 {
        b'0' + self.below(10) as u8
    }
}

/// The printer `num::write_js` replaced: zmij's digits read back generically, ECMAScript's layout.
pub fn oracle_js(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    if !x.is_finite() {
        return "null".into();
    }
    let neg = x < 0.0;
    let mut buf = zmij::Buffer::new();
    let printed = buf.format_finite(x.abs());
    let (mant, exp) = printed.split_once(['e', 'E']).unwrap_or((printed, "0"));
    let int_len = mant.find('.').unwrap_or(mant.len()) as i32;
    let all = mant.replace('.', "");
    let trimmed = all.trim_start_matches('0');
    let n = int_len + exp.trim_start_matches('+').parse::<i32>().unwrap() - (all.len() - trimmed.len()) as i32;
    let digits = trimmed.trim_end_matches('0');
    let k = digits.len() as i32;
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    if k <= n && n <= 21 {
        s.push_str(digits);
        s.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        s.push_str(&digits[..n as usize]);
        s.push('.');
        s.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        s.push_str("0.");
        s.extend(std::iter::repeat_n('0', (-n) as usize));
        s.push_str(digits);
    } else {
        s.push_str(&digits[..1]);
        if k > 1 {
            s.push('.');
            s.push_str(&digits[1..]);
        }
        s.push_str(if n >= 1 { "e+" } else { "e-" });
        s.push_str(&(n - 1).unsigned_abs().to_string());
    }
    s
}

#[derive(Default, Debug)]
pub struct Counts {
    pub parsed: u64,
    pub printed: u64,
    pub printed_text: u64,
}

/// One JSON number literal: `num::parse` against `str::parse`, `num::write_js_text` against the
/// old printer of `str::parse`'s double.
pub fn check_text(text: &str, c: &mut Counts) {
    let want: f64 = text.parse().unwrap_or_else(|_| panic!("generated a bad literal {text:?}"));
    let got = num::parse(text);
    assert_eq!(got.to_bits(), want.to_bits(), "parse {text:?}: got {got:e}, want {want:e}");
    c.parsed += 1;
    let mut out = String::new();
    num::write_js_text(&mut out, text);
    assert_eq!(out, oracle_js(want), "write_js_text {text:?} ({want:e})");
    c.printed_text += 1;
}

/// One double: `num::write_js` against the old printer, and what it prints reads back.
pub fn check_double(x: f64, c: &mut Counts) {
    let mut out = String::new();
    num::write_js(&mut out, x);
    let want = oracle_js(x);
    assert_eq!(out, want, "write_js {x:e} (bits {:#x})", x.to_bits());
    c.printed += 1;
    if x.is_finite() {
        let json = out.replace("e+", "e");
        check_text(&json, c);
        // Rust's shortest `{:e}` (same digits, another layout).
        check_text(&format!("{x:e}"), c);
    }
}

/// `x`'s exact decimal expansion (up to ~770 significant digits) and its first 17 and 18 digits.
pub fn check_expansion(x: f64, c: &mut Counts) {
    if !x.is_finite() {
        return;
    }
    check_text(&format!("{x:.800e}"), c);
    check_text(&format!("{x:.16e}"), c);
    check_text(&format!("{x:.17e}"), c);
}

/// A random literal in JSON's grammar: 1..=25 digits (sometimes 0..=900), one of the layouts,
/// an exponent from a small, a full or a huge range.
pub fn random_literal(r: &mut Rng) -> String {
    let nd = match r.below(20) {
        0 => r.range(26, 900) as usize,
        1..=4 => r.range(16, 25) as usize,
        _ => r.range(1, 17) as usize,
    };
    let mut digits: Vec<u8> = (0..nd).map(|_| r.digit()).collect();
    if r.below(4) == 0 {
        // long runs of zeros or nines: carries, exact integers, trailing zeros
        let fill = if r.below(2) == 0 { b'0' } else { b'9' };
        let from = r.below(nd as u64) as usize;
        digits[from..].iter_mut().for_each(|d| *d = fill);
        if r.below(2) == 0 {
            if let Some(last) = digits.last_mut() {
                *last = b'1';
            }
        }
    }
    let mut s = String::new();
    if r.below(3) == 0 {
        s.push('-');
    }
    let point = r.below(nd as u64 + 1) as usize;
    let (int, frac) = digits.split_at(point);
    let int = std::str::from_utf8(int).unwrap().trim_start_matches('0');
    if int.is_empty() {
        s.push('0');
    } else {
        s.push_str(int);
    }
    if !frac.is_empty() {
        s.push('.');
        s.push_str(std::str::from_utf8(frac).unwrap());
    }
    if r.below(3) != 0 {
        let exp = match r.below(10) {
            0 => r.range(-400, 400),
            1 => r.range(-99_999_999, 99_999_999),
            2..=5 => r.range(-345, 330),
            _ => r.range(-25, 25),
        };
        s.push(if r.below(2) == 0 { 'e' } else { 'E' });
        if exp >= 0 && r.below(2) == 0 {
            s.push('+');
        }
        s.push_str(&exp.to_string());
    }
    s
}

/// A finite double from a random bit pattern (a quarter of them subnormal or near the ends).
pub fn random_double(r: &mut Rng) -> f64 {
    loop {
        let mut bits = r.next();
        match r.below(8) {
            0 => bits &= 0x800f_ffff_ffff_ffff,                                       // subnormal
            1 => bits = (bits & 0x800f_ffff_ffff_ffff) | (r.below(3) << 52),          // least normals
            2 => bits = (bits & 0x800f_ffff_ffff_ffff) | ((2046 - r.below(3)) << 52), // largest
            _ => {}
        }
        let x = f64::from_bits(bits);
        if x.is_finite() {
            return x;
        }
    }
}

/// The exact decimal of `x ≥ 0` in fixed notation with 1076 decimals (every double's expansion
/// ends by 2^-1074's 1074th decimal; the midpoint of two needs one more).
fn fixed(x: f64) -> Vec<u8> {
    let s = format!("{x:0>1400.1076}");
    s.into_bytes()
}

/// `(a + b) / 2` of two fixed-notation decimals of the same layout.
fn halve_sum(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut sum = vec![0u8; a.len() + 1]; // digit values, most significant first, '.' kept as 255
    let mut carry = 0u8;
    for i in (0..a.len()).rev() {
        if a[i] == b'.' {
            sum[i + 1] = 255;
            continue;
        }
        let t = (a[i] - b'0') + (b[i] - b'0') + carry;
        sum[i + 1] = t % 10;
        carry = t / 10;
    }
    sum[0] = carry;
    let mut out = Vec::with_capacity(sum.len());
    let mut rem = 0u8;
    for &d in &sum {
        if d == 255 {
            out.push(b'.');
            continue;
        }
        let t = rem * 10 + d;
        out.push(b'0' + t / 2);
        rem = t % 2;
    }
    assert_eq!(rem, 0, "1076 decimals hold every midpoint");
    out
}

fn literal_of(fixed: &[u8]) -> String {
    let s = std::str::from_utf8(fixed).unwrap();
    let s = s.trim_start_matches('0');
    let s = if s.starts_with('.') { format!("0{s}") } else { s.to_string() };
    let s = s.trim_end_matches('0');
    s.strip_suffix('.').map_or_else(|| s.to_string(), str::to_string)
}

/// The exact midpoint between `x` and the next double up, and the decimals just below and above
/// it (a nonzero digit hundreds of places further, or one unit less there): hundreds of digits each.
pub fn halfway_literals(x: f64) -> Vec<String> {
    let x = x.abs();
    let y = f64::from_bits(x.to_bits() + 1);
    if !y.is_finite() {
        return Vec::new();
    }
    let mid = halve_sum(&fixed(x), &fixed(y));
    let mut out = Vec::new();
    let exact = literal_of(&mid);
    let mut above = exact.clone();
    if !above.contains('.') {
        above.push('.');
    }
    above.push_str("000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001");
    // Below: the last digit one less, then nines.
    let mut below = exact.clone().into_bytes();
    if let Some(p) = below.iter().rposition(|&d| d.is_ascii_digit() && d != b'0') {
        below[p] -= 1;
        let mut b = String::from_utf8(below).unwrap();
        if !b.contains('.') {
            b.push('.');
        }
        b.push_str("999999999999999999999999999999999999999999999999999999999999999999999999999999999999999");
        out.push(b);
    }
    out.push(exact);
    out.push(above);
    // The same in exponent form, shifted (e.g. 12.5 → 125e-1), tests the exponent arithmetic.
    let e = out.last().unwrap().clone();
    if let Some((i, f)) = e.split_once('.') {
        out.push(format!("{i}{f}e-{}", f.len()));
    }
    out
}

/// Literals no generator above reaches: huge exponents, zeros, the ends of the range.
pub const EDGES: &[&str] = &[
    "0", "-0", "0.0", "-0.0", "0e0", "-0e-0", "0E+5", "0e99999999999999999999999", "-0.000e-99999999999999",
    "1e999999999999999999999", "-1e999999999999999999999", "1e-999999999999999999999", "-1e-999999999999999999999",
    "1e308", "1e309", "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308",
    "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174",
    "2.2250738585072011e-308", "2.2250738585072012e-308", "2.2250738585072014e-308", "2.225073858507201e-308",
    "4.9406564584124654e-324", "5e-324", "2.4703282292062327e-324", "2.4703282292062328e-324", "2.47032822920623272e-324",
    "1e-324", "3e-324", "7.4109846876186982e-324", "1e-400", "-1e-400",
    "9007199254740992", "9007199254740993", "9007199254740994", "9007199254740995", "18446744073709551615",
    "18446744073709551616", "123456789012345678901234567890", "0.1", "0.2", "0.3", "0.30000000000000004",
    "1e21", "1e-7", "123e18", "123e19", "1.5e-6", "1.5e-7", "100000000000000000000", "1000000000000000000000",
    "2127068055017.90625", "9.999999999999999e22", "1e22", "1e23", "8.98846567431158e307", "1448997445238699",
    "0.000001", "0.0000001", "1e-6", "4.35679e-7", "1234567890123456789e-5", "1e+0", "1E-0", "-5",
];
