//! Query keys: TanStack Query's `hashKey` and `partialMatchKey`, ported exactly.
//!
//! The shim matches our keys against the QueryClient's `query.queryHash`, so one byte of difference
//! between our hash and TanStack's would silently miss a query and leave it stale. That is why this
//! is a port of `JSON.stringify` with TanStack's replacer, not `serde_json::to_string`: JS number
//! formatting (`1e+21`, `10000000000000000`), integer-like object keys ordered first, and the other
//! keys sorted by UTF-16 code units. `tests/fixtures/keys.json` holds keys and the hashes that
//! `@tanstack/query-core` itself produced; the Rust and the JS test suites both check it.

use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::fmt::Write;

/// A query key as TanStack sees it: a JSON array (kept as a `Value` so objects and numbers survive).
pub type QueryKey = Value;

/// TanStack's `hashKey(queryKey)`: `JSON.stringify` with plain-object keys sorted.
pub fn hash_key(key: &Value) -> String {
    let mut out = String::with_capacity(64);
    write_value(&mut out, key);
    out
}

fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, k) in js_key_order(map).into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                // The key came from this map, so the lookup cannot miss.
                if let Some(val) = map.get(k) {
                    write_value(out, val);
                }
            }
            out.push('}');
        }
    }
}

/// The order in which a JS engine enumerates an object built by inserting `keys.sort()`:
/// array-index keys first in numeric order, then the rest in sort order (UTF-16 code units).
fn js_key_order(map: &Map<String, Value>) -> Vec<&String> {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_by(|a, b| match (array_index(a), array_index(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.encode_utf16().cmp(b.encode_utf16()),
    });
    keys
}

/// ECMAScript array index: canonical decimal, 0 ..= 2^32 - 2.
fn array_index(k: &str) -> Option<u32> {
    if k.is_empty() || k.len() > 10 || (k.len() > 1 && k.starts_with('0')) {
        return None;
    }
    if !k.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = k.parse().ok()?;
    (n < u32::MAX as u64).then_some(n as u32)
}

/// JSON.stringify's string escaping (which serde_json shares except in details we pin here).
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_number(out: &mut String, n: &serde_json::Number) {
    if let Some(i) = n.as_i64() {
        // JS prints integers exactly only up to 2^53; beyond, it prints the nearest double.
        if i.unsigned_abs() <= (1u64 << 53) {
            let _ = write!(out, "{i}");
            return;
        }
    } else if let Some(u) = n.as_u64() {
        if u <= (1u64 << 53) {
            let _ = write!(out, "{u}");
            return;
        }
    }
    out.push_str(&js_number_to_string(n.as_f64().unwrap_or(0.0)));
}

/// ECMAScript `Number::toString(x)` for finite doubles (JSON never holds NaN or Infinity).
pub fn js_number_to_string(x: f64) -> String {
    if x == 0.0 {
        return "0".into(); // also -0
    }
    if !x.is_finite() {
        return "null".into(); // what JSON.stringify writes
    }
    let neg = x < 0.0;
    // zmij (which serde_json already links) gives the shortest round-trip digits, the closest to x
    // when several are as short (what ECMAScript asks); it is much smaller than `{:e}`'s
    // Grisu/Dragon code. Its layout ("1.5", "1e21", "1.2345e-10", ...) is read back generically:
    // digits without leading/trailing zeros, and n such that value = 0.digits × 10^n.
    let mut buf = zmij::Buffer::new();
    let printed = buf.format_finite(x.abs());
    let (mant, exp) = printed.split_once(['e', 'E']).unwrap_or((printed, "0"));
    let int_len = mant.find('.').unwrap_or(mant.len()) as i32;
    let all = mant.replace('.', "");
    let trimmed = all.trim_start_matches('0');
    let n = int_len + exp.trim_start_matches('+').parse::<i32>().unwrap_or(0) - (all.len() - trimmed.len()) as i32;
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
        let _ = write!(s, "e{}{}", if n >= 1 { "+" } else { "-" }, (n - 1).abs());
    }
    s
}

/// TanStack's `partialMatchKey(a, b)`: does filter key `b` match query key `a`?
/// Arrays and objects match when every entry of `b` matches the same entry of `a`
/// (so `['list']` matches `['list', 'wo']`, and `{page: 1}` matches `{page: 1, size: 20}`).
pub fn partial_match_key(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(xa), Value::Array(xb)) => {
            xb.len() <= xa.len() && xa.iter().zip(xb).all(|(x, y)| partial_match_key(x, y))
        }
        (Value::Object(ma), Value::Object(mb)) => mb
            .iter()
            .all(|(k, vb)| ma.get(k).is_some_and(|va| partial_match_key(va, vb))),
        (Value::Array(xa), Value::Object(mb)) => mb.iter().all(|(k, vb)| {
            array_index(k).and_then(|i| xa.get(i as usize)).is_some_and(|va| partial_match_key(va, vb))
        }),
        (Value::Object(ma), Value::Array(xb)) => xb
            .iter()
            .enumerate()
            .all(|(i, vb)| ma.get(&i.to_string()).is_some_and(|va| partial_match_key(va, vb))),
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// The hash of `key`'s first `len` elements, used to find prefix relations without rescanning.
pub fn prefix_hash(key: &[Value], len: usize) -> String {
    let mut out = String::from("[");
    for (i, item) in key[..len.min(key.len())].iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_value(&mut out, item);
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_print_like_javascript() {
        for (x, js) in [
            (1.0, "1"),
            (1.5, "1.5"),
            (-0.0, "0"),
            (0.1, "0.1"),
            (1e21, "1e+21"),
            (1e16, "10000000000000000"),
            (123456789012345680000.0, "123456789012345680000"),
            (1e-7, "1e-7"),
            (0.000001, "0.000001"),
            (1.2345e-10, "1.2345e-10"),
            (-2.5e30, "-2.5e+30"),
        ] {
            assert_eq!(js_number_to_string(x), js, "{x}");
        }
    }

    #[test]
    fn object_keys_sorted_with_indices_first() {
        let k = json!(["a", {"b": 1, "10": 2, "2": 3, "a": {"z": 1, "y": 2}}]);
        assert_eq!(hash_key(&k), r#"["a",{"2":3,"10":2,"a":{"y":2,"z":1},"b":1}]"#);
    }

    #[test]
    fn partial_match_is_prefix_and_subset() {
        assert!(partial_match_key(&json!(["list", "wo", "f1", {"page": 1}]), &json!(["list", "wo"])));
        assert!(partial_match_key(&json!(["x", {"page": 1, "size": 2}]), &json!(["x", {"page": 1}])));
        assert!(!partial_match_key(&json!(["x", {"page": 1}]), &json!(["x", {"page": 1, "size": 2}])));
        assert!(!partial_match_key(&json!(["list"]), &json!(["list", "wo"])));
        assert!(partial_match_key(&json!(["a"]), &json!([])));
    }
}

