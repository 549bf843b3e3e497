//! Numbers (`num.rs`, no tables) against their oracles, as `tests/num_differential.rs` checks them:
//! the input read as text (any bytes: no panic; a JSON number literal, or what else `num::parse`
//! reads (leading zeros): the same double as
//! `str::parse::<f64>` and the same `Number::toString` as the zmij printer `num.rs` replaced), and
//! each 8 bytes as a double's bits (printed as the old printer did, read back to the same double).
#![no_main]
use libfuzzer_sys::fuzz_target;
use querywire_core::num;

#[path = "../../tests/num_support/mod.rs"]
mod num_support;
use num_support::{check_double, check_text, Counts};

/// JSON's number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn is_json_number(s: &[u8]) -> bool {
    let mut i = usize::from(s.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let from = *i;
        while s.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - from
    };
    let int_from = i;
    let n = digits(&mut i);
    if n == 0 || (n > 1 && s[int_from] == b'0') {
        return false;
    }
    if s.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(s.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == s.len()
}

fuzz_target!(|data: &[u8]| {
    let mut c = Counts::default();
    if let Ok(text) = std::str::from_utf8(data) {
        let x = num::parse(text);
        let mut out = String::new();
        num::write_js_text(&mut out, text);
        if is_json_number(data) || !x.is_nan() {
            // (num::parse also reads leading zeros, `00.1`, as `str::parse` does: the scanner rejects them.)
            check_text(text, &mut c);
        } else {
            assert_eq!(out, "null");
        }
    }
    for chunk in data.chunks_exact(8) {
        let x = f64::from_bits(u64::from_le_bytes(chunk.try_into().unwrap()));
        if x.is_finite() {
            check_double(x, &mut c);
        }
    }
});
